"""The board of a campaign scenario: profile overrides drawn from the profile's whole range.

What is drawn (weights are probabilities; "log-uniform a–b" spreads evenly over the decades):

* **the board**: temperature −40…85 °C, the profile's whole range (70 % uniform, 30 % at
  −40/−25/0/20/45/70/85); supercap tolerance −0.2…0.8 (uniform, 20 % at the −0.2 end) and
  ageing 0…0.3, ESR ageing rising with it to 3× at 0.3 (the Eaton row's end of life: ΔC 30 %,
  ESR 300 %); capacitance: the profile's 1 F (40 %), 0.1/0.22/0.33/0.47/1.5 F (40 %), or a
  coin-cell part (ESR 20–100 Ω, 1 MΩ leakage, 0.1–0.47 F; 20 %); battery good (50 %), weak
  (25 %: 30 % of those by ``battery.state`` weak or undervoltage, else 2.4 V, or 40 % of
  those anywhere in 2.05–2.49 V, between cut-off and undervoltage), absent (25 %, 30 % of
  those by ``battery.state``); topology battery+supercap (30 %), battery-first (25 %),
  supercap-only (20 %), diode-or (15 %), battery-only (10 %); wake interrupt (60 %) or
  polling (40 %, period 1 s, or 40 % of the time log-uniform 0.1–5 s); bias static (60 %) or
  pulsed; radio fitted (80 %); RTC drift ±20 ppm in 30 %.
* **the rest of the board, more widely**: each group below is drawn in 25 % of scenarios (each
  on its own), else left at the profile's value; all log-uniform unless said:

  ==========  ===============================================================================
  group       keys and ranges
  ==========  ===============================================================================
  supply      rail 5–24 V; power-fail level 50–90 % of it (uniform); bulk hold-up 2–500 ms
              (10 % of those: none at all)
  supercap    leakage 100 kΩ–10 MΩ; charge resistor 1–47 kΩ; rating 5.0 or 5.5 V and a
              charge source from 3.3 V to it (uniform); leakage doubling 10–30 °C, cold C
              ratio 0.5–1, cold ESR ratio 1–4 (uniform)
  battery     capacity 0.01–1200 mAh (a cell near its end runs out inside an outage); internal
              resistance 5–200 Ω
  mcu         active 0.1–5 mA; sleep 0.5–20 µA, its 85 °C ratio 1–5 (uniform); brown-out
              1.6–2.8 V (uniform); wake 0.2–10 ms
  cover       pull-up 0.5–50 µA; bias pulse 0.1–10 ms in a period of 0.25–5 s; sampling
              1–20 ms with 2–20 equal samples, and a bounce of 0.1 ms up to 80 % of that
              debounce and at most 5 ms (half the gap between operations, uniform); the
              battery-domain tamper latch (50 % of those)
  nvm         page 64/128/256/512 bytes (uniform); write 1–10 ms at 1–5 mA
  rtc         current 0.2–2 µA; minimum voltage 1.2–2.0 V (uniform)
  radio       burst 10–300 mA for 20 ms–2 s
  parts       each selector (supercap, NVM, battery, radio module) half the time a catalogue
              row or ``custom``; a redistribution branch 0–0.6 F (uniform) through 100 Ω–
              100 kΩ half the time; rated temperatures −40/−25 and 70/85 °C; report retries
              0–3 a 0.1–2 s gap apart (half the time), a two-phase report profile (30 %);
              passivation 1–200 Ω, its cold ratio 1–5, self-discharge 0.5–3 %/year, a cell
              0–95 % drawn (30 % of fresh ones); quiescent 0.5–20 µA, NVM standby
              0.1–5 µA, its minimum 1.7–2.5 V, an IR receiver of 1–100 µA (half the time)
  firmware    write margin 0–0.2 V (uniform)
  meter       the meter's UTC offset −12…+14 h in quarter hours (uniform)
  ==========  ===============================================================================

* **boundary equalities** (10 % of scenarios): one edge of the table in hardware/boundaries.py
  laid on the board drawn so far — a voltage equal to its threshold (battery at undervoltage,
  brown-out at the RTC's minimum or at the supercapacitor's rest voltage, charge source at the
  rating, …), a pulse as long as its period, a zero current, time or resistance. An edge the
  profile refuses on that board is skipped for the next one drawn (up to five); the scenario's
  name ends with the edge it got, e.g. ``[battery.voltage_v == battery.undervoltage_v]``.

Must not know: the scenario's timeline (generate.py), the adversarial timings (adversaries.py),
the simulator; it asks the profile only whether a boundary edge is a board it accepts.
"""

