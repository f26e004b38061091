"""Board physics against hand calculations: rc.py, parts.py, battery, cover bounce, RTC, profile.

Each expected value is worked out in the test from the formula it checks, never read back from
the code under test.
"""

from __future__ import annotations

import itertools
import math
import pickle
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from meterseal.hardware.battery import Battery
from meterseal.hardware.cover import MAX_BOUNCES, bounce_edges
from meterseal.hardware.parts import effective_loads, effective_supercap
from meterseal.hardware.profile import (
    PROFILE_NAMES,
    Profile,
    ProfileError,
    list_keys,
    resolve_profile,
)
from meterseal.hardware.rc import esr_drop_v, steady_and_tau, time_to_voltage, voltage_after
from meterseal.hardware.rtc import Rtc, datetime_from_local_ms, local_ms_from_datetime

NO_LEAK_OHM = 1e15


# --- rc.py: the closed form -----------------------------------------------------------------


def test_constant_load_without_leakage_is_linear():
    # 1 F from 5.0 V to 2.0 V at 3 mA: t = C·ΔV/I = 1 × 3 / 0.003 = 1000 s.
    v_inf, tau_s = steady_and_tau(1.0, NO_LEAK_OHM, 0.003)
    assert time_to_voltage(5.0, 2.0, v_inf, tau_s) == pytest.approx(1000.0, rel=1e-6)
    # After 500 s: 5.0 − 0.003 × 500 / 1 = 3.5 V.
    assert voltage_after(5.0, 500.0, v_inf, tau_s) == pytest.approx(3.5, rel=1e-6)


def test_constant_load_other_sizes():
    # 0.47 F, 2 µA, 4.7 V to 2.2 V: t = 0.47 × 2.5 / 2e-6 = 587 500 s.
    v_inf, tau_s = steady_and_tau(0.47, NO_LEAK_OHM, 2e-6)
    assert time_to_voltage(4.7, 2.2, v_inf, tau_s) == pytest.approx(587_500.0, rel=1e-6)


def test_leakage_only_decay():
    # No load: V(t) = V0·e^(−t/RC); R = 420 kΩ, C = 1 F → τ = 420 000 s.
    v_inf, tau_s = steady_and_tau(1.0, 420_000.0, 0.0)
    assert v_inf == 0.0
    assert tau_s == pytest.approx(420_000.0)
    t = 100_000.0
    assert voltage_after(5.0, t, v_inf, tau_s) == pytest.approx(5.0 * math.exp(-t / 420_000.0))
    # Time to half: τ·ln 2.
    assert time_to_voltage(5.0, 2.5, v_inf, tau_s) == pytest.approx(420_000.0 * math.log(2.0))


def test_hardware_md_cross_check_89_8_hours():
    # hardware.md: 1 F, 500 kΩ, 5.0 V, 2 µA + 3 mA × 2 ms every 10 s, to 2.0 V ≈ 89.8 h.
    # Average current: 2e-6 + 3e-3 × 2e-3 / 10 = 2.6e-6 A.
    # t = RC·ln((V0 + I·R)/(V + I·R)) = 5e5 × ln((5 + 1.3)/(2 + 1.3)) = 5e5 × ln(6.3/3.3).
    average_a = 2e-6 + 3e-3 * 2e-3 / 10.0
    hand_s = 5e5 * math.log(6.3 / 3.3)
    assert hand_s / 3600.0 == pytest.approx(89.8, rel=5e-3)
    v_inf, tau_s = steady_and_tau(1.0, 500_000.0, average_a)
    assert v_inf == pytest.approx(-1.3)
    got_s = time_to_voltage(5.0, 2.0, v_inf, tau_s)
    assert got_s == pytest.approx(hand_s, rel=1e-9)
    assert got_s / 3600.0 == pytest.approx(89.8, rel=5e-3)


def test_esr_drop():
    # hardware.md: 3 mA through a 30 Ω coin cell drops 90 mV at once.
    assert esr_drop_v(0.003, 30.0) == pytest.approx(0.090)


