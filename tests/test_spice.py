"""The twin's supply physics against ngspice, an independent circuit simulator.

Real kernel runs (firmware included: sleep, wake pulses, switch bias, NVM writes, radio bursts,
fast-forwarded ticks as their average) are replayed as a circuit — C with its initial voltage,
ESR, leakage, the charging path switched by mains, the trace's load as a PWL current — and
ngspice's transient is compared with the twin's internal voltage at 20 instants and with its
brown-out instants.

The circuit is the physical one: the charge resistor meets the part at its terminal, so the
charging current also flows through the ESR, as it does in the twin. The issue asks for 1 %;
the twin agrees to far better than that (1e-3 asserted), which proves the kernel's events, trace
and closed form, not only the model. ``test_charging_goes_through_the_esr`` pins the one place
where a simpler model would differ: an aged coin cell recharging in the cold.
"""

from __future__ import annotations

import math
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from meterseal.hardware.parts import effective_loads, effective_supercap
from meterseal.hardware.profile import resolve_profile
from meterseal.hardware.rc import steady_and_tau, time_to_voltage, voltage_after
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.verify import spice
from meterseal.verify.matrix import START

pytestmark = pytest.mark.skipif(
    spice.ngspice_path() is None,
    reason="ngspice is not installed (Debian package 'ngspice'; .ci/run installs it)",
)

H_US = 3_600_000_000
ISSUE_TOLERANCE = 0.01  # what the issue asks
TWIN_TOLERANCE = 1e-3  # what the twin achieves with margin (worst seen ~3e-5)
assert TWIN_TOLERANCE <= ISSUE_TOLERANCE


def _param_set(rng: random.Random) -> dict[str, object]:
    """A random board: coin cells (tens of ohms) or stacked parts, 0.1–1.5 F, 100 kΩ–2 MΩ,
    −25…+70 °C, tolerance and ageing, every topology, battery state, wake mode and bias."""
    coin = rng.random() < 0.5
    ov: dict[str, object] = {
        "supercap.capacitance_f": round(math.exp(rng.uniform(math.log(0.1), math.log(1.5))), 3),
        "supercap.esr_ohm": round(rng.uniform(30, 75) if coin else rng.uniform(0.3, 4.0), 2),
        "supercap.leakage_ohm": round(math.exp(rng.uniform(math.log(1e5), math.log(2e6))), -3),
        "ambient.temperature_c": rng.choice([-25.0, 70.0, round(rng.uniform(-25, 70), 1)]),
        "supercap.tolerance": rng.choice([-0.2, 0.0, 0.3]),
        "supercap.ageing": rng.choice([0.0, 0.15, 0.3]),
        "mcu.wake_mode": rng.choice(["interrupt", "polling"]),
        "cover.bias": rng.choice(["static", "pulsed"]),
        "supply.topology": rng.choice(["battery+supercap", "supercap-only", "diode-or"]),
        "radio.present": rng.random() < 0.7,
    }
    battery = rng.choice(["good", "weak", "absent"])
    if battery == "weak":
        ov["battery.voltage_v"] = 2.4
    elif battery == "absent":
        ov["battery.present"] = False
    if rng.random() < 0.5:
        # A charge-redistribution branch, as the catalogue's coin cells have: C_d of 10–60 % of
        # C behind a few kΩ to 20 kΩ.
        ov["supercap.redistribution_f"] = round(
            float(ov["supercap.capacitance_f"]) * rng.uniform(0.1, 0.6), 4)  # type: ignore[arg-type]
        ov["supercap.redistribution_ohm"] = round(rng.uniform(2e3, 2e4), -1)
    return ov