from __future__ import annotations

import random

from meterseal.hardware.board import BoardParams
from meterseal.hardware.boundaries import BOUNDARIES, full_values
from meterseal.hardware.catalog import CUSTOM, PARTS, SELECTORS
from meterseal.hardware.profile import ProfileError, resolve_profile
from meterseal.verify.campaign.sampling import GAP_US, S, log_uniform_f, pick


def draw_board(rng: random.Random) -> tuple[dict[str, object], str]:
    o: dict[str, object] = {}
    if rng.random() < 0.7:
        o["ambient.temperature_c"] = round(rng.uniform(-40.0, 85.0), 1)
    else:
        o["ambient.temperature_c"] = rng.choice((-40.0, -25.0, 0.0, 20.0, 45.0, 70.0, 85.0))
    o["supercap.tolerance"] = -0.2 if rng.random() < 0.2 else round(rng.uniform(-0.2, 0.8), 3)
    ageing = round(rng.uniform(0.0, 0.3), 3)
    o["supercap.ageing"] = ageing
    o["supercap.esr_ageing_factor"] = round(1.0 + 2.0 * ageing / 0.3, 4)
    if rng.random() < 0.2:  # a coin-cell part
        o["supercap.capacitance_f"] = rng.choice((0.1, 0.22, 0.33, 0.47))
        o["supercap.esr_ohm"] = round(rng.uniform(20.0, 100.0), 1)
        o["supercap.leakage_ohm"] = 1_000_000.0
    elif rng.random() < 0.5:
        o["supercap.capacitance_f"] = rng.choice((0.1, 0.22, 0.33, 0.47, 1.5))
    battery = pick(rng, ("good", "weak", "absent"), (0.5, 0.25, 0.25))
    if battery == "weak" and rng.random() < 0.3:  # the cell's curve (battery.py) sets the volts
        o["battery.state"] = rng.choice(("weak", "undervoltage"))
    elif battery == "weak":
        o["battery.voltage_v"] = 2.4 if rng.random() < 0.6 else round(rng.uniform(2.05, 2.49), 3)
    elif battery == "absent":
        if rng.random() < 0.3:
            o["battery.state"] = "absent"
        else:
            o["battery.present"] = False
    o["supply.topology"] = pick(rng, ("battery+supercap", "battery-first", "supercap-only",
                                       "diode-or", "battery-only"),
                                 (0.30, 0.25, 0.20, 0.15, 0.10))
    o["mcu.wake_mode"] = pick(rng, ("interrupt", "polling"), (0.6, 0.4))
    if o["mcu.wake_mode"] == "polling" and rng.random() < 0.4:
        o["mcu.poll_period_s"] = log_uniform_f(rng, 0.1, 5.0)
    o["cover.bias"] = pick(rng, ("static", "pulsed"), (0.6, 0.4))
    if rng.random() < 0.2:
        o["radio.present"] = False
    if rng.random() < 0.3:
        o["rtc.drift_ppm"] = round(rng.uniform(-20.0, 20.0), 2)
    for group in _WIDE:
        if rng.random() < WIDE_SHARE:
            group(rng, o)
    return o, battery


WIDE_SHARE = 0.25  # each group of wider draws, on its own