def test_resistor_charging_five_tau():
    # 1 F through 4.7 kΩ: τ = 4700 s; after 5τ the voltage is (1 − e^−5) of the source; 5τ ≈ 6.5 h.
    v_inf, tau_s = steady_and_tau(1.0, NO_LEAK_OHM, 0.0, source_v=4.7, charge_ohm=4700.0)
    assert tau_s == pytest.approx(4700.0, rel=1e-9)
    assert v_inf == pytest.approx(4.7, rel=1e-9)
    assert 5 * tau_s / 3600.0 == pytest.approx(6.53, abs=0.01)
    assert voltage_after(0.0, 5 * tau_s, v_inf, tau_s) == pytest.approx(4.7 * (1 - math.exp(-5)))
    assert time_to_voltage(0.0, 4.7 * (1 - math.exp(-5)), v_inf, tau_s) == pytest.approx(5 * 4700.0)


def test_charging_with_leakage_divides_the_source():
    # With leakage the asymptote is the divider Vs·R_leak/(R_leak + Rc) and τ = C·(Rc ∥ R_leak).
    v_inf, tau_s = steady_and_tau(1.0, 420_000.0, 0.0, source_v=4.7, charge_ohm=4700.0)
    assert v_inf == pytest.approx(4.7 * 420_000.0 / (420_000.0 + 4700.0))
    assert tau_s == pytest.approx(4700.0 * 420_000.0 / (420_000.0 + 4700.0))


def test_charging_needs_both_source_and_resistor():
    assert steady_and_tau(1.0, 1e6, 0.0, source_v=4.7) == steady_and_tau(1.0, 1e6, 0.0)


def test_time_to_voltage_edge_cases():
    v_inf, tau_s = steady_and_tau(1.0, 420_000.0, 1e-6)  # falls towards −0.42 V
    assert time_to_voltage(3.0, 3.0, v_inf, tau_s) == 0.0  # already there
    assert time_to_voltage(3.0, 4.0, v_inf, tau_s) == math.inf  # moving away from it
    assert time_to_voltage(3.0, v_inf, v_inf, tau_s) == math.inf  # the asymptote
    assert time_to_voltage(3.0, -1.0, v_inf, tau_s) == math.inf  # beyond the asymptote
    assert time_to_voltage(3.0, 2.0, v_inf, tau_s) > 0.0


def test_infinite_leakage_without_charging_is_refused():
    with pytest.raises(ValueError, match="leakage"):
        steady_and_tau(1.0, math.inf, 1e-6)


volts = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False)
seconds = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
taus = st.floats(min_value=1.0, max_value=1e7, allow_nan=False)


@given(v0=volts, a=seconds, b=seconds, v_inf=volts, tau_s=taus)
def test_voltage_after_composes(v0, a, b, v_inf, tau_s):
    once = voltage_after(v0, a + b, v_inf, tau_s)
    twice = voltage_after(voltage_after(v0, a, v_inf, tau_s), b, v_inf, tau_s)
    assert twice == pytest.approx(once, rel=1e-9, abs=1e-9)


@given(v0=volts, t=st.floats(min_value=1e-3, max_value=1e6), v_inf=volts, tau_s=taus)
def test_time_to_voltage_inverts_voltage_after(v0, t, v_inf, tau_s):
    # Only where the voltage has moved measurably (else the inverse is ill-conditioned).
    v1 = voltage_after(v0, t, v_inf, tau_s)
    assume(abs(v1 - v0) > 1e-6 * max(1.0, abs(v0)) and abs(v1 - v_inf) > 1e-6)
    assert time_to_voltage(v0, v1, v_inf, tau_s) == pytest.approx(t, rel=1e-6)


# --- parts.py: temperature, tolerance, ageing ----------------------------------------------


def test_effective_supercap_nominal_at_20c():
    sc = effective_supercap(resolve_profile({}, 'supercap-watch'))
    assert (sc.capacitance_f, sc.esr_ohm, sc.leakage_ohm) == (1.0, 0.5, 420_000.0)


def test_effective_supercap_cold_gives_cold_ratios():
    profile = resolve_profile({"ambient.temperature_c": -25}, 'supercap-watch')
    sc = effective_supercap(profile)
    assert sc.capacitance_f == pytest.approx(1.0 * profile["supercap.c_ratio_cold"])
    assert sc.esr_ohm == pytest.approx(0.5 * profile["supercap.esr_ratio_cold"])
    assert sc.leakage_ohm == 420_000.0  # no change below 20 °C
    # Clamped below −25 °C.
    colder = effective_supercap(resolve_profile({"ambient.temperature_c": -40}, 'supercap-watch'))
    assert colder == sc


