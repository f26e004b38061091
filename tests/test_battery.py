"""The clock battery beyond its curve: its state, self-discharge and passivation (battery.py).

Expected values are worked out here from the ER14250 row (3.6 V, 1.2 Ah = 4320 C, 2.0 V
cut-off; the curve is flat to 90 % = 3888 C, then 1.6 V over the last 432 C).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterseal.hardware.battery import (
    SECONDS_PER_YEAR,
    Battery,
    drawn_fraction_at_ocv,
    pulse_resistance_ohm,
    self_discharge_current_a,
    state_drawn_fraction,
    terminal_v_under_pulse,
)
from meterseal.hardware.board import BoardParams
from meterseal.hardware.profile import ProfileError, resolve_profile


def er14250(**kw: float) -> Battery:
    return Battery(3.6, 1200.0, 20.0, 2.0, **kw)  # type: ignore[arg-type]


def test_states_place_the_cell_on_its_curve():
    # weak: halfway between 3.6 V and the 2.5 V level, 3.05 V: 0.9 + 0.1 × 0.55/1.6.
    assert state_drawn_fraction("healthy", 3.6, 2.0, 2.5) == 0.0
    assert state_drawn_fraction("absent", 3.6, 2.0, 2.5) == 0.0
    assert state_drawn_fraction("weak", 3.6, 2.0, 2.5) == pytest.approx(0.9 + 0.1 * 0.55 / 1.6)
    # undervoltage: 0.1 V below the level, 2.4 V: 0.9 + 0.1 × 1.2/1.6 = 0.975.
    assert state_drawn_fraction("undervoltage", 3.6, 2.0, 2.5) == pytest.approx(0.975)
    # A plateau already under the level is undervoltage with nothing drawn.
    assert state_drawn_fraction("undervoltage", 2.4, 2.0, 2.5) == 0.0
    with pytest.raises(ValueError, match="no room"):
        state_drawn_fraction("weak", 2.4, 2.0, 2.5)
    with pytest.raises(ValueError, match="unknown battery state"):
        state_drawn_fraction("tired", 3.6, 2.0, 2.5)
    for state, ocv in (("weak", 3.05), ("undervoltage", 2.4)):
        frac = state_drawn_fraction(state, 3.6, 2.0, 2.5)
        assert er14250(drawn_c=frac * 4320.0).ocv_v() == pytest.approx(ocv)


@given(ocv=st.floats(min_value=0.01, max_value=3.59))
def test_drawn_fraction_inverts_the_curve(ocv):
    frac = drawn_fraction_at_ocv(3.6, 2.0, ocv)
    assert er14250(drawn_c=frac * 4320.0).ocv_v() == pytest.approx(ocv, abs=1e-9)


def test_self_discharge_is_a_constant_drain():
    # 1 %/year of 4320 C is 43.2 C a year: 43.2 / 31 557 600 s ≈ 1.369 µA.
    i = self_discharge_current_a(1200.0, 0.01)
    assert i == pytest.approx(43.2 / SECONDS_PER_YEAR)
    assert i == pytest.approx(1.369e-6, rel=1e-3)
    bat = er14250(self_discharge_a=i)
    bat.advance(SECONDS_PER_YEAR, 0.0)  # a year with no load still costs 43.2 C
    assert bat.drawn_c == pytest.approx(43.2)
    bat.advance(3600.0, 1e-6)  # and adds to any load
    assert bat.drawn_c == pytest.approx(43.2 + 3600.0 * (1e-6 + i))
    # With no load it now reaches 2.5 V at all: (3888 + 1.1/1.6 × 432 − drawn) / i.
    fresh = er14250(self_discharge_a=i)
    assert fresh.time_to_ocv(2.5, 0.0) == pytest.approx((3888.0 + 297.0) / i)
    assert er14250().time_to_ocv(2.5, 0.0) == math.inf  # without it, never


def test_passivation_adds_to_a_pulse_and_is_worse_cold():
    # 40 Ω at 20 °C, three times at −25 °C, linear between: at 0 °C 1 + 2 × 20/45.
    assert pulse_resistance_ohm(20.0, 40.0, 3.0, 20.0) == pytest.approx(60.0)
    assert pulse_resistance_ohm(20.0, 40.0, 3.0, 70.0) == pytest.approx(60.0)
    assert pulse_resistance_ohm(20.0, 40.0, 3.0, -25.0) == pytest.approx(140.0)
    assert pulse_resistance_ohm(20.0, 40.0, 3.0, -40.0) == pytest.approx(140.0)
    assert pulse_resistance_ohm(20.0, 40.0, 3.0, 0.0) == pytest.approx(20.0 + 40.0 * (1 + 40 / 45))
    bat = er14250(passivation_ohm=40.0, passivation_ratio_cold=3.0)
    # 3 mA on a rested cell at −25 °C: 3.6 − 0.003 × 140 = 3.18 V; once awake 3.6 − 0.06.
    assert bat.terminal_v_pulse(0.003, -25.0) == pytest.approx(3.18)
    assert bat.terminal_v_pulse(0.003, -25.0, rested=False) == pytest.approx(3.54)
    assert bat.terminal_v_pulse(0.003, -25.0, rested=False) == pytest.approx(bat.terminal_v(0.003))
    assert terminal_v_under_pulse(3.6, 1.0, 140.0) == 0.0  # not below 0 V
    assert er14250(present=False).terminal_v_pulse(0.003, 20.0) == 0.0  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        er14250(passivation_ohm=-1.0)


def test_profile_state_and_part_reach_the_battery_and_the_board():
    p = resolve_profile({"battery.part": "er14250", "battery.state": "weak",
                         "ambient.temperature_c": -25.0})
    bat = Battery.from_profile(p)
    assert bat.ocv_v() == pytest.approx(3.05)
    assert bat.self_discharge_a == pytest.approx(self_discharge_current_a(1200.0, 0.01))
    b = BoardParams.from_profile(p)
    assert b.battery_initial_drawn_c == pytest.approx(bat.drawn_c)
    assert b.battery_self_discharge_a == pytest.approx(bat.self_discharge_a)
    assert b.battery_pulse_resistance_ohm == pytest.approx(20.0 + 40.0 * 3.0)
    made = b.new_battery()
    assert (made.ocv_v(), made.drawn_c, made.self_discharge_a) == (
        bat.ocv_v(), bat.drawn_c, bat.self_discharge_a)
    assert made.terminal_v_pulse(0.003, b.temperature_c) == pytest.approx(3.05 - 0.003 * 140.0)
    # The first board of the twin: a fresh cell, no drain, no passivation.
    d = BoardParams.from_profile(resolve_profile({}, "supercap-watch"))
    assert (d.battery_initial_drawn_c, d.battery_self_discharge_a) == (0.0, 0.0)
    assert d.battery_pulse_resistance_ohm == d.battery_internal_resistance_ohm


def test_state_keys_and_their_contradictions():
    uv = resolve_profile({"battery.state": "undervoltage"})
    assert Battery.from_profile(uv).ocv_v() == pytest.approx(2.4)
    assert uv.source("battery.initial_drawn_fraction").startswith("[D]")
    absent = resolve_profile({"battery.state": "absent"})
    assert absent["battery.present"] is False
    bad = [
        ({"battery.state": "undervoltage", "battery.initial_drawn_fraction": 0.0},
         "contradicts the cell's open-circuit 3.6 V (above 'battery.undervoltage_v'"),
        ({"battery.state": "weak", "battery.initial_drawn_fraction": 0.99},
         "at or below 'battery.undervoltage_v'"),
        ({"battery.state": "absent", "battery.present": True}, "contradicts 'battery.present'"),
        ({"battery.state": "weak", "battery.voltage_v": 2.4}, "no room"),
        # A plateau at the cut-off has no curve to place an undervoltage cell on (found by
        # the profile fuzz: it divided by zero before the check ran).
        ({"battery.state": "undervoltage", "battery.voltage_v": 2.0,
          "battery.undervoltage_v": 2.0}, "'battery.cutoff_v' = 2.0 must be below"),
    ]
    for overrides, needle in bad:
        with pytest.raises(ProfileError, match=r".*") as info:
            resolve_profile(overrides)
        msg = str(info.value)
        assert needle in msg and "\n" not in msg, msg
    # The old way of a poor cell (a low plateau, healthy state) still resolves.
    assert resolve_profile({"battery.voltage_v": 2.4})["battery.state"] == "healthy"