def _wide_supply(rng: random.Random, o: dict[str, object]) -> None:
    rail = log_uniform_f(rng, 5.0, 24.0)
    o["supply.rail_v"] = rail
    o["supply.power_fail_v"] = round(rail * rng.uniform(0.5, 0.9), 3)
    o["supply.bulk_holdup_s"] = 0.0 if rng.random() < 0.1 else log_uniform_f(rng, 0.002, 0.5)


def _wide_supercap(rng: random.Random, o: dict[str, object]) -> None:
    o["supercap.leakage_ohm"] = log_uniform_f(rng, 1e5, 1e7)
    o["supercap.charge_resistor_ohm"] = log_uniform_f(rng, 1e3, 4.7e4)
    rated = rng.choice((5.0, 5.5))
    o["supercap.rated_v"] = rated
    o["supercap.charge_source_v"] = round(rng.uniform(3.3, rated), 3)
    o["supercap.leakage_doubling_c"] = round(rng.uniform(10.0, 30.0), 2)
    o["supercap.c_ratio_cold"] = round(rng.uniform(0.5, 1.0), 3)
    o["supercap.esr_ratio_cold"] = round(rng.uniform(1.0, 4.0), 3)


def _wide_battery(rng: random.Random, o: dict[str, object]) -> None:
    o["battery.capacity_mah"] = log_uniform_f(rng, 0.01, 1200.0)
    o["battery.internal_resistance_ohm"] = log_uniform_f(rng, 5.0, 200.0)


def _wide_mcu(rng: random.Random, o: dict[str, object]) -> None:
    o["mcu.active_current_a"] = log_uniform_f(rng, 1e-4, 5e-3)
    o["mcu.sleep_current_a"] = log_uniform_f(rng, 5e-7, 2e-5)
    o["mcu.sleep_current_ratio_85c"] = round(rng.uniform(1.0, 5.0), 3)
    o["mcu.brownout_v"] = round(rng.uniform(1.6, 2.8), 3)
    o["mcu.wake_time_s"] = log_uniform_f(rng, 2e-4, 1e-2)


def _wide_cover(rng: random.Random, o: dict[str, object]) -> None:
    o["cover.pullup_current_a"] = log_uniform_f(rng, 5e-7, 5e-5)
    o["cover.bias_pulse_s"] = log_uniform_f(rng, 1e-4, 1e-2)
    o["cover.bias_period_s"] = log_uniform_f(rng, 0.25, 5.0)
    sample_s = round(log_uniform_f(rng, 1e-3, 2e-2), 4)
    samples = rng.randint(2, 20)
    o["cover.sample_period_s"] = sample_s
    o["cover.debounce_samples"] = samples
    # Operations are GAP_US apart, twice the bounce, so that each transition bounces in full
    # (the kernel cuts a bounce short at the next transition).
    o["cover.bounce_s"] = round(rng.uniform(1e-4, min(GAP_US / 2 / S, 0.8 * samples * sample_s)),
                                6)
    if rng.random() < 0.5:
        o["cover.tamper_latch"] = True
    if rng.random() < 0.5:
        # a second switch under the terminal cover: its pull-up on the same backup, and no
        # record may come of it while nobody touches that cover
        o["terminal_cover.present"] = True


def _wide_nvm(rng: random.Random, o: dict[str, object]) -> None:
    o["nvm.page_size"] = rng.choice((64, 128, 256, 512))
    o["nvm.page_write_time_s"] = log_uniform_f(rng, 1e-3, 1e-2)
    o["nvm.write_current_a"] = log_uniform_f(rng, 1e-3, 5e-3)


def _wide_rtc(rng: random.Random, o: dict[str, object]) -> None:
    o["rtc.current_a"] = log_uniform_f(rng, 2e-7, 2e-6)
    o["rtc.min_voltage_v"] = round(rng.uniform(1.2, 2.0), 3)


def _wide_radio(rng: random.Random, o: dict[str, object]) -> None:
    o["radio.burst_current_a"] = log_uniform_f(rng, 0.01, 0.3)
    o["radio.burst_s"] = log_uniform_f(rng, 0.02, 2.0)