def test_effective_supercap_midway_is_linear():
    # −2.5 °C is halfway from 20 to −25 °C: ratio = 1 + (r − 1)/2.
    overrides = {
        "ambient.temperature_c": -2.5,
        "supercap.c_ratio_cold": 0.5,
        "supercap.esr_ratio_cold": 4.0,
    }
    sc = effective_supercap(resolve_profile(overrides, 'supercap-watch'))
    assert sc.capacitance_f == pytest.approx(0.75)
    assert sc.esr_ohm == pytest.approx(0.5 * 2.5)


def test_effective_supercap_tolerance_ageing_and_hot_leakage():
    # −20 % tolerance, 30 % ageing: C = 1.0 × 0.8 × 0.7 = 0.56 F; ESR × 3 = 1.5 Ω.
    # 40 °C with doubling every 10 °C: leakage current × 4 → R = 420 kΩ / 4 = 105 kΩ.
    overrides = {
        "supercap.tolerance": -0.2,
        "supercap.ageing": 0.3,
        "supercap.esr_ageing_factor": 3,
        "ambient.temperature_c": 40,
        "supercap.leakage_doubling_c": 10,
    }
    sc = effective_supercap(resolve_profile(overrides, 'supercap-watch'))
    assert sc.capacitance_f == pytest.approx(0.56)
    assert sc.esr_ohm == pytest.approx(1.5)
    assert sc.leakage_ohm == pytest.approx(105_000.0)


def test_effective_loads_defaults_and_hot_sleep():
    loads = effective_loads(resolve_profile({}, 'supercap-watch'))
    assert loads.sleep_a == pytest.approx(1.73e-6)
    assert loads.active_a == pytest.approx(300e-6)
    assert loads.rtc_a == pytest.approx(0.38e-6)
    assert loads.pullup_a == pytest.approx(3.3e-6)
    assert loads.nvm_write_a == pytest.approx(3e-3)
    assert loads.radio_a == pytest.approx(0.05)
    # 85 °C: × 5.5/2.5 = 2.2 (MSP430F673x row); 55 °C is halfway from 25: × 1.6.
    hot = effective_loads(resolve_profile({"ambient.temperature_c": 85}, 'supercap-watch'))
    assert hot.sleep_a == pytest.approx(1.73e-6 * 5.5 / 2.5)
    warm = effective_loads(resolve_profile({"ambient.temperature_c": 55}, 'supercap-watch'))
    assert warm.sleep_a == pytest.approx(1.73e-6 * 1.6)
    cold = effective_loads(resolve_profile({"ambient.temperature_c": -25}, 'supercap-watch'))
    assert cold.sleep_a == pytest.approx(1.73e-6)


def test_pulsed_bias_averages_the_pullup():
    # 1 ms every 1 s of 3.3 µA = 3.3 nA; in polling mode the period is the poll period (0.5 s).
    pulsed = effective_loads(resolve_profile({"cover.bias": "pulsed"}))
    assert pulsed.pullup_a == pytest.approx(3.3e-6 * 1e-3 / 1.0)
    polled = effective_loads(
        resolve_profile(
            {"cover.bias": "pulsed", "mcu.wake_mode": "polling", "mcu.poll_period_s": 0.5}
        )
    )
    assert polled.pullup_a == pytest.approx(3.3e-6 * 1e-3 / 0.5)


# --- battery ------------------------------------------------------------------------------


def make_battery(**kw):
    args = {
        "voltage_v": 3.6,
        "capacity_mah": 1200.0,
        "internal_resistance_ohm": 20.0,
        "cutoff_v": 2.0,
    }
    args.update(kw)
    return Battery(**args)


def test_battery_ocv_curve():
    # 1200 mAh = 4320 C; plateau to 90 % = 3888 C; then 1.6 V over 432 C.
    bat = make_battery()
    assert bat.capacity_c == pytest.approx(4320.0)
    assert bat.ocv_v() == 3.6
    bat.advance(3888.0, 1.0)  # 3888 C: end of the plateau
    assert bat.ocv_v() == pytest.approx(3.6)
    bat.advance(216.0, 1.0)  # halfway down the slope: 3.6 − 0.8
    assert bat.ocv_v() == pytest.approx(2.8)
    bat.advance(216.0, 1.0)  # 100 %: the cut-off
    assert bat.ocv_v() == pytest.approx(2.0)
    bat.advance(10_000.0, 1.0)  # long spent: 0 V, not negative
    assert bat.ocv_v() == 0.0


