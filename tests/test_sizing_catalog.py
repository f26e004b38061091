"""`meterseal size` over the catalogue: which parts meet a requirement, at every temperature.

The answers are checked against the twin's own runs — the design case written as a scenario file
and run with `meterseal run --json`, outside the sizing code — and the verdict is fed forged runs
that it must refuse.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from meterseal.verify.sizing_case import CatalogRequirement, run_case
from meterseal.verify.sizing_catalog import pick_parts, size_catalog
from meterseal.verify.sizing_requirement import SizingError
from meterseal.verify.sizing_verdict import (
    INVARIANT,
    REPORT_ENERGY,
    WATCH_HOURS,
    WRITE_FLOOR,
    judge_case,
)

H_US = 3_600_000_000
KW_NOT_KR = ("--watch", "4h", "--battery", "absent", "--module", "none", "--temperature",
             "-25..70", "--end-of-life", "--parts", "eaton-kw-1f,eaton-kr-0.22f,24lc256")


def meterseal(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meterseal", *args],
                          capture_output=True, text=True, timeout=300)


def design_case_toml(part: str, esr_factor: float, temperature_c: float) -> str:
    """The design case of `--watch 4h --battery absent --module none --end-of-life` as the docs
    state it: long on mains, mains lost 1 h in, openings of 10 min closing 2 h and 4 h after."""
    return f"""
