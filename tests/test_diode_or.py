"""The diode-OR supply: two diodes with equal drops share the node's load between the clock
battery and the supercapacitor. Each check is against the node equations written out here
(not the model's own helpers): the capacitor alone while Vc − I·Rc > Vb, the battery alone
while Vc <= Vb − I·Rb, and between them Ic = (Vc − Vb + I·Rb)/(Rb + Rc), node = Vc − Ic·Rc."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from meterseal.hardware.board import BoardParams
from meterseal.hardware.profile import resolve_profile
from meterseal.hardware.supply import X_DIODE_OVER, SupplyPath
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import load_scenario

SCENARIOS = Path(__file__).parent / "scenarios"


def _board(**over: object) -> BoardParams:
    values: dict[str, object] = {"supply.topology": "diode-or", "battery.present": True,
                                 "supercap.redistribution_f": 0.0}
    values.update(over)
    return BoardParams.from_profile(resolve_profile(values, "single-phase"))


def _writing(board: BoardParams, v: float, vd: float | None = None) -> tuple[SupplyPath, float]:
    """The supply off the rail, the capacitor at v, an awake MCU writing a page; and the node's
    whole load (MCU, write, regulator, RTC domain)."""
    s = SupplyPath(board)
    s.mains = s.on_rail = False
    s.v = v
    s.vd = v if vd is None else vd
    L = board.loads
    s.set_loads(True, L.sleep_a, 0.0, L.active_a, L.nvm_write_a, 0.0)
    return s, L.sleep_a + L.active_a + L.nvm_write_a + L.quiescent_a + L.rtc_a


def _node(vc: float, vb: float, i: float, rb: float, rc: float) -> tuple[float, float]:
    """(node voltage, capacitor current) of the diode-OR, written out from the regimes."""
    if vc - i * rc > vb:
        return vc - i * rc, i
    if vc <= vb - i * rb:
        return vb - i * rb, 0.0
    ic = (vc - vb + i * rb) / (rb + rc)
    return vc - ic * rc, ic


@pytest.mark.parametrize("vc", [3.8, 3.69, 3.6, 3.5, 3.41, 3.3])
def test_each_regime_gives_the_node_and_both_currents_of_the_closed_form(vc: float) -> None:
    # Battery 3.6 V behind its 60 ohm pulse resistance, capacitor behind 30 ohm, 3.3 mA: the
    # capacitor alone above 3.699 V, the battery alone at or below 3.402 V.
    b = _board()
    s, load = _writing(b, vc)
    rb, rc = b.battery_pulse_resistance_ohm, b.supercap.esr_ohm
    node, ic = _node(vc, 3.6, load, rb, rc)
    assert s.i_sc == pytest.approx(ic, abs=1e-12)
    assert s.i_batt == pytest.approx(load - ic, abs=1e-12)
    assert s.mcu_terminal_v() == pytest.approx(node, abs=1e-12)
    if 0.0 < ic < load:  # both conduct: every terminal is the node
        assert s.battery_terminal_v() == pytest.approx(node, abs=1e-12)
        assert s.supercap_terminal_v() == pytest.approx(node, abs=1e-12)
    if ic == 0.0:  # the capacitor's diode blocks: it reads its open voltage
        assert s.supercap_terminal_v() == vc


def test_the_capacitor_starts_sharing_when_it_reaches_the_battery_plus_its_drop() -> None:
    b = _board()
    s, load = _writing(b, 3.8)
    rc, c, r_leak = b.supercap.esr_ohm, b.supercap.capacitance_f, b.supercap.leakage_ohm
    hi = 3.6 + load * rc
    # Alone it relaxes to −I·R_leak with τ = R_leak·C: it reaches hi at τ·ln((V0 − V∞)/(hi − V∞)).
    v_inf, tau = -load * r_leak, r_leak * c
    expected = tau * math.log((3.8 - v_inf) / (hi - v_inf))
    dt, what = s.next_crossing(True, None, True, False)
    assert what == X_DIODE_OVER
    assert dt == pytest.approx(expected, rel=1e-9)
    # At the crossing (the kernel's next µs) both conduct, and the node has not jumped.
    t_us = math.ceil(dt * 1e6)
    before = s.voltage_after(t_us * 1e-6) - load * rc
    s.advance(t_us)
    s.set_loads(*s.loads_in)
    assert 0.0 < s.i_batt < 1e-6
    assert s.mcu_terminal_v() == pytest.approx(before, abs=1e-6)


def test_sharing_ends_when_the_capacitor_falls_to_the_battery_less_its_drop() -> None:
    b = _board()
    s, load = _writing(b, 3.5)
    rb, rc = b.battery_pulse_resistance_ohm, b.supercap.esr_ohm
    c, r_leak = b.supercap.capacitance_f, b.supercap.leakage_ohm
    # Sharing, the capacitor sees V_eq = Vb − I·Rb through Rb + Rc beside its leakage.
    v_eq, r_eq = 3.6 - load * rb, rb + rc
    g = 1.0 / r_leak + 1.0 / r_eq
    v_inf, tau = v_eq / r_eq / g, c / g
    expected = tau * math.log((3.5 - v_inf) / (v_eq - v_inf))
    dt, what = s.next_crossing(True, None, True, False)
    assert what == X_DIODE_OVER
    assert dt == pytest.approx(expected, rel=1e-9)
    s.advance(math.ceil(dt * 1e6))
    s.set_loads(*s.loads_in)
    assert s.i_sc == 0.0 and s.i_batt == pytest.approx(load)


def _rk4(f, y: list[float], dt: float, steps: int) -> list[list[float]]:  # type: ignore[no-untyped-def]
    out = [y]
    for _ in range(steps):
        k1 = f(y)
        k2 = f([a + dt / 2 * b for a, b in zip(y, k1, strict=True)])
        k3 = f([a + dt / 2 * b for a, b in zip(y, k2, strict=True)])
        k4 = f([a + dt * b for a, b in zip(y, k3, strict=True)])
        y = [a + dt / 6 * (p + 2 * q + 2 * r + w)
             for a, p, q, r, w in zip(y, k1, k2, k3, k4, strict=True)]
        out.append(y)
    return out


@pytest.mark.parametrize("branch", [False, True])
def test_the_battery_is_charged_its_share_of_a_sharing_segment(branch: bool) -> None:
    # 40 s of a page-write load while both conduct (it ends at ~95 s), against a numerical
    # integration of the node: C·dV/dt = −V/R_leak − (V − V_eq)/R_eq [− (V − Vd)/R_d], with the
    # battery giving I − (V − V_eq)/R_eq. With a redistribution branch, its capacitor starts
    # 40 mV above the main one and pushes charge back.
    over: dict[str, object] = {}
    if branch:
        over = {"supercap.redistribution_f": 0.3, "supercap.redistribution_ohm": 200.0}
    b = _board(**over)
    s, load = _writing(b, 3.55, 3.59 if branch else None)
    assert 0.0 < s.i_sc < load
    rb, rc = b.battery_pulse_resistance_ohm, b.supercap.esr_ohm
    cap = b.supercap
    v_eq, r_eq = 3.6 - load * rb, rb + rc

    def f(y: list[float]) -> list[float]:
        v, vd, _q = y
        ic = (v - v_eq) / r_eq
        to_branch = (v - vd) / cap.redistribution_ohm if branch else 0.0
        dv = (-v / cap.leakage_ohm - ic - to_branch) / cap.capacitance_f
        dvd = to_branch / cap.redistribution_f if branch else dv
        return [dv, dvd, load - ic]

    seconds, steps = 40.0, 40000
    v, vd, q_batt = _rk4(f, [s.v, s.vd, 0.0], seconds / steps, steps)[-1]
    drawn0 = s.battery.drawn_c
    s.advance(round(seconds * 1e6))
    drawn = s.battery.drawn_c - drawn0 - b.battery_self_discharge_a * seconds
    assert drawn == pytest.approx(q_batt, rel=1e-7)
    assert s.v == pytest.approx(v, abs=1e-9)
    if branch:
        assert s.vd == pytest.approx(vd, abs=1e-9)
    assert s.i_sc == pytest.approx((v - v_eq) / r_eq, rel=1e-6)
    # The battery gave a real share, neither nothing nor the whole load.
    assert 0.2 * load * seconds < drawn < 0.95 * load * seconds


def test_a_diode_or_boards_mcu_supply_during_a_page_write_is_the_shared_node() -> None:
    # Campaign 2026 #65922: a diode-OR board with a nearly spent clock cell; a cover opening at
    # 29 360.88 s is written on backup. Through the write the battery (2.537 V open) and the
    # supercapacitor (2.542 V) share the 3.3 mA: the MCU's supply is the shared node, 2.43 V,
    # where the capacitor alone through its 194 ohm would leave 1.89 V, under brown-out.
    sc = load_scenario(SCENARIOS / "campaign-2026-65922.toml")
    seen: list[tuple[float, float, float]] = []

    class Probe:
        def segment(self, t0_us: int, t1_us: int, supply: SupplyPath) -> None:
            if supply.loads_in[4] > 0.0 and not supply.on_rail:
                b = supply.board
                load = supply.i_sc + supply.i_batt
                node, _ic = _node(supply.v, supply.battery.ocv_v(), load,
                                  b.battery_pulse_resistance_ohm, b.supercap.esr_ohm)
                seen.append((supply.mcu_terminal_v(), node, supply.v - load * b.supercap.esr_ohm))

    Kernel(sc, trace=False, observers=[Probe()]).run()
    assert seen, "no page write on backup"
    for mcu_v, node, _alone_v in seen:
        assert mcu_v == pytest.approx(node, abs=1e-9)
    lowest = min(mcu_v for mcu_v, _node_v, _alone in seen)
    assert 2.4 < lowest < 2.45
    assert min(alone for _m, _n, alone in seen) < 2.0