def test_battery_terminal_voltage_and_absence():
    bat = make_battery()
    # 3 mA × 20 Ω = 60 mV below 3.6 V.
    assert bat.terminal_v(0.003) == pytest.approx(3.54)
    gone = make_battery(present=False)
    assert gone.ocv_v() == 0.0 and gone.terminal_v(1e-6) == 0.0
    gone.advance(100.0, 1e-3)
    assert gone.drawn_c == 0.0


def test_battery_time_to_ocv():
    bat = make_battery()
    # To 2.5 V at 1 µA: q = 3888 + (3.6 − 2.5)/1.6 × 432 = 3888 + 297 = 4185 C → 4.185e9 s.
    assert bat.time_to_ocv(2.5, 1e-6) == pytest.approx(4185.0 / 1e-6)
    assert bat.time_to_ocv(3.6, 1e-6) == 0.0  # already there (the plateau)
    assert bat.time_to_ocv(2.5, 0.0) == math.inf
    # Advancing by the answer lands on the voltage.
    t = bat.time_to_ocv(2.3, 5e-3)
    bat.advance(t, 5e-3)
    assert bat.ocv_v() == pytest.approx(2.3)
    # Below the cut-off the same slope goes on: 2.0 → 1.6 V needs 0.4/1.6 × 432 = 108 C more.
    bat2 = make_battery(drawn_c=4320.0)
    assert bat2.time_to_ocv(1.6, 1.0) == pytest.approx(108.0)
    # Terminal: 2.5 V under 3 mA is OCV 2.56 V.
    fresh = make_battery()
    assert fresh.time_to_terminal_v(2.5, 3e-3) == pytest.approx(fresh.time_to_ocv(2.56, 3e-3))


def test_battery_from_profile_and_refusals():
    bat = Battery.from_profile(resolve_profile({"battery.voltage_v": 2.9}))
    assert bat.ocv_v() == 2.9 and bat.cutoff_v == 2.0
    with pytest.raises(ValueError, match="cut-off"):
        make_battery(cutoff_v=3.6)
    with pytest.raises(ValueError, match="cannot be charged"):
        make_battery().advance(1.0, -1e-3)


# --- cover bounce -------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1])
@pytest.mark.parametrize("seed", range(20))
def test_bounce_edges_shape(level, seed):
    edges = bounce_edges(1_000_000, level, 0.005, random.Random(seed))
    times = [t for t, _ in edges]
    levels = [lv for _, lv in edges]
    assert edges[0] == (1_000_000, level)
    assert levels[-1] == level
    assert 3 <= len(edges) <= 1 + 2 * MAX_BOUNCES and len(edges) % 2 == 1
    assert all(a != b for a, b in itertools.pairwise(levels))  # alternating
    assert times == sorted(set(times))  # strictly increasing
    assert times[-1] <= 1_000_000 + 5_000


def test_bounce_edges_deterministic_and_zero_bounce():
    a = bounce_edges(42, 1, 0.005, random.Random(7))
    b = bounce_edges(42, 1, 0.005, random.Random(7))
    assert a == b
    assert bounce_edges(42, 0, 0.0, random.Random(7)) == [(42, 0)]


# --- RTC ----------------------------------------------------------------------------------


def test_rtc_drift_stop_start_set():
    # 5.8 ppm fast: after 1 day (8.64e10 µs) it is 86 400 000 × 5.8e-6 = 501.12 ms ahead.
    rtc = Rtc(start_local_ms=1_000_000, drift_ppm=5.8)
    day_us = 86_400 * 1_000_000
    local_ms, valid = rtc.read(day_us)
    assert valid and local_ms == 1_000_000 + 86_400_000 + 501
    rtc.stop(day_us)
    assert rtc.read(2 * day_us) == (local_ms, False)  # frozen, flagged
    rtc.start(3 * day_us)
    later_ms, valid = rtc.read(3 * day_us + 1_000_000)
    assert not valid and later_ms in (local_ms + 1000, local_ms + 1001)  # runs on, still invalid
    rtc.set(4 * day_us, 5_000_000)
    assert rtc.read(4 * day_us) == (5_000_000, True)


def test_rtc_without_drift_is_exact():
    rtc = Rtc(start_local_ms=0, drift_ppm=0.0, start_us=500)
    assert rtc.read(500 + 3_000_000_000) == (3_000_000, True)