def _scenario(rng: random.Random, ov: dict[str, object], k: int) -> Scenario:
    """A short outage, a partial recharge, then an outage long enough for the brown-out; cover
    operations in both, on backup."""
    cap = effective_supercap(resolve_profile(ov, "supercap-watch"))
    # With no load at all the capacitor reaches 2 V after τ·ln(4.7/2): the watch ends before
    # (a redistribution branch, charged, adds its capacitance to the store).
    c_total = cap.capacitance_f + cap.redistribution_f
    bound_us = int(cap.leakage_ohm * c_total * math.log(4.7 / 2.0) * 1.15e6)
    first_us = rng.randint(2, 8) * H_US
    second_at_us = H_US + first_us + rng.randint(1, 6) * H_US
    covers = [CoverOp(H_US + first_us // 2, H_US + first_us // 2 + 600_000_000)]
    t = second_at_us
    for _ in range(rng.randint(2, 3)):
        t += rng.randint(1, max(2, bound_us // (4 * H_US))) * H_US // 2 + rng.randint(0, 10**9)
        close = t + rng.randint(1, 3600) * 1_000_000
        covers.append(CoverOp(t, close))
        t = close
    second_us = bound_us + 2 * H_US
    return Scenario(
        profile_name="supercap-watch",
        name=f"ngspice cross-check {k}",
        start=START,
        duration_us=second_at_us + second_us + rng.randint(2, 6) * H_US,
        seed=k,
        overrides=tuple(sorted(ov.items())),
        outages=(Outage(H_US, first_us), Outage(second_at_us, second_us)),
        cover=tuple(covers),
    )


def _check(k: int) -> tuple[Scenario, RunLog, spice.CrossCheck, spice.CrossCheck]:
    rng = random.Random(1000 + k)
    sc = _scenario(rng, _param_set(rng), k)
    log = Kernel(sc, trace=True).run()
    instants = sorted(rng.randrange(1, sc.duration_us) for _ in range(20))
    physical = spice.cross_check(sc, log, instants)
    return sc, log, physical


def _sweep(sets: int) -> list[tuple[Scenario, RunLog, spice.CrossCheck]]:
    with ThreadPoolExecutor(2) as pool:  # ngspice runs in its own processes
        return list(pool.map(_check, range(sets)))


def _describe(sc: Scenario, c: spice.CrossCheck) -> str:
    cap = effective_supercap(sc.profile)
    return (
        f"{sc.name}: C={cap.capacitance_f:.3f} F ESR={cap.esr_ohm:.1f} Ω "
        f"R_leak={cap.leakage_ohm:.0f} Ω at {sc.profile['ambient.temperature_c']} °C "
        f"({c.charge_node}): worst voltage {c.worst_voltage_error:.2e}, brown-outs "
        + ", ".join(f"{b.twin_s}/{b.spice_s}" for b in c.brownouts)
    )


def _assert_sweep(sets: int) -> None:
    results = _sweep(sets)
    coin_cells = 0
    brownouts = 0
    radio_bursts = 0
    branch_brownouts = 0
    for sc, log, physical in results:
        assert physical.worst_voltage_error <= TWIN_TOLERANCE, _describe(sc, physical)
        assert physical.worst_brownout_error <= TWIN_TOLERANCE, _describe(sc, physical)
        coin_cells += effective_supercap(sc.profile).esr_ohm >= 30.0
        brownouts += sum(b.twin_s is not None for b in physical.brownouts)
        if effective_supercap(sc.profile).redistribution_f > 0:
            branch_brownouts += sum(b.twin_s is not None for b in physical.brownouts)
        loads = effective_loads(sc.profile)
        radio_bursts += any(row[3] >= loads.radio_a for row in log.trace)
    # The sweep covers what it claims to.
    assert coin_cells >= sets // 4
    assert brownouts >= sets
    assert radio_bursts >= sets // 4
    assert branch_brownouts >= sets // 3  # brown-outs of boards with a redistribution branch


def test_twin_matches_ngspice_on_random_boards() -> None:
    """24 seeded random boards (about 10 s on two cores)."""
    _assert_sweep(24)


@pytest.mark.slow
def test_twin_matches_ngspice_on_many_random_boards() -> None:
    _assert_sweep(200)


def test_charging_goes_through_the_esr() -> None:
    """An aged coin cell in the cold (75 Ω × 3 × 2.5 ≈ 560 Ω) recharged for 2 h after an
    outage: the circuit charges with τ = (R_charge + ESR)·C, and so does the twin; leaving the
    ESR out would make τ 12 % short and the voltage 30 min into the recharge 0.9 % high."""
    ov = {
        "supercap.capacitance_f": 0.47,
        "supercap.esr_ohm": 75.0,
        "supercap.esr_ageing_factor": 3.0,
        "supercap.leakage_ohm": 1_000_000.0,
        "ambient.temperature_c": -25.0,
    }
    sc = Scenario(
        profile_name="supercap-watch",
        name="aged coin cell, partial recharge",
        start=START,
        duration_us=13 * H_US,
        overrides=tuple(sorted(ov.items())),
        outages=(Outage(H_US, 10 * H_US),),
    )
    log = Kernel(sc, trace=True).run()
    end_of_outage = 11 * H_US
    t = 11 * H_US + 1_800_000_000  # 30 min into the recharge, where the gap is largest
    circuit = spice.circuit_from_run(sc, log)
    r = spice.simulate(
        circuit,
        spice.timeline_from_run(sc, log),
        [spice.VoltageAt("v0", end_of_outage), spice.VoltageAt("v1", t)],
    )
    v0 = spice.twin_voltage_at(sc, log, end_of_outage)
    spice_v0 = r["v0"]
    assert spice_v0 is not None
    assert spice_v0 == pytest.approx(v0, rel=1e-4)
    p = sc.profile
    source_v = float(p["supercap.charge_source_v"])  # type: ignore[arg-type]
    charge_ohm = float(p["supercap.charge_resistor_ohm"])  # type: ignore[arg-type]
    esr = circuit.esr_ohm
    assert esr == pytest.approx(75.0 * 3.0 * 2.5)
    dt_s = (t - end_of_outage) * 1e-6

    def charged(start_v: float, series_ohm: float) -> float:
        v_inf, tau = steady_and_tau(
            circuit.capacitance_f, circuit.leakage_ohm, 0.0, source_v, series_ohm
        )
        return voltage_after(start_v, dt_s, v_inf, tau)

    physical = charged(spice_v0, charge_ohm + esr)
    simplified = charged(v0, charge_ohm)
    assert r["v1"] == pytest.approx(physical, rel=1e-4)
    assert spice.twin_voltage_at(sc, log, t) == pytest.approx(physical, rel=1e-4)
    # What a model without the ESR in the charging path would get wrong here: about 0.9 %.
    assert 0.008 < (simplified - physical) / physical < 0.011


def test_explicit_pulses_equal_their_average() -> None:
    """hardware.md's cross-check: 1 F, 0.1 Ω, 500 kΩ from 5.0 V with 2 µA plus 3 mA × 2 ms
    every 10 s reaches 2.0 V after τ·ln((V0 + I·R)/(V + I·R)) ≈ 89.8 h with I the average.
    A shorter version (to 4.5 V, about 12 h) keeps the test quick."""
    circuit = spice.SupercapCircuit(
        capacitance_f=1.0,
        esr_ohm=0.1,
        leakage_ohm=500_000.0,
        charge_source_v=5.0,
        charge_resistor_ohm=4700.0,
        initial_v=5.0,
    )
    pulses = spice.Pulses(current_a=3e-3, width_s=2e-3, period_s=10.0, delay_s=10.0)
    timeline = spice.Timeline(end_us=15 * H_US, steps=((0, 2e-6),), pulses=(pulses,))
    r = spice.simulate(
        circuit,
        timeline,
        [spice.Crossing("t_int", 4.5, node="internal"), spice.VoltageAt("v6h", 6 * H_US)],
        max_step_s=100.0,
    )
    avg_a = 2e-6 + 3e-3 * 2e-3 / 10.0
    v_inf, tau = steady_and_tau(1.0, 500_000.0, avg_a)
    expect_s = time_to_voltage(5.0, 4.5, v_inf, tau)
    assert r["t_int"] == pytest.approx(expect_s, rel=1e-3)
    assert r["v6h"] == pytest.approx(voltage_after(5.0, 6 * 3600.0, v_inf, tau), rel=1e-5)
    assert math.isclose(tau * math.log((5.0 + avg_a * 5e5) / (2.0 + avg_a * 5e5)) / 3600,
                        89.8, abs_tol=0.05)


def test_netlist_is_the_documented_circuit() -> None:
    circuit = spice.SupercapCircuit(0.47, 50.0, 1e6, 4.7, 4700.0, 4.6)
    timeline = spice.Timeline(
        end_us=10 * H_US, steps=((0, 0.0), (H_US, 5e-6), (H_US, 6e-6)), mains=((0, H_US),)
    )
    text = spice.netlist(circuit, timeline, [spice.VoltageAt("v", H_US)])
    assert "C1 int 0 0.47 IC=4.6" in text
    assert "RLEAK int 0 1000000" in text
    assert "RESR int term 50" in text
    assert "RCHG chg term 4700" in text
    assert ".meas tran v FIND v(int) AT=3600" in text
    # Several events at one instant: the last one holds; steps are ramps centred on the instant.
    assert "3599.9999999 0 3600.0000001 6e-06" in text
    inner = spice.netlist(
        spice.SupercapCircuit(0.47, 50.0, 1e6, 4.7, 4700.0, 4.6, "internal"), timeline, []
    )
    assert "RCHG chg int 4700" in inner
    with pytest.raises(ValueError, match="SPICE identifier"):
        spice.netlist(circuit, timeline, [spice.VoltageAt("1bad", 0)])


def test_a_crossing_that_never_happens_is_none() -> None:
    circuit = spice.SupercapCircuit(1.0, 0.5, 420_000.0, 4.7, 4700.0, 4.6)
    r = spice.simulate(
        circuit,
        spice.Timeline(end_us=H_US, steps=((0, 1e-6),)),
        [spice.Crossing("never", 2.0), spice.VoltageAt("v", H_US // 2)],
    )
    assert r["never"] is None
    assert r["v"] is not None and 4.5 < r["v"] < 4.6
