"""`meterseal size`: the smallest standard supercapacitor, found by simulating the twin.

The answer is checked with plain kernel runs (not the sizing module's own bookkeeping): the
chosen value keeps the watch for the hours required and the next smaller value does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meterseal.hardware.parts import effective_loads
from meterseal.sim.kernel import Kernel
from meterseal.verify import sizing, sizing_trial
from meterseal.verify.sizing_requirement import Requirement, SizingError, part_values

H_US = 3_600_000_000
FEW = (0.22, 0.47, 1.0, 1.5, 2.2, 3.3)


def meterseal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meterseal", *args],
                          capture_output=True, text=True, timeout=300)


def twin_watch_us(req: Requirement, capacitance_f: float) -> int | None:
    """The firmware's watch after mains loss, from a plain kernel run (None: it outlasted the
    simulated outage)."""
    sc = sizing_trial.trial_scenario(req, capacitance_f)
    out = Kernel(sc, trace=False).run().outages[0]
    return None if out.watch_until_us is None else out.watch_until_us - out.from_us


@pytest.mark.parametrize(
    "req",
    [
        Requirement(watch_us=24 * H_US),
        Requirement(watch_us=12 * H_US, temperature_c=70.0, tolerance=0.0, ageing=0.0,
                    battery="good"),
        Requirement(watch_us=20 * H_US, battery="absent",
                    overrides=(("mcu.wake_mode", "polling"), ("cover.bias", "pulsed"))),
    ],
    ids=["cold-end-of-life-weak-battery", "hot-new-part", "no-battery-polling-pulsed"],
)
def test_chosen_meets_and_next_smaller_does_not(req: Requirement) -> None:
    result = sizing.size(req, FEW, sweeps=False)
    assert result.chosen is not None
    c = result.chosen.capacitance_f
    watch = twin_watch_us(req, c)
    assert watch is None or watch >= req.watch_us
    smaller = [x for x in FEW if x < c]
    assert smaller, "pick a requirement whose answer is not the smallest candidate"
    below = twin_watch_us(req, smaller[-1])
    assert below is not None and below < req.watch_us
    # The table agrees with the plain runs.
    chosen = result.trials[FEW.index(c)]
    if watch is None:
        assert chosen.outlasted
    else:
        assert chosen.watch_s == pytest.approx(watch / 1e6)
    assert result.trials[FEW.index(smaller[-1])].watch_s == pytest.approx(below / 1e6)


def test_bigger_requirement_needs_same_or_bigger_capacitor() -> None:
    chosen = []
    for hours in (4, 8, 12, 16, 20, 24, 30, 36, 42):
        r = sizing.size(Requirement(watch_us=hours * H_US), FEW, sweeps=False)
        chosen.append(r.chosen.capacitance_f if r.chosen else float("inf"))
    assert chosen == sorted(chosen)
    assert len(set(chosen)) >= 4  # the sweep really moves through the candidates


def test_harsher_conditions_need_same_or_bigger_capacitor() -> None:
    base = Requirement(watch_us=16 * H_US, temperature_c=20.0, tolerance=0.0, ageing=0.0,
                       battery="good")
    harsher = [
        base,
        Requirement(watch_us=16 * H_US, temperature_c=20.0, tolerance=-0.2, ageing=0.0,
                    battery="good"),
        Requirement(watch_us=16 * H_US, temperature_c=20.0, tolerance=-0.2, ageing=0.3,
                    battery="good"),
        Requirement(watch_us=16 * H_US, temperature_c=-25.0, tolerance=-0.2, ageing=0.3,
                    battery="good"),
    ]
    chosen = [sizing.size(r, FEW, sweeps=False).chosen for r in harsher]
    sizes = [c.capacitance_f if c else float("inf") for c in chosen]
    assert sizes == sorted(sizes)


def test_energy_budget_balances_and_matches_hand_figures() -> None:
    """The drains add up to what the capacitor gave, C·(V_start − V_end); sleep, RTC and radio
    equal current × time worked out by hand."""
    req = Requirement(watch_us=10 * H_US, battery="weak", openings=2)
    t = sizing_trial.run_trial(req, 1.0)
    b = t.budget
    assert abs(b.coulombs["unattributed"]) <= 1e-9 * b.stored
    assert b.total == pytest.approx(t.effective_f * (t.v_start - t.v_end), rel=1e-9)
    loads = effective_loads(sizing_trial.trial_scenario(req, 1.0).profile)
    bulk_s = 0.08  # the PSU's bulk capacitor feeds the MCU for the first 80 ms
    assert b.coulombs["mcu_sleep"] == pytest.approx(loads.sleep_a * (t.watch_s - bulk_s),
                                                    rel=1e-6)
    # A weak battery leaves the RTC on the supercapacitor the whole time, from mains loss on.
    assert b.coulombs["rtc"] == pytest.approx(loads.rtc_a * t.watch_s, rel=1e-6)
    # Two openings, each reported once by radio on backup: 2 × 50 mA × 0.2 s.
    assert b.coulombs["radio"] == pytest.approx(2 * loads.radio_a * 0.2, rel=1e-9)
    assert b.coulombs["leakage"] > 0.5 * b.total  # the leakage dominates the budget
    assert b.coulombs["nvm_writes"] > 0 and b.coulombs["wakes"] > 0


def test_pulsed_bias_and_polling_show_in_the_budget() -> None:
    req = Requirement(watch_us=10 * H_US)
    static = sizing_trial.run_trial(req, 1.0, bias="static")
    pulsed = sizing_trial.run_trial(req, 1.0, bias="pulsed")
    polling = sizing_trial.run_trial(req, 1.0, wake_mode="polling")
    assert pulsed.budget.share("switch_bias") < 0.01 < static.budget.share("switch_bias")
    assert pulsed.watch_s > static.watch_s
    assert polling.budget.coulombs["wakes"] > 100 * static.budget.coulombs["wakes"]
    assert polling.watch_s < static.watch_s


def test_part_family_reproduces_the_datasheet_rows() -> None:
    # Eaton PB: 0.1 F 4.0 Ω 3 µA, 0.47 F 1.0 Ω 7 µA, 1.0 F 0.5 Ω 12 µA (at 5 V).
    for c, esr, leak_a in ((0.1, 4.0, 3e-6), (0.47, 1.0, 7e-6), (1.0, 0.5, 12e-6)):
        got_esr, got_leak = part_values(c, 0.5, 5.0 / 12e-6)
        assert got_esr == pytest.approx(esr)
        assert got_leak == pytest.approx(5.0 / leak_a)
    # Beyond the table the end segments go on: more capacitance, less ESR, more leakage.
    esr5, leak5 = part_values(5.0, 0.5, 420e3)
    assert esr5 < 0.5 and leak5 < 420e3


def test_an_explicit_value_is_never_scaled() -> None:
    req = Requirement(watch_us=H_US, overrides=(("supercap.leakage_ohm", 2e6),))
    ov = req.profile_overrides(0.1)
    assert ov["supercap.leakage_ohm"] == 2e6
    assert ov["supercap.esr_ohm"] == pytest.approx(4.0)  # scaled from the profile's 0.5 Ω


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"watch_us": 0}, "--watch"),
        ({"watch_us": H_US, "temperature_c": 200.0}, "--temperature"),
        ({"watch_us": H_US, "tolerance": -0.5}, "--tolerance"),
        ({"watch_us": H_US, "battery": "dead"}, "--battery"),
        ({"watch_us": H_US, "overrides": (("supercap.capacitance_f", 1.0),)}, "--candidates"),
        ({"watch_us": H_US, "overrides": (("mcu.wake_mode", "sometimes"),)}, "mcu.wake_mode"),
    ],
)
def test_bad_requirements_are_refused(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(SizingError, match=needle.replace("-", r"\-")):
        Requirement(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--watch", "-5h"], "negative"),
        (["--watch=-72h"], "negative"),
        (["--watch", "0h"], "longer than zero"),
        (["--watch", "three days"], "cannot read duration"),
        (["--watch", "72h", "--set", "supercap.nosuch=1"], "unknown profile key"),
        (["--watch", "72h", "--set", "mcu.wake_mode"], "KEY=VALUE"),
        (["--watch", "72h", "--set", "ambient.temperature_c=5"], "--temperature"),
        (["--watch", "72h", "--temperature", "200"], "--temperature"),
        (["--watch", "72h", "--candidates", "0,1"], "--candidates"),
        (["--watch", "72h", "--candidates", "1F,2F"], "--candidates"),
        (["--watch", "72h", "--battery", "dead"], "--battery"),
        (["--watch", "72h", "--plot", "/dev/null/dir/x.png"], "--plot"),
        (["--temperature", "20"], "--watch"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args: list[str], needle: str) -> None:
    r = meterseal("size", *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("meterseal: error:")
    assert needle in lines[0]
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_cli_impossible_is_a_finding_exit_1(tmp_path: Path) -> None:
    r = meterseal("size", "--watch", "2000h", "--candidates", "0.1,0.22", "--json")
    assert r.returncode == 1
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "impossible" in line and "0.22 F" in line
    d = json.loads(r.stdout)
    assert d["chosen_f"] is None and not any(c["meets"] for c in d["candidates"])
    r = meterseal("size", "--watch", "2000h", "--candidates", "0.1,0.22")
    assert r.returncode == 1 and "impossible" in r.stdout


def test_cli_answer_json_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "size.png"
    r = meterseal("size", "--watch", "24h", "--candidates", "0.47,1,1.5,2.2", "--json",
                  "--plot", str(png))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["chosen_f"] == 1.5
    assert d["requirement"] == {"watch_h": 24.0, "temperature_c": -25.0, "tolerance": -0.2,
                                "ageing": 0.3, "battery": "weak", "openings": 2,
                                "part_family": "eaton-pb", "set": {}}
    drains = {row["drain"] for row in d["budget"]["rows"]}
    assert {"supercap leakage", "MCU sleep", "cover switch bias", "RTC", "MCU wakes",
            "NVM writes", "radio reports"} <= drains
    assert sum(row["percent"] for row in d["budget"]["rows"]) == pytest.approx(100, abs=0.01)
    assert {(v["wake_mode"], v["bias"]) for v in d["variants"]} == set(sizing.VARIANTS)
    assert set(d["by_temperature"]) == {"-25", "0", "20", "45", "70"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = meterseal("size", "--watch", "24h", "--candidates", "0.47,1,1.5,2.2")
    assert r.returncode == 0
    assert "smallest standard value: 1.5 F" in r.stdout
    assert "energy budget" in r.stdout


def test_the_record_macs_have_their_own_line_in_the_budget() -> None:
    """A MAC computed on backup draws the security module's current from the MCU's supply: the
    budget names it, rather than counting it as the MCU's wakes."""
    req = Requirement(watch_us=10 * H_US)
    chained = sizing_trial.run_trial(req, 1.0).budget.coulombs
    plain = sizing_trial.run_trial(
        Requirement(watch_us=10 * H_US, overrides=(("security.record_mac", False),)), 1.0,
    ).budget.coulombs
    assert plain["record_mac"] == 0.0 < chained["record_mac"]
    # Each MAC on backup: 5 mA for 10 ms (security.mac_current_a, mac_time_s); a handful of
    # pages (the openings' halves, the power-down start) are written on backup.
    assert 1 < chained["record_mac"] / (0.005 * 0.01) < 12
