"""Random campaign scenarios as a pure function of (campaign seed, index).

Owns what a campaign randomises and with which statistics. ``draw(seed, index)`` gives the same
Scenario in any process, on any worker, in any order: its random stream is seeded from a hash
of the two numbers alone, and the one simulation it may run (the probe, below) is deterministic.
It knows the scenario and profile contracts and reads the kernel's log; it judges nothing.

What is drawn (weights are probabilities; "log-uniform a–b" spreads evenly over the decades):

* **outages**: 0–6 of them (0: 5 %, 1: 30 %, 2: 25 %, 3: 15 %, 4: 10 %, 5: 8 %, 6: 7 %), each
  length from a mixture — flicker 5 ms–1 s (30 %: some end inside the PSU's bulk hold-up, so the
  MCU never leaves the rail), short 1 s–10 min (25 %), long 10 min–12 h (30 %), multi-day
  12 h–5 d (15 %) — all log-uniform; gaps between outages log-uniform 20 ms–2 d (short gaps
  find the supercapacitor part-charged). 8 % of scenarios add mains chatter: 5–50 drops of
  20–300 ms, 50–500 ms apart. 10 % of the non-adversarial ones end while the last outage is
  still running.
* **cover operations**: 0–5 (or 6 with chatter); each opening lands inside an outage (60 %), near
  an outage's start or end (±1 s, 15 %) or anywhere (25 %); open for sub-debounce 10–45 ms
  (10 %), brief 45 ms–5 s (25 %), minutes 5 s–1 h (30 %), hours to days 1 h–3 d (25 %), or for
  good (10 %, the last one only); at least 10 ms apart (twice the switch's bounce).
* **faults**: a power cut at a uniform instant in 10 % of scenarios.
* **loads**: 1–3 steps of import 0–8 kW, export 0–5 kW in 20 % of steps.
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
  pulsed; radio fitted (80 %); RTC drift ±20 ppm in 30 %; start anywhere in 2024–2098, offset
  +08:00 (80 %) or UTC.
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

**Adversarial timings** (50 % of scenarios), at the state boundaries where recorders break; the
operation lands at the boundary ± a few ms (uniform, µs resolution):

=================  ==========================================================================
kind               where
=================  ==========================================================================
power-fail-window  an edge inside the power-fail window of an outage: at the comparator trip
                   (``bulk_holdup_s·(1 − power_fail_v/rail_v)`` after mains loss) ± 3 ms, at the
                   end of the bulk hold-up (the MCU leaves the rail) ± 3 ms, or anywhere in
                   −5 ms … hold-up + 5 ms (20 %)
restore-debounce   an edge within the debounce of a restore: from −10 ms to debounce + two
                   samples + bounce + 5 ms before mains returns, or up to one debounce after
                   (25 %)
brownout           an edge at the instant the MCU's supply crossed its brown-out level (15 %)
watch-end          an edge at the instant the firmware stopped watching (15 %)
nvm-write-cut      a power cut inside an NVM page write (15 %)
nvm-write-cover    a cover edge inside an NVM page write (10 %)
=================  ==========================================================================

Where the boundary's instant is not known from the profile (brown-out, watch end, NVM writes),
the generator runs the scenario once without the adversarial operation (the *probe*) and reads
the instants from the kernel's log: ``outages[].brownout_us / watch_until_us`` and the NVM
snapshots' times minus ``nvm.page_write_time_s``. Everything before the boundary is the same in
the probe and the final scenario (the simulation is causal and the operations before it draw the
same switch bounce), so the operation lands where it was aimed. The edge is an opening when the
cover is closed there (then open for a drawn length), or the closing of the operation in
progress. For brownout and watch-end a multi-day outage (2–8 d) is appended so the backup can run
out; if the probe shows no such instant, or the edge cannot be placed clear of another operation,
the scenario falls back to the next kind that applies, and to ``random`` in the end (``kind``
records what was done). If the probe itself raises, the base scenario is kept unchanged with
kind ``probe-raised``: its run raises too, and the campaign reports it like any failure.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from meterseal.hardware.board import BoardParams
from meterseal.hardware.boundaries import BOUNDARIES, full_values
from meterseal.hardware.catalog import CUSTOM, PARTS, SELECTORS
from meterseal.hardware.profile import ProfileError, resolve_profile
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import CoverOp, Fault, LoadStep, Outage, Scenario

__all__ = ["ADVERSARIAL_KINDS", "KINDS", "PROBE_RAISED", "Drawn", "draw", "scenario_rng"]

MS = 1_000
S = 1_000_000
MIN = 60 * S
H = 60 * MIN
DAY = 24 * H

GAP_US = 10 * MS  # between two cover operations, and the shortest one: twice the bounce
JITTER_US = 5 * MS

ADVERSARIAL_KINDS = (
    "power-fail-window",
    "restore-debounce",
    "brownout",
    "watch-end",
    "nvm-write-cut",
    "nvm-write-cover",
)
KINDS = ("random", *ADVERSARIAL_KINDS)
PROBE_RAISED = "probe-raised"  # the probe run raised: the base scenario is kept as it is
_ADV_WEIGHTS = (0.20, 0.25, 0.15, 0.15, 0.15, 0.10)
_FALLBACK = {  # what to try when a kind cannot be placed
    "brownout": "watch-end",
    "watch-end": "restore-debounce",
    "nvm-write-cut": "power-fail-window",
    "nvm-write-cover": "nvm-write-cut",
    "power-fail-window": "restore-debounce",
    "restore-debounce": "random",
}

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8)))
_START_SPAN_S = (datetime(2098, 1, 1, tzinfo=_EPOCH.tzinfo) - _EPOCH) // timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Drawn:
    """One campaign scenario and how it was made (the parameters the results table shows)."""

    index: int
    seed: int
    scenario: Scenario
    kind: str  # "random" or one of ADVERSARIAL_KINDS (what was actually placed)
    battery: str  # good | weak | absent
    boundary_us: int | None  # the state boundary aimed at (None for random)
    placed_us: int | None  # where the adversarial edge or cut landed


def scenario_rng(seed: int, index: int) -> random.Random:
    """The random stream of scenario ``index`` of campaign ``seed``: a hash of both numbers only
    (never Python's salted ``hash``), so any worker draws the same scenario."""
    digest = hashlib.blake2b(f"meterseal-campaign/{seed}/{index}".encode(), digest_size=16)
    return random.Random(int.from_bytes(digest.digest(), "big"))


def _log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _pick(rng: random.Random, options: tuple, weights: tuple[float, ...]):  # type: ignore[no-untyped-def, type-arg]
    return rng.choices(options, weights=weights)[0]


# ---------------------------------------------------------------------------------------- board

def _board(rng: random.Random) -> tuple[dict[str, object], str]:
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
    battery = _pick(rng, ("good", "weak", "absent"), (0.5, 0.25, 0.25))
    if battery == "weak" and rng.random() < 0.3:  # the cell's curve (battery.py) sets the volts
        o["battery.state"] = rng.choice(("weak", "undervoltage"))
    elif battery == "weak":
        o["battery.voltage_v"] = 2.4 if rng.random() < 0.6 else round(rng.uniform(2.05, 2.49), 3)
    elif battery == "absent":
        if rng.random() < 0.3:
            o["battery.state"] = "absent"
        else:
            o["battery.present"] = False
    o["supply.topology"] = _pick(rng, ("battery+supercap", "battery-first", "supercap-only",
                                       "diode-or", "battery-only"),
                                 (0.30, 0.25, 0.20, 0.15, 0.10))
    o["mcu.wake_mode"] = _pick(rng, ("interrupt", "polling"), (0.6, 0.4))
    if o["mcu.wake_mode"] == "polling" and rng.random() < 0.4:
        o["mcu.poll_period_s"] = _log_uniform_f(rng, 0.1, 5.0)
    o["cover.bias"] = _pick(rng, ("static", "pulsed"), (0.6, 0.4))
    if rng.random() < 0.2:
        o["radio.present"] = False
    if rng.random() < 0.3:
        o["rtc.drift_ppm"] = round(rng.uniform(-20.0, 20.0), 2)
    for group in _WIDE:
        if rng.random() < WIDE_SHARE:
            group(rng, o)
    return o, battery


def _log_uniform_f(rng: random.Random, lo: float, hi: float) -> float:
    """Log-uniform in [lo, hi], to four significant digits (reads back from TOML exactly)."""
    return float(f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.4g}")


WIDE_SHARE = 0.25  # each group of wider draws, on its own


def _wide_supply(rng: random.Random, o: dict[str, object]) -> None:
    rail = _log_uniform_f(rng, 5.0, 24.0)
    o["supply.rail_v"] = rail
    o["supply.power_fail_v"] = round(rail * rng.uniform(0.5, 0.9), 3)
    o["supply.bulk_holdup_s"] = 0.0 if rng.random() < 0.1 else _log_uniform_f(rng, 0.002, 0.5)


def _wide_supercap(rng: random.Random, o: dict[str, object]) -> None:
    o["supercap.leakage_ohm"] = _log_uniform_f(rng, 1e5, 1e7)
    o["supercap.charge_resistor_ohm"] = _log_uniform_f(rng, 1e3, 4.7e4)
    rated = rng.choice((5.0, 5.5))
    o["supercap.rated_v"] = rated
    o["supercap.charge_source_v"] = round(rng.uniform(3.3, rated), 3)
    o["supercap.leakage_doubling_c"] = round(rng.uniform(10.0, 30.0), 2)
    o["supercap.c_ratio_cold"] = round(rng.uniform(0.5, 1.0), 3)
    o["supercap.esr_ratio_cold"] = round(rng.uniform(1.0, 4.0), 3)


def _wide_battery(rng: random.Random, o: dict[str, object]) -> None:
    o["battery.capacity_mah"] = _log_uniform_f(rng, 0.01, 1200.0)
    o["battery.internal_resistance_ohm"] = _log_uniform_f(rng, 5.0, 200.0)


def _wide_mcu(rng: random.Random, o: dict[str, object]) -> None:
    o["mcu.active_current_a"] = _log_uniform_f(rng, 1e-4, 5e-3)
    o["mcu.sleep_current_a"] = _log_uniform_f(rng, 5e-7, 2e-5)
    o["mcu.sleep_current_ratio_85c"] = round(rng.uniform(1.0, 5.0), 3)
    o["mcu.brownout_v"] = round(rng.uniform(1.6, 2.8), 3)
    o["mcu.wake_time_s"] = _log_uniform_f(rng, 2e-4, 1e-2)


def _wide_cover(rng: random.Random, o: dict[str, object]) -> None:
    o["cover.pullup_current_a"] = _log_uniform_f(rng, 5e-7, 5e-5)
    o["cover.bias_pulse_s"] = _log_uniform_f(rng, 1e-4, 1e-2)
    o["cover.bias_period_s"] = _log_uniform_f(rng, 0.25, 5.0)
    sample_s = round(_log_uniform_f(rng, 1e-3, 2e-2), 4)
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
    o["nvm.page_write_time_s"] = _log_uniform_f(rng, 1e-3, 1e-2)
    o["nvm.write_current_a"] = _log_uniform_f(rng, 1e-3, 5e-3)


def _wide_rtc(rng: random.Random, o: dict[str, object]) -> None:
    o["rtc.current_a"] = _log_uniform_f(rng, 2e-7, 2e-6)
    o["rtc.min_voltage_v"] = round(rng.uniform(1.2, 2.0), 3)


def _wide_radio(rng: random.Random, o: dict[str, object]) -> None:
    o["radio.burst_current_a"] = _log_uniform_f(rng, 0.01, 0.3)
    o["radio.burst_s"] = _log_uniform_f(rng, 0.02, 2.0)


def _wide_parts(rng: random.Random, o: dict[str, object]) -> None:
    # A catalogue row sets its keys first; what this board drew above still overrides it.
    for selector in SELECTORS:
        if rng.random() < 0.5:
            o[selector] = rng.choice([p.name for p in PARTS if p.selects == selector] + [CUSTOM])
    if rng.random() < 0.5:
        o["supercap.redistribution_f"] = round(rng.uniform(0.0, 0.6), 4)
        o["supercap.redistribution_ohm"] = _log_uniform_f(rng, 100.0, 1e5)
    o["supercap.min_temperature_c"] = rng.choice((-40.0, -25.0))
    o["supercap.max_temperature_c"] = rng.choice((70.0, 85.0))
    if rng.random() < 0.5:
        o["radio.retries"] = rng.randint(0, 3)
        o["radio.retry_gap_s"] = _log_uniform_f(rng, 0.1, 2.0)
    if rng.random() < 0.3:
        o["radio.profile"] = (f"{_log_uniform_f(rng, 0.01, 0.1)}x{_log_uniform_f(rng, 0.01, 1.0)},"
                              f" {_log_uniform_f(rng, 0.05, 0.3)}x{_log_uniform_f(rng, 0.01, 0.5)}")
    o["battery.passivation_ohm"] = _log_uniform_f(rng, 1.0, 200.0)
    o["battery.passivation_ratio_cold"] = round(rng.uniform(1.0, 5.0), 3)
    o["battery.self_discharge_per_year"] = round(rng.uniform(0.005, 0.03), 4)
    if o.get("battery.present", True) and "battery.state" not in o and rng.random() < 0.3:
        o["battery.initial_drawn_fraction"] = round(rng.uniform(0.0, 0.95), 3)
    o["supply.quiescent_current_a"] = _log_uniform_f(rng, 5e-7, 2e-5)
    o["nvm.standby_current_a"] = _log_uniform_f(rng, 1e-7, 5e-6)
    o["nvm.min_voltage_v"] = round(rng.uniform(1.7, 2.5), 3)
    o["mcu.ir_receiver_current_a"] = 0.0 if rng.random() < 0.5 else _log_uniform_f(rng, 1e-6, 1e-4)


def _wide_firmware(rng: random.Random, o: dict[str, object]) -> None:
    o["firmware.write_margin_v"] = round(rng.uniform(0.0, 0.2), 3)


def _wide_meter(rng: random.Random, o: dict[str, object]) -> None:
    o["meter.utc_offset_h"] = rng.randint(-48, 56) / 4


def _wide_security(rng: random.Random, o: dict[str, object]) -> None:
    # The record chain's MAC: off, or a module from cheap to dearer than a page write.
    if rng.random() < 0.2:
        o["security.record_mac"] = False
        return
    o["security.mac_current_a"] = _log_uniform_f(rng, 1e-4, 0.03)
    o["security.mac_time_s"] = _log_uniform_f(rng, 1e-4, 0.1)


_WIDE = (_wide_supply, _wide_supercap, _wide_battery, _wide_mcu, _wide_cover, _wide_nvm,
         _wide_rtc, _wide_radio, _wide_parts, _wide_firmware, _wide_meter, _wide_security)

BOUNDARY_SHARE = 0.10
_BOUNDARY_TRIES = 5


def _boundary(rng: random.Random, o: dict[str, object]) -> tuple[dict[str, object], str | None]:
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


# --------------------------------------------------------------------------------- timelines

def _outage_length(rng: random.Random) -> int:
    cls = _pick(rng, (0, 1, 2, 3), (0.30, 0.25, 0.30, 0.15))
    lo, hi = ((5 * MS, S), (S, 10 * MIN), (10 * MIN, 12 * H), (12 * H, 5 * DAY))[cls]
    return _log_uniform(rng, lo, hi)


def _outages(rng: random.Random) -> list[Outage]:
    n = _pick(rng, (0, 1, 2, 3, 4, 5, 6), (0.05, 0.30, 0.25, 0.15, 0.10, 0.08, 0.07))
    out: list[Outage] = []
    t = rng.randrange(0, 12 * H)
    for _ in range(n):
        length = _outage_length(rng)
        out.append(Outage(t, length))
        t += length + _log_uniform(rng, 20 * MS, 2 * DAY)
    if rng.random() < 0.08:  # mains chatter
        for _ in range(rng.randint(5, 50)):
            length = rng.randint(20 * MS, 300 * MS)
            out.append(Outage(t, length))
            t += length + rng.randint(50 * MS, 500 * MS)
    return out


def _covers(rng: random.Random, outages: list[Outage], duration_us: int,
            n: int) -> list[CoverOp]:
    anchors = []
    for _ in range(n):
        where = rng.random()
        if outages and where < 0.60:
            o = rng.choice(outages)
            depth = rng.randrange(o.for_us) if rng.random() < 0.5 else _log_uniform(
                rng, MS, max(MS + 1, o.for_us))
            anchors.append(o.at_us + depth)
        elif outages and where < 0.75:
            o = rng.choice(outages)
            edge = o.at_us if rng.random() < 0.5 else o.end_us
            anchors.append(max(0, edge + rng.randint(-S, S)))
        else:
            anchors.append(rng.randrange(duration_us))
    anchors.sort()
    ops: list[CoverOp] = []
    prev_close = -GAP_US
    for k, a in enumerate(anchors):
        open_us = max(a, prev_close + GAP_US)
        if open_us >= duration_us:
            break
        length = _cover_length(rng, last=k == len(anchors) - 1)
        close = None if length is None or open_us + length >= duration_us else open_us + length
        ops.append(CoverOp(open_us, close))
        if close is None:
            break
        prev_close = close
    return ops


def _cover_length(rng: random.Random, last: bool) -> int | None:
    cls = _pick(rng, (0, 1, 2, 3, 4), (0.10, 0.25, 0.30, 0.25, 0.10))
    if cls == 4:
        if last:
            return None
        cls = 3
    lo, hi = ((GAP_US, 45 * MS), (45 * MS, 5 * S), (5 * S, H), (H, 3 * DAY))[cls]
    return _log_uniform(rng, lo, hi)


def _loads(rng: random.Random, duration_us: int) -> tuple[LoadStep, ...]:
    ats = [0, *sorted(rng.randrange(duration_us) for _ in range(rng.randint(0, 2)))]
    steps = []
    for a in ats:
        imp = round(rng.uniform(0.0, 8000.0), 1)
        exp = round(rng.uniform(0.0, 5000.0), 1) if rng.random() < 0.2 else 0.0
        steps.append(LoadStep(a, imp, exp))
    return tuple(steps)


# ------------------------------------------------------------------------------ adversaries

def _edge_at(covers: list[CoverOp], t: int, length: int | None,
             duration_us: int) -> list[CoverOp] | None:
    """The cover operations with a true edge at ``t``: an opening (open ``length``, None = for
    good) where the cover is closed, else the closing of the operation in progress. Operations
    before ``t`` are kept as they are; later ones are dropped where they would collide. None when
    ``t`` is within GAP_US of another edge."""
    if not 0 <= t < duration_us:
        return None
    for i, op in enumerate(covers):
        close = op.close_us if op.close_us is not None else math.inf
        if op.open_us - GAP_US < t < close + GAP_US:
            if t - op.open_us < GAP_US or abs(close - t) < GAP_US:
                return None
            return [*covers[:i], CoverOp(op.open_us, t)]  # close the one in progress at t
    before = [op for op in covers if op.open_us < t]
    new_close = None if length is None or t + length >= duration_us else t + length
    out = [*before, CoverOp(t, new_close)]
    if new_close is not None:
        out += [op for op in covers if op.open_us >= new_close + GAP_US]
    return out


def _adversarial_length(rng: random.Random, debounce_us: int) -> int | None:
    cls = _pick(rng, (0, 1, 2, 3, 4), (0.20, 0.20, 0.25, 0.20, 0.15))
    if cls == 0:
        return rng.randint(GAP_US, 100 * MS)
    if cls == 1:
        return max(GAP_US, debounce_us + rng.randint(-10 * MS, 10 * MS))
    if cls == 2:
        return _log_uniform(rng, 100 * MS, 10 * MIN)
    if cls == 3:
        return _log_uniform(rng, 10 * MIN, 2 * DAY)
    return None


class _ProbeRaised(Exception):
    """The probe run of the base scenario raised (a finding: the base scenario is kept)."""


def _probe(sc: Scenario) -> RunLog:
    return Kernel(sc, trace=False).run()


class _Placer:
    """Tries to place one adversarial kind; returns (covers, faults, boundary, placed) or None."""

    def __init__(self, rng: random.Random, base: Scenario) -> None:
        self.rng = rng
        self.base = base
        p = base.profile
        self.bulk_us = round(float(p["supply.bulk_holdup_s"]) * S)
        self.pf_us = round(self.bulk_us * (1.0 - float(p["supply.power_fail_v"])
                                           / float(p["supply.rail_v"])))
        self.debounce_us = round(float(p["cover.debounce_s"]) * S)
        self.sample_us = round(float(p["cover.sample_period_s"]) * S)
        self.bounce_us = round(float(p["cover.bounce_s"]) * S)
        self.write_us = max(1, round(float(p["nvm.page_write_time_s"]) * S))
        self._log: RunLog | None = None

    @property
    def log(self) -> RunLog:
        if self._log is None:
            try:
                self._log = _probe(self.base)
            except Exception as exc:
                raise _ProbeRaised from exc
        return self._log

    def _edge(self, boundary: int, t: int):  # type: ignore[no-untyped-def]
        base = self.base
        length = _adversarial_length(self.rng, self.debounce_us)
        covers = _edge_at(list(base.cover), t, length, base.duration_us)
        if covers is None:
            return None
        return covers, list(base.faults), boundary, t

    def place(self, kind: str):  # type: ignore[no-untyped-def]
        rng = self.rng
        base = self.base
        outages = [o for o in base.outages if o.at_us < base.duration_us]
        if kind == "power-fail-window":
            if not outages:
                return None
            o = rng.choice(outages)
            how = rng.random()
            if how < 0.35:
                boundary = o.at_us + self.pf_us
                t = boundary + rng.randint(-3 * MS, 3 * MS)
            elif how < 0.7:
                boundary = o.at_us + self.bulk_us
                t = boundary + rng.randint(-3 * MS, 3 * MS)
            else:
                boundary = o.at_us
                t = boundary + rng.randint(-JITTER_US, self.bulk_us + JITTER_US)
            return self._edge(boundary, t)
        if kind == "restore-debounce":
            restored = [o for o in outages if o.end_us < base.duration_us]
            if not restored:
                return None
            o = rng.choice(restored)
            reach = self.debounce_us + 2 * self.sample_us + self.bounce_us + JITTER_US
            after = self.debounce_us if rng.random() < 0.3 else 10 * MS
            t = o.end_us - rng.randint(-after, reach)
            return self._edge(o.end_us, t)
        if kind in ("brownout", "watch-end"):
            attr = "brownout_us" if kind == "brownout" else "watch_until_us"
            instants = [getattr(ol, attr) for ol in self.log.outages]
            instants = [x for x in instants if x is not None and x < base.duration_us]
            if not instants:
                return None
            boundary = rng.choice(instants)
            return self._edge(boundary, boundary + rng.randint(-JITTER_US, JITTER_US))
        # NVM writes: every snapshot but a torn one ends a page write that began write_us before.
        torn = {f.at_us for f in base.faults}
        done = [t for t, _a, _d in self.log.writes if t not in torn and t - self.write_us > 0]
        if not done:
            return None
        if rng.random() < 0.5:  # favour writes on backup, where energy is short
            on_backup = [t for t in done if any(o.at_us <= t < o.end_us for o in outages)]
            done = on_backup or done
        end = rng.choice(done)
        t = end - rng.randint(1, self.write_us - 1 if self.write_us > 1 else 1)
        if kind == "nvm-write-cut":
            faults = sorted([*base.faults, Fault("power-cut", t)], key=lambda f: f.at_us)
            return list(base.cover), faults, end - self.write_us, t
        return self._edge(end - self.write_us, t)


def _long_outage(rng: random.Random, outages: list[Outage]) -> list[Outage]:
    """Append a multi-day outage (2–8 d) after the others, so the backup can run out."""
    t = outages[-1].end_us + _log_uniform(rng, 10 * MIN, 2 * DAY) if outages else rng.randrange(
        0, 12 * H)
    return [*outages, Outage(t, _log_uniform(rng, 2 * DAY, 8 * DAY))]


# ------------------------------------------------------------------------------------ draw

def draw(seed: int, index: int) -> Drawn:
    """Scenario ``index`` of campaign ``seed``: always the same one (see the module docstring)."""
    rng = scenario_rng(seed, index)
    overrides, battery = _board(rng)
    overrides, edge = _boundary(rng, overrides)
    label = f"campaign {seed} #{index}" + (f" [{edge}]" if edge else "")
    outages = _outages(rng)
    adversarial = rng.random() < 0.5
    kind = _pick(rng, ADVERSARIAL_KINDS, _ADV_WEIGHTS) if adversarial else "random"
    if kind in ("brownout", "watch-end"):
        outages = _long_outage(rng, outages)
    last_end = max((o.end_us for o in outages), default=0)
    duration = last_end + _log_uniform(rng, MIN, 2 * DAY)
    if outages and rng.random() < 0.1 and kind == "random":  # end while mains is still out
        last = outages[-1]
        duration = last.at_us + max(1, rng.randrange(last.for_us))
    duration = max(duration, H)
    n_cover = _pick(rng, (0, 1, 2, 3, 4, 5), (0.05, 0.25, 0.25, 0.2, 0.15, 0.1))
    if len(outages) > 8:
        n_cover += 1
    covers = _covers(rng, outages, duration, n_cover)
    faults = [Fault("power-cut", rng.randrange(duration))] if rng.random() < 0.1 else []
    loads = _loads(rng, duration)
    start = _EPOCH + timedelta(seconds=rng.randrange(_START_SPAN_S))
    if rng.random() < 0.2:
        start = start.astimezone(UTC)
    sc_seed = rng.getrandbits(32)
    base = Scenario(
        name=label,
        start=start,
        duration_us=duration,
        seed=sc_seed,
        overrides=tuple(sorted(overrides.items())),
        outages=tuple(outages),
        cover=tuple(covers),
        faults=tuple(faults),
        loads=loads,
    )
    placer = _Placer(rng, base)
    while kind != "random":
        try:
            placed = placer.place(kind)
        except _ProbeRaised:  # keep the scenario that raises: its run raises too, and is kept
            return Drawn(index, seed, base, PROBE_RAISED, battery, None, None)
        if placed is not None:
            new_covers, new_faults, boundary, at = placed
            sc = Scenario(
                name=f"{label} ({kind})",
                start=start,
                duration_us=duration,
                seed=sc_seed,
                overrides=base.overrides,
                outages=base.outages,
                cover=tuple(new_covers),
                faults=tuple(new_faults),
                loads=loads,
                profile=base.profile,
            )
            return Drawn(index, seed, sc, kind, battery, boundary, at)
        kind = _FALLBACK[kind]
    return Drawn(index, seed, base, "random", battery, None, None)


def outage_stats(sc: Scenario) -> tuple[int, float, float]:
    """(count, total seconds, longest seconds) of the outages that start inside the scenario."""
    lens = [o.for_us for o in sc.outages if o.at_us < sc.duration_us]
    return len(lens), sum(lens) / S, max(lens, default=0) / S