def test_local_ms_round_trip():
    start = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    # 2026-03-01 local is 9556 days after 2000-01-01 (26 years, 7 leap days, + Jan/Feb 2026).
    days = 26 * 365 + 7 + 31 + 28
    assert local_ms_from_datetime(start, 8) == (days * 86_400 + 8 * 3600) * 1000
    # The same instant written in UTC gives the same local count.
    assert local_ms_from_datetime(start.astimezone(UTC), 8) == local_ms_from_datetime(start, 8)
    assert datetime_from_local_ms(local_ms_from_datetime(start, 8), 8) == start
    with pytest.raises(ValueError, match="UTC offset"):
        local_ms_from_datetime(datetime(2026, 3, 1), 8)


# --- profile ------------------------------------------------------------------------------

DESIGN_KEYS = {
    "meter.address",
    "supply.topology",
    "supply.rail_v",
    "supply.bulk_holdup_s",
    "supply.power_fail_v",
    "supercap.capacitance_f",
    "supercap.esr_ohm",
    "supercap.leakage_ohm",
    "supercap.rated_v",
    "supercap.charge_resistor_ohm",
    "supercap.charge_source_v",
    "battery.present",
    "battery.voltage_v",
    "battery.capacity_mah",
    "battery.internal_resistance_ohm",
    "battery.undervoltage_v",
    "mcu.active_current_a",
    "mcu.sleep_current_a",
    "mcu.brownout_v",
    "mcu.wake_time_s",
    "mcu.wake_mode",
    "mcu.poll_period_s",
    "cover.pullup_current_a",
    "cover.bias",
    "cover.debounce_s",
    "cover.bounce_s",
    "nvm.page_size",
    "nvm.page_write_time_s",
    "nvm.write_current_a",
    "rtc.current_a",
    "rtc.drift_ppm",
    "rtc.min_voltage_v",
    "radio.present",
    "radio.burst_current_a",
    "radio.burst_s",
    "ambient.temperature_c",
}
BRIEF_EXTRAS = {
    "supercap.tolerance",
    "supercap.ageing",
    "supercap.esr_ageing_factor",
    "supercap.leakage_doubling_c",
    "supercap.c_ratio_cold",
    "supercap.esr_ratio_cold",
    "mcu.sleep_current_ratio_85c",
    "cover.bias_pulse_s",
    "cover.bias_period_s",
    "cover.tamper_latch",
    "cover.sample_period_s",
    "cover.debounce_samples",
    "battery.cutoff_v",
    "firmware.write_margin_v",
    "meter.utc_offset_h",
}


def test_defaults_resolve_with_every_key_and_a_source():
    """The first board of the twin (`supercap-watch`): the keys as the registry states them."""
    profile = resolve_profile({}, "supercap-watch")
    assert PROFILE_NAMES == ("single-phase", "supercap-watch")
    assert profile.name == "supercap-watch"
    assert DESIGN_KEYS | BRIEF_EXTRAS <= set(profile)
    assert set(profile) == {key.name for key in list_keys()}
    first_board = {"supply.topology": "battery+supercap", "supply.quiescent_current_a": 0.0,
                   **{sel: "custom" for sel in ("supercap.part", "nvm.part", "battery.part",
                                                "radio.module")}}
    for key in list_keys():
        assert profile.source(key.name).strip(), key.name
        if key.name in first_board:
            assert profile[key.name] == first_board[key.name]
            continue
        assert profile[key.name] == key.check(key.default)
        src = key.source
        # A [U] or [D] source says why; an unmarked one names a row (datasheet, DESIGN, ...).
        if src.startswith(("[U]", "[D]")):
            assert len(src) > 20, key.name
    # The decided defaults.
    expected = {
        "supply.topology": "battery+supercap",
        "supercap.capacitance_f": 1.0,
        "supercap.rated_v": 5.0,
        "supercap.esr_ohm": 0.5,
        "supercap.leakage_ohm": 420_000.0,
        "supercap.charge_resistor_ohm": 4700.0,
        "supercap.charge_source_v": 4.7,
        "supply.rail_v": 12.0,
        "supply.power_fail_v": 9.0,
        "supply.bulk_holdup_s": 0.08,
        "battery.voltage_v": 3.6,
        "battery.capacity_mah": 1200.0,
        "battery.undervoltage_v": 2.5,
        "battery.cutoff_v": 2.0,
        "mcu.sleep_current_a": 1.73e-6,
        "rtc.current_a": 0.38e-6,
        "mcu.active_current_a": 300e-6,
        "mcu.wake_time_s": 1.6e-3,
        "mcu.brownout_v": 2.0,
        "mcu.wake_mode": "interrupt",
        "mcu.poll_period_s": 1.0,
        "cover.pullup_current_a": 3.3e-6,
        "cover.bias": "static",
        "cover.debounce_s": 0.045,
        "cover.bounce_s": 0.005,
        "cover.sample_period_s": 0.005,
        "cover.tamper_latch": False,
        "nvm.page_size": 64,
        "nvm.page_write_time_s": 0.005,
        "nvm.write_current_a": 0.003,
        "rtc.drift_ppm": 5.8,
        "rtc.min_voltage_v": 1.6,
        "radio.present": True,
        "radio.burst_current_a": 0.05,
        "radio.burst_s": 0.2,
        "ambient.temperature_c": 20.0,
        "meter.address": "000000000001",
        "meter.utc_offset_h": 8.0,
        "firmware.write_margin_v": 0.05,
        "supercap.tolerance": 0.0,
        "supercap.ageing": 0.0,
        "supercap.esr_ageing_factor": 1.0,
    }
    for key, value in expected.items():
        assert profile[key] == value, key
    assert 8 <= profile["cover.debounce_samples"] <= 10
    assert profile["mcu.sleep_current_ratio_85c"] == pytest.approx(5.5 / 2.5)
    assert profile["rtc.drift_ppm"] == round(0.5 / 86_400 * 1e6, 1)