def _wide_parts(rng: random.Random, o: dict[str, object]) -> None:
    # A catalogue row sets its keys first; what this board drew above still overrides it.
    for selector in SELECTORS:
        if rng.random() < 0.5:
            o[selector] = rng.choice([p.name for p in PARTS if p.selects == selector] + [CUSTOM])
    if rng.random() < 0.5:
        o["supercap.redistribution_f"] = round(rng.uniform(0.0, 0.6), 4)
        o["supercap.redistribution_ohm"] = log_uniform_f(rng, 100.0, 1e5)
    o["supercap.min_temperature_c"] = rng.choice((-40.0, -25.0))
    o["supercap.max_temperature_c"] = rng.choice((70.0, 85.0))
    if rng.random() < 0.5:
        o["radio.retries"] = rng.randint(0, 3)
        o["radio.retry_gap_s"] = log_uniform_f(rng, 0.1, 2.0)
    if rng.random() < 0.3:
        o["radio.profile"] = (f"{log_uniform_f(rng, 0.01, 0.1)}x{log_uniform_f(rng, 0.01, 1.0)},"
                              f" {log_uniform_f(rng, 0.05, 0.3)}x{log_uniform_f(rng, 0.01, 0.5)}")
    o["battery.passivation_ohm"] = log_uniform_f(rng, 1.0, 200.0)
    o["battery.passivation_ratio_cold"] = round(rng.uniform(1.0, 5.0), 3)
    o["battery.self_discharge_per_year"] = round(rng.uniform(0.005, 0.03), 4)
    if o.get("battery.present", True) and "battery.state" not in o and rng.random() < 0.3:
        o["battery.initial_drawn_fraction"] = round(rng.uniform(0.0, 0.95), 3)
    o["supply.quiescent_current_a"] = log_uniform_f(rng, 5e-7, 2e-5)
    o["nvm.standby_current_a"] = log_uniform_f(rng, 1e-7, 5e-6)
    o["nvm.min_voltage_v"] = round(rng.uniform(1.7, 2.5), 3)
    o["mcu.ir_receiver_current_a"] = 0.0 if rng.random() < 0.5 else log_uniform_f(rng, 1e-6, 1e-4)


def _wide_firmware(rng: random.Random, o: dict[str, object]) -> None:
    o["firmware.write_margin_v"] = round(rng.uniform(0.0, 0.2), 3)


def _wide_meter(rng: random.Random, o: dict[str, object]) -> None:
    o["meter.utc_offset_h"] = rng.randint(-48, 56) / 4


def _wide_security(rng: random.Random, o: dict[str, object]) -> None:
    # The record chain's MAC: off, or a module from cheap to dearer than a page write.
    if rng.random() < 0.2:
        o["security.record_mac"] = False
        return
    o["security.mac_current_a"] = log_uniform_f(rng, 1e-4, 0.03)
    o["security.mac_time_s"] = log_uniform_f(rng, 1e-4, 0.1)


_WIDE = (_wide_supply, _wide_supercap, _wide_battery, _wide_mcu, _wide_cover, _wide_nvm,
         _wide_rtc, _wide_radio, _wide_parts, _wide_firmware, _wide_meter, _wide_security)

BOUNDARY_SHARE = 0.10
_BOUNDARY_TRIES = 5


def draw_boundary(rng: random.Random, o: dict[str, object]) -> tuple[dict[str, object], str | None]:
    """The board ``o`` on one boundary equality (BOUNDARY_SHARE of scenarios): the overrides and
    the edge's name, or ``o`` unchanged and None."""
    if rng.random() >= BOUNDARY_SHARE:
        return o, None
    for _ in range(_BOUNDARY_TRIES):
        b = rng.choice(BOUNDARIES)
        trial = {**o, **b.apply(full_values(o))}
        try:
            BoardParams.from_profile(resolve_profile(trial))
        except ProfileError:
            continue
        return trial, b.name
    return o, None