name = "design case {part} {temperature_c} C"
start = "2026-03-01T08:00:00+08:00"
duration = "12h"
[meter]
"supercap.part" = "{part}"
"nvm.part" = "24lc256"
"battery.part" = "er14250"
"battery.state" = "absent"
"radio.module" = "none"
"ambient.temperature_c" = {temperature_c}
"supercap.tolerance" = -0.2
"supercap.ageing" = 0.3
"supercap.esr_ageing_factor" = {esr_factor}
[[outage]]
at = "1h"
for = "10h"
[[cover]]
open_at = "2h 50min"
close_at = "3h"
[[cover]]
open_at = "4h 50min"
close_at = "5h"
"""


def twin_run(tmp_path: Path, part: str, esr_factor: float, temperature_c: float) -> dict:
    path = tmp_path / f"{part}-{temperature_c}.toml"
    path.write_text(design_case_toml(part, esr_factor, temperature_c), encoding="utf-8")
    r = meterseal("run", str(path), "--json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def meets_in_twin(run: dict) -> bool:
    """What a designer reads off the run: the watch lasted 4 h after mains loss and both
    openings were written at once (exact)."""
    until = run["backup"][0]["watch_until"]
    watched = until is None or until >= "2026-03-01T13:00:00+08:00"
    exact = [r["time_quality"] for r in run["records"]["cover_open"]] == ["exact", "exact"]
    return watched and exact


def test_kw_meets_a_requirement_the_kr_does_not_as_the_twin_runs_it(tmp_path: Path) -> None:
    r = meterseal("size", *KW_NOT_KR, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    pairs = {p["supercap"]: p for p in d["pairs"]}
    assert d["meeting"] == [{"supercap": "eaton-kw-1f", "nvm": "24lc256"}]
    assert pairs["eaton-kr-0.22f"]["limit"] == "watch hours"
    assert pairs["eaton-kw-1f"]["margin_h"] > 0 > pairs["eaton-kr-0.22f"]["margin_h"]
    assert [t["temperature_c"] for t in pairs["eaton-kw-1f"]["temperatures"]] == [-25, 20, 70]
    for part, esr_factor in (("eaton-kw-1f", 2.0), ("eaton-kr-0.22f", 3.0)):
        for t in pairs[part]["temperatures"]:
            run = twin_run(tmp_path, part, esr_factor, t["temperature_c"])
            assert meets_in_twin(run) == t["meets"], (part, t)
            assert run["invariants"] == dict.fromkeys(("I1", "I2", "I3", "I4", "I5", "I6"),
                                                      "pass")
    table = meterseal("size", *KW_NOT_KR)
    assert table.returncode == 0
    assert "met by 1 catalogue pair(s): eaton-kw-1f with 24lc256" in table.stdout


def test_a_range_outside_a_parts_rating_excludes_it_with_that_reason() -> None:
    r = meterseal("size", "--watch", "1h", "--battery", "absent", "--module", "none",
                  "--temperature", "-40..20", "--parts", "eaton-pb-1f,eaton-kw-1f,24lc256",
                  "--json")
    d = json.loads(r.stdout)
    pairs = {p["supercap"]: p for p in d["pairs"]}
    pb = pairs["eaton-pb-1f"]
    assert pb["limit"] == "rated temperature" and not pb["meets"]
    assert "-25…+70 °C" in pb["reason"] and "-40 °C" in pb["reason"]
    assert pb["temperatures"] == []  # never simulated outside its rating
    kw = pairs["eaton-kw-1f"]  # rated −40…+85 °C: simulated at both ends
    assert [t["temperature_c"] for t in kw["temperatures"]] == [-40, 20]
    assert r.returncode == (0 if kw["meets"] else 1)


def test_a_requirement_nothing_meets_exits_1_with_the_limit() -> None:
    args = ("size", "--watch", "72h", "--battery", "undervoltage", "--module", "nb-iot",
            "--temperature", "-25..70", "--end-of-life", "--parts", "eaton-kw-1f,24lc256")
    r = meterseal(*args, "--json")
    assert r.returncode == 1
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "no catalogue part meets the requirement" in line and "write floor" in line
    d = json.loads(r.stdout)
    assert not d["found"] and d["meeting"] == []
    (kw,) = d["pairs"]
    assert kw["limit"] == "write floor"
    cold = kw["temperatures"][0]
    assert cold["written_on_backup"] < cold["openings"]
    table = meterseal(*args)
    assert table.returncode == 1 and "what failed first: write floor" in table.stdout


def test_reports_sent_on_backup_are_counted_as_the_module_sent_them() -> None:
    req = CatalogRequirement(watch_us=4 * H_US, battery="undervoltage", module="rf-micropower",
                             temperature_range_c=(20.0, 20.0))
    s = size_catalog(req, ("eaton-pb-1f",), ("24lc256",))
    (pair,) = s.pairs
    assert pair.meets
    (t,) = pair.temperatures
    assert [(o.sends, o.frames_on_backup, o.on_backup) for o in t.run.openings] == \
        [(3, 3, True), (3, 3, True)]  # three sends each, as field firmware sends a report
    kw = size_catalog(dataclasses.replace(req, end_of_life=True), ("eaton-kw-1f",), ("24lc256",))
    # The coin cell's 60 Ω at end of life carrying the MCU and the 33 mA burst: the firmware
    # finds the report unaffordable and records that it sent nothing.
    assert kw.pairs[0].first_failure[0] == REPORT_ENERGY  # type: ignore[index]


def test_progress_is_told_once_per_pair_and_temperature() -> None:
    req = CatalogRequirement(watch_us=H_US, battery="absent", module="none",
                             temperature_range_c=(-40.0, 70.0))
    calls = []
    s = size_catalog(req, *pick_parts(["eaton-kw-1f", "eaton-pb-1f", "24lc256"]),
                     progress=lambda: calls.append(1))
    # Two pairs at −40 / 20 / 70 °C and 70 °C under the leakage bracket (the PB, excluded by
    # its rating, still counted so the bar ends full).
    assert len(calls) == 2 * 4
    assert [p.supercap for p in s.pairs][-1] == "eaton-pb-1f"
    kw = s.pairs[0]
    assert kw.bracket is not None and kw.bracket.run.temperature_c == 70.0
    # The pessimistic leakage law cannot lengthen the watch at the hot end.
    assert kw.bracket.run.watch_h <= kw.temperatures[-1].run.watch_h


# ---------------------------------------------------------------------------------- the verdict


@pytest.fixture(scope="module")
def passing_run():  # type: ignore[no-untyped-def]
    req = CatalogRequirement(watch_us=4 * H_US, battery="healthy", module="rf-micropower")
    run = run_case(req, "eaton-pb-1f", "24lc256", 20.0)
    assert judge_case(run, reports_needed=True).meets
    return run


def _forge(run, k: int = -1, **opening):  # type: ignore[no-untyped-def]
    openings = list(run.openings)
    openings[k] = dataclasses.replace(openings[k], **opening)
    return dataclasses.replace(run, openings=tuple(openings))


@pytest.mark.parametrize(
    ("forge", "limit"),
    [
        (lambda r: dataclasses.replace(r, watch_h=3.9, outlasted=False), WATCH_HOURS),
        (lambda r: _forge(r, status="undetectable", quality=None), WATCH_HOURS),
        (lambda r: _forge(r, quality="deferred", on_backup=False, frames_on_backup=0),
         WRITE_FLOOR),
        (lambda r: _forge(r, sends=1, cut_short=True, frames_on_backup=1), REPORT_ENERGY),
        (lambda r: _forge(r, frames_on_backup=0), INVARIANT),
        (lambda r: dataclasses.replace(r, invariants={**r.invariants, "I2": "fail"}), INVARIANT),
        (lambda r: dataclasses.replace(r, watch_h=1.0, outlasted=False), INVARIANT),
    ],
    ids=["watch-short", "opening-unseen", "not-written", "report-cut", "frames-missing",
         "oracle-failed", "exact-after-watch"],
)
def test_the_verdict_refuses_a_forged_bad_run(passing_run, forge, limit) -> None:  # type: ignore[no-untyped-def]
    v = judge_case(forge(passing_run), reports_needed=True)
    assert not v.meets and v.limit == limit, v


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--temperature", "70..-25", "--module", "none"], "backwards"),
        (["--temperature", "-25..hot"], "--temperature"),
        (["--temperature", "-25..0..70"], "--temperature"),
        (["--temperature", "-60..20"], "--temperature"),
        (["--module", "wifi"], "--module"),
        (["--module", "none", "--parts", "eaton-xx-9f"], "--parts"),
        (["--module", "none", "--candidates", "1,2"], "--candidates"),
        (["--end-of-life", "--ageing", "0.3"], "--ageing"),
        (["--module", "none", "--plot", "x.png"], "--plot"),
        (["--module", "none", "--openings", "11"], "--openings"),
        (["--module", "none", "--set", "supercap.esr_ohm=1"], "catalogue part"),
        (["--module", "none", "--set", "radio.module=nb-iot"], "--module"),
        (["--battery", "flat", "--module", "none"], "--battery"),
    ],
)
def test_bad_catalogue_requirements_exit_2_with_one_line(args: list[str], needle: str) -> None:
    r = meterseal("size", "--watch", "4h", *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0] and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_every_catalogue_supercapacitor_has_an_end_of_life_with_a_source() -> None:
    from meterseal.hardware import catalog
    from meterseal.verify.sizing_case import END_OF_LIFE

    for part in catalog.parts_for("supercap.part"):
        ageing, esr_factor, source = END_OF_LIFE[part.name]
        assert 0 < ageing < 1 and esr_factor >= 1 and source


def test_the_requirement_refuses_what_it_cannot_mean() -> None:
    with pytest.raises(SizingError, match="backwards"):
        CatalogRequirement(watch_us=H_US, temperature_range_c=(70.0, -25.0))
    with pytest.raises(SizingError, match="--battery"):
        CatalogRequirement(watch_us=H_US, battery="dead")


def test_the_capacitance_sweep_keeps_its_flags() -> None:
    r = meterseal("size", "--watch", "24h", "--battery", "good", "--temperature", "-25",
                  "--candidates", "0.47,1", "--json")
    assert r.returncode in (0, 1), r.stderr
    d = json.loads(r.stdout)
    assert d["requirement"]["battery"] == "good" and "chosen_f" in d
