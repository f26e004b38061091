"""The redistribution branch's closed form (rc2.py) against independent integrations.

Three referees that share nothing with the closed form: rc.py itself (the model without a
branch must be today's, bit for bit), a fine fourth-order Runge–Kutta integration written here,
and ngspice on a netlist with the branch.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meterseal.hardware import rc, rc2
from meterseal.verify import spice


def _rk4(c, r_leak, load, cd, rd, v0, vd0, t_end, steps, source=None, r_charge=None):
    """(V, Vd, ∫V dt) after ``t_end`` by classical RK4 on the node equations."""

    def deriv(v, vd):
        i = -load - v / r_leak - (v - vd) / rd
        if source is not None:
            i += (source - v) / r_charge
        return i / c, (v - vd) / (rd * cd), v

    h = t_end / steps
    v, vd, q = v0, vd0, 0.0
    for _ in range(steps):
        k1 = deriv(v, vd)
        k2 = deriv(v + 0.5 * h * k1[0], vd + 0.5 * h * k1[1])
        k3 = deriv(v + 0.5 * h * k2[0], vd + 0.5 * h * k2[1])
        k4 = deriv(v + h * k3[0], vd + h * k3[1])
        v += h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        vd += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        q += h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
    return v, vd, q


# --- without a branch it is rc.py -------------------------------------------------------------

caps = st.floats(min_value=0.01, max_value=10.0)
leaks = st.floats(min_value=1e3, max_value=1e15)
loads = st.floats(min_value=-1e-2, max_value=0.1)
volts = st.floats(min_value=0.0, max_value=6.0)
times = st.floats(min_value=0.0, max_value=1e7)


@given(c=caps, r=leaks, i=loads, v0=volts, level=volts, dt=times, charging=st.booleans())
def test_without_a_branch_every_function_is_rc_exactly(c, r, i, v0, level, dt, charging):
    src = (4.7, 4700.0) if charging else (None, None)
    n = rc2.node(c, r, i, 0.0, 0.0, *src)
    v_inf, tau = rc.steady_and_tau(c, r, i, *src)
    assert (n.v_inf, n.tau_s) == (v_inf, tau)
    v = rc.voltage_after(v0, dt, v_inf, tau)
    assert rc2.voltage_after(n, v0, 123.0, dt) == v
    assert rc2.state_after(n, v0, 123.0, dt) == (v, v)
    assert rc2.time_to_voltage(n, v0, 123.0, level) == rc.time_to_voltage(v0, level, v_inf, tau)


def test_a_vanishing_branch_approaches_the_single_capacitor():
    # 1 nF beside 1 F: the two-state form must agree with the one-state one to ~1e-9.
    one = rc2.node(1.0, 420e3, 3e-3)
    two = rc2.node(1.0, 420e3, 3e-3, 1e-9, 10.0)
    for dt in (1.0, 100.0, 900.0):
        assert rc2.voltage_after(two, 5.0, 5.0, dt) == pytest.approx(
            rc2.voltage_after(one, 5.0, 5.0, dt), rel=1e-8)
    t1 = rc2.time_to_voltage(one, 5.0, 5.0, 2.0)
    assert rc2.time_to_voltage(two, 5.0, 5.0, 2.0) == pytest.approx(t1, abs=2e-6)


def test_a_branch_needs_a_resistance_and_a_sign():
    with pytest.raises(ValueError, match="resistance"):
        rc2.node(1.0, 420e3, 0.0, 0.4, 0.0)
    with pytest.raises(ValueError, match=">= 0 F"):
        rc2.node(1.0, 420e3, 0.0, -0.1, 10.0)
    with pytest.raises(ValueError, match="leakage"):
        rc2.node(1.0, math.inf, 0.0, 0.4, 10.0)


# --- against Runge–Kutta ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    c=st.floats(min_value=0.1, max_value=2.0),
    r_leak=st.floats(min_value=1e4, max_value=1e7),
    load=st.floats(min_value=0.0, max_value=5e-3),
    cd_ratio=st.floats(min_value=0.01, max_value=2.0),
    rd=st.floats(min_value=10.0, max_value=1e5),
    v0=volts,
    vd0=volts,
    span=st.floats(min_value=0.05, max_value=150.0),
    charging=st.booleans(),
)
def test_state_and_integral_match_runge_kutta(c, r_leak, load, cd_ratio, rd, v0, vd0, span,
                                              charging):
    cd = c * cd_ratio
    src = (4.7, 4700.0) if charging else (None, None)
    n = rc2.node(c, r_leak, load, cd, rd, *src)
    # RK4 needs a step well inside the fast mode; span counts fast time constants.
    tau_fast = -1.0 / n.lam1
    t_end = span * tau_fast
    steps = max(400, int(span * 25))
    v_ref, vd_ref, q_ref = _rk4(c, r_leak, load, cd, rd, v0, vd0, t_end, steps, *src)
    v, vd = rc2.state_after(n, v0, vd0, t_end)
    assert v == pytest.approx(v_ref, rel=1e-7, abs=1e-9)
    assert vd == pytest.approx(vd_ref, rel=1e-7, abs=1e-9)
    assert rc2.voltage_after(n, v0, vd0, t_end) == v
    assert rc2.voltage_integral(n, v0, vd0, t_end) == pytest.approx(q_ref, rel=1e-7, abs=1e-9)


def test_state_composes_over_a_long_discharge():
    # Hours at a time, where RK4 would take millions of steps: composition is the referee.
    n = rc2.node(1.0, 420e3, 5e-6, 0.45, 4000.0)
    v, vd = 5.0, 3.2
    for _ in range(48):
        v, vd = rc2.state_after(n, v, vd, 3600.0)
    once = rc2.state_after(n, 5.0, 3.2, 48 * 3600.0)
    assert once == pytest.approx((v, vd), rel=1e-10)
    # and the integral is additive
    a = rc2.voltage_integral(n, 5.0, 3.2, 7200.0)
    mid = rc2.state_after(n, 5.0, 3.2, 7200.0)
    b = rc2.voltage_integral(n, *mid, 3600.0)
    assert a + b == pytest.approx(rc2.voltage_integral(n, 5.0, 3.2, 10800.0), rel=1e-12)


def test_both_voltages_settle_at_the_single_capacitor_asymptote():
    n = rc2.node(1.0, 420e3, 2e-6, 0.45, 4000.0, 4.7, 4700.0)
    v_inf, _ = rc.steady_and_tau(1.0, 420e3, 2e-6, 4.7, 4700.0)
    assert n.v_inf == pytest.approx(v_inf)
    v, vd = rc2.state_after(n, 0.0, 0.0, 1e8)
    assert (v, vd) == pytest.approx((v_inf, v_inf), rel=1e-12)


# --- the first time a level is reached -------------------------------------------------------


NOISE_V = 1e-12  # float rounding of V near a slow crossing (V·s⁻¹ × 1 µs can be below it)


def _first_crossing_checks(n, v0, vd0, level, t):
    sign0 = 1.0 if v0 > level else -1.0

    def f(s):  # distance to the level, positive on the starting side
        return sign0 * (rc2.voltage_after(n, v0, vd0, s) - level)

    assert f(t) <= NOISE_V, "the level is reached by the returned time"
    if t > rc2.TIME_RESOLUTION_S:
        before = t - rc2.TIME_RESOLUTION_S
        grid = [before * k / 400 for k in range(401)]
        assert all(f(s) > -NOISE_V for s in grid), "no earlier crossing"


@settings(max_examples=80, deadline=None)
@given(
    c=st.floats(min_value=0.1, max_value=2.0),
    r_leak=st.floats(min_value=1e4, max_value=1e15),
    load=st.floats(min_value=0.0, max_value=5e-3),
    cd_ratio=st.floats(min_value=0.01, max_value=2.0),
    rd=st.floats(min_value=10.0, max_value=1e5),
    v0=volts,
    vd0=volts,
    level=volts,
)
def test_time_to_voltage_is_the_first_crossing(c, r_leak, load, cd_ratio, rd, v0, vd0, level):
    n = rc2.node(c, r_leak, load, c * cd_ratio, rd)
    assume(abs(v0 - level) > 1e-6)
    t = rc2.time_to_voltage(n, v0, vd0, level)
    if math.isinf(t):
        # Never: the voltage stays on its side, out to many slow time constants.
        sign0 = 1.0 if v0 > level else -1.0
        horizon = 30.0 * n.tau_s
        assert all(sign0 * (rc2.voltage_after(n, v0, vd0, horizon * k / 2000) - level) > -NOISE_V
                   for k in range(2001))
    else:
        _first_crossing_checks(n, v0, vd0, level, t)


def test_the_voltage_recovers_then_falls_through_a_level_twice():
    # Right after a load step the main capacitor sits below its branch: V first rises as the
    # branch gives charge back, peaks once, then leakage and load pull it down.
    n = rc2.node(1.0, 420e3, 2e-6, 0.44, 4000.0)
    v0, vd0 = 3.0, 5.0
    assert rc2.time_to_voltage(n, v0, vd0, 5.0) == math.inf  # the peak stays below Vd0
    t_up = rc2.time_to_voltage(n, v0, vd0, 3.5)
    t_down = rc2.time_to_voltage(n, v0, vd0, 2.0)
    assert 0.0 < t_up < t_down
    _first_crossing_checks(n, v0, vd0, 3.5, t_up)
    _first_crossing_checks(n, v0, vd0, 2.0, t_down)
    # 3.0 V itself is crossed on the way down, not at t = 0's neighbourhood
    peak = max(rc2.voltage_after(n, v0, vd0, s) for s in range(0, 20000, 50))
    assert peak > 3.5
    t_again = rc2.time_to_voltage(n, v0 + 1e-9, vd0, v0)  # starts a hair above, rises first
    assert t_again > 1000.0


def test_time_to_voltage_at_the_level_now_and_at_the_asymptote():
    n = rc2.node(1.0, 420e3, 1e-6, 0.44, 4000.0)  # settles at −0.42 V
    assert rc2.time_to_voltage(n, 3.0, 3.0, 3.0) == 0.0
    assert rc2.time_to_voltage(n, 3.0, 3.0, n.v_inf) == math.inf
    assert rc2.time_to_voltage(n, 3.0, 3.0, -1.0) == math.inf
    assert rc2.time_to_voltage(n, 3.0, 3.0, 4.0) == math.inf


# --- against ngspice -------------------------------------------------------------------------


@pytest.mark.skipif(spice.ngspice_path() is None, reason="ngspice is not installed")
def test_branch_matches_ngspice():
    # A 1 F coin cell with a 0.45 F slow branch that a 30-min charge left at 3.2 V, a 20 µA
    # watch load, then the mains comes back at 20 h and recharges it through 4.7 kΩ.
    c, r_leak, cd, rd, load = 1.0, 300e3, 0.45, 4000.0, 20e-6
    v0, vd0 = 4.7, 3.2
    t_on, t_end = 20 * 3600.0, 26 * 3600.0
    level = 4.0
    off = rc2.node(c, r_leak, load, cd, rd)
    on = rc2.node(c, r_leak, load, cd, rd, 4.7, 4700.0)
    v_on = rc2.state_after(off, v0, vd0, t_on)
    samples = {"v1h": 3600.0, "v10h": 36000.0, "v22h": 22 * 3600.0, "v26h": t_end}
    twin = {}
    for name, t in samples.items():
        if t <= t_on:
            twin[name] = rc2.voltage_after(off, v0, vd0, t)
        else:
            twin[name] = rc2.voltage_after(on, *v_on, t - t_on)
    twin["tlevel"] = rc2.time_to_voltage(off, v0, vd0, level)
    assert twin["tlevel"] < t_on
    netlist = "\n".join([
        "* supercapacitor with a redistribution branch",
        f"C1 int 0 {c} IC={v0}",
        f"RLEAK int 0 {r_leak}",
        f"RD int d {rd}",
        f"CD d 0 {cd} IC={vd0}",
        f"ILOAD int 0 DC {load}",
        "VSRC src 0 DC 4.7",
        "SMAINS src chg mains 0 swm",
        ".model swm SW(VT=0.5 VH=0 RON=1e-6 ROFF=1e15)",
        f"VMAINS mains 0 PWL(0 0 {t_on} 0 {t_on + 1e-3} 1)",
        "RCHG chg int 4700",
        ".options reltol=1e-7",
        f".tran 5 {t_end} 0 5 UIC",
        *(f".meas tran {name} FIND v(int) AT={t}" for name, t in samples.items()),
        f".meas tran tlevel WHEN v(int)={level} FALL=1",
        ".end",
    ]) + "\n"
    result = spice.run_ngspice(netlist, [*samples, "tlevel"])
    for name, value in twin.items():
        ref = result[name]
        assert ref is not None, name
        assert value == pytest.approx(ref, rel=1e-3), name