def test_flat_is_json_and_profile_is_immutable_and_picklable():
    import json

    profile = resolve_profile({"supercap.capacitance_f": 0.47})
    flat = profile.flat()
    assert json.loads(json.dumps(flat)) == flat
    flat["supercap.capacitance_f"] = 99.0
    assert profile["supercap.capacitance_f"] == 0.47  # a copy
    with pytest.raises(AttributeError):
        profile.name = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(profile)) == profile
    assert hash(profile) == hash(resolve_profile({"supercap.capacitance_f": 0.47}))
    assert isinstance(profile, Profile)


def test_overrides_apply_and_ints_become_floats():
    profile = resolve_profile(
        {
            "supercap.capacitance_f": 2,
            "battery.voltage_v": 2.9,
            "mcu.wake_mode": "polling",
            "nvm.page_size": 128,
        }
    )
    assert profile["supercap.capacitance_f"] == 2.0
    assert isinstance(profile["supercap.capacitance_f"], float)
    assert profile["battery.voltage_v"] == 2.9
    assert profile["mcu.wake_mode"] == "polling"
    assert profile["nvm.page_size"] == 128
    assert resolve_profile({})["supercap.capacitance_f"] == 1.0  # defaults untouched


def test_unknown_key_names_it_and_suggests():
    with pytest.raises(ProfileError, match=r"'supercap\.capacitance'.*supercap\.capacitance_f"):
        resolve_profile({"supercap.capacitance": 1.0})
    with pytest.raises(ProfileError, match=r"'warp\.drive'"):
        resolve_profile({"warp.drive": 1})


def test_unknown_profile_name():
    with pytest.raises(ProfileError, match=r"'three-phase'.*single-phase"):
        resolve_profile({}, name="three-phase")


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("supercap.capacitance_f", "1F", "number"),
        ("supercap.capacitance_f", True, "number"),
        ("supercap.capacitance_f", math.nan, "finite"),
        ("supercap.capacitance_f", 0.0, ">= 1e-06"),
        ("supercap.capacitance_f", -1, ">= 1e-06"),
        ("supercap.tolerance", -0.3, ">= -0.2"),
        ("nvm.page_size", 64.0, "integer"),
        ("battery.present", 1, "true or false"),
        ("mcu.wake_mode", "sometimes", "'interrupt', 'polling'"),
        ("supply.topology", "solar", "one of"),
        ("meter.address", "12345", "12"),
        ("ambient.temperature_c", 150, "<= 85"),
    ],
)
def test_bad_values_name_key_and_value(key, value, words):
    with pytest.raises(ProfileError) as excinfo:
        resolve_profile({key: value})
    message = str(excinfo.value)
    assert repr(key) in message
    assert repr(value) in message
    assert words in message
    assert "\n" not in message


def test_impossible_combinations_are_refused():
    with pytest.raises(ProfileError, match=r"supply\.power_fail_v"):
        resolve_profile({"supply.power_fail_v": 12.5})
    with pytest.raises(ProfileError, match=r"battery\.cutoff_v"):
        resolve_profile({"battery.voltage_v": 1.9})
    with pytest.raises(ProfileError, match=r"cover\.bias_pulse_s"):
        resolve_profile({"cover.bias_pulse_s": 2.0, "cover.bias_period_s": 1.0})
