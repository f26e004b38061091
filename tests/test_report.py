"""The plots and the verification report: valid PNGs (also for a year-long run, quickly), a voltage
curve that is the kernel's own closed-form trajectory, and an HTML page that shows every case and
turns a failed invariant red."""

from __future__ import annotations

import dataclasses
import struct
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from meterseal.hardware.parts import charge_path_ohm, effective_supercap
from meterseal.hardware.rc import steady_and_tau, voltage_after
from meterseal.verify.matrix import DEFERRED, _sc, case_by_key, cases
from meterseal.verify.plot import plot_run, supercap_curve, time_axis
from meterseal.verify.report import (
    FIRMWARE_COST_TITLE,
    CaseResult,
    evaluate,
    render_html,
    run_matrix,
    summary_table,
    write_report,
)
from meterseal.verify.result import Outcome, simulate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND", "PNG is truncated"
    return width, height


def assert_sensible_png(path: Path) -> None:
    width, height = png_size(path)
    assert 800 <= width <= 3000 and 600 <= height <= 3000
    assert path.stat().st_size > 20_000  # four panels of lines and text, not an empty canvas


@pytest.fixture(scope="module")
def matrix_results() -> list[CaseResult]:
    return run_matrix(progress=False)


def _failing(result: CaseResult, invariant: str = "I3") -> CaseResult:
    """The same run as if the oracle had found ``invariant`` broken."""
    j = result.outcome.judgment
    broken = dataclasses.replace(
        j,
        invariants={**j.invariants, invariant: "fail"},
        problems={**j.problems, invariant: ["record 1 claims exact time it has not earned"]},
    )
    return evaluate(result.case, dataclasses.replace(result.outcome, judgment=broken))


# ---------------------------------------------------------------------- plot


def test_plot_of_a_matrix_case_is_a_sensible_png(tmp_path: Path) -> None:
    out = simulate(case_by_key("cold-coin-cell-deferred").scenario)
    path = tmp_path / "case.png"
    plot_run(out, str(path))  # a str path is accepted as well as a Path
    assert_sensible_png(path)


def _one_year() -> Outcome:
    outages = [(f"{15 + 30 * i}d", f"{1 + i % 5}d") for i in range(12)]
    cover = [(f"{16 + 30 * i}d 3h", f"{16 + 30 * i}d 4h") for i in range(12)]
    return simulate(_sc("one year of monthly outages", "365d", outages, cover))


def test_plot_of_a_one_year_run_is_drawn_in_days(tmp_path: Path) -> None:
    out = _one_year()
    assert time_axis(out.scenario.duration_us).name == "d"
    path = tmp_path / "year.png"
    plot_run(out, path)
    assert_sensible_png(path)


def test_each_trace_interval_lands_on_the_next_row() -> None:
    """The plot's reading of a trace row (its load, and while mains is present the charger's
    current within it) reproduces the kernel's own trajectory to the next row, while charging as
    well as discharging."""
    out = simulate(case_by_key("after-exhaustion").scenario)
    sc, rows = out.scenario, out.log.trace
    p = sc.profile
    cap = effective_supercap(p)
    charge_v = float(p["supercap.charge_source_v"])
    charge_r = charge_path_ohm(p)
    charging_seen = 0
    for (t0, v0, _, load, *_), (t1, v1, *_) in pairwise(rows):
        mains = not any(o.at_us <= t0 < o.end_us for o in sc.outages)
        if mains:
            load += (charge_v - v0) / charge_r
            charging_seen += v1 > v0 + 0.1
        v_inf, tau = steady_and_tau(cap.capacitance_f, cap.leakage_ohm, load,
                                    charge_v if mains else None, charge_r if mains else None)
        assert voltage_after(v0, (t1 - t0) * 1e-6, v_inf, tau) == pytest.approx(v1, abs=1e-9)
    assert charging_seen  # the recharge after the outage was among the intervals


def test_supercap_curve_is_the_closed_form_between_trace_rows() -> None:
    out = simulate(case_by_key("after-exhaustion").scenario)
    t, v = supercap_curve(out)
    rows = out.log.trace
    assert np.all(np.diff(t) >= 0)
    # Every trace row lies on the curve.
    for t_row, v_row, *_ in rows:
        k = np.flatnonzero(t == t_row)
        assert k.size and np.any(np.isclose(v[k], v_row, rtol=0, atol=1e-12))
    # Inside the longest interval, the samples are the exponential, not a straight segment.
    gaps = [rows[i + 1][0] - rows[i][0] for i in range(len(rows) - 1)]
    i = int(np.argmax(gaps))
    t0, v0, _, load, *_ = rows[i]
    t1, v1 = rows[i + 1][:2]
    inside = (t > t0) & (t < t1)
    assert inside.sum() > 50
    cap = effective_supercap(out.scenario.profile)
    v_inf, tau = steady_and_tau(cap.capacitance_f, cap.leakage_ohm, load)  # mains is off
    for ts, vs in zip(t[inside][::25], v[inside][::25], strict=True):
        assert vs == pytest.approx(voltage_after(v0, (ts - t0) * 1e-6, v_inf, tau), abs=1e-12)
    chord = np.interp(t[inside], [t0, t1], [v0, v1])
    assert np.max(np.abs(v[inside] - chord)) > 0.01  # visibly curved
    # Never above what the charger can reach.
    assert v.max() <= float(out.scenario.profile["supercap.charge_source_v"])


# ---------------------------------------------------------------------- report


def test_matrix_meets_its_expectations(matrix_results: list[CaseResult]) -> None:
    assert [r.case.key for r in matrix_results] == [c.key for c in cases()]
    for r in matrix_results:
        assert r.expected_ok, (r.case.key, r.notes)


def test_html_names_every_case(matrix_results: list[CaseResult]) -> None:
    page = render_html(matrix_results)
    for r in matrix_results:
        assert f'id="{r.case.key}"' in page
        assert f'href="#{r.case.key}"' in page
    assert 'class="inv fail"' not in page
    assert "<script" not in page


def test_a_failed_invariant_turns_its_cell_red(matrix_results: list[CaseResult]) -> None:
    bad = _failing(matrix_results[0], "I3")
    assert bad.expected_ok and not bad.passed
    page = render_html([bad, *matrix_results[1:3]])
    assert page.count('class="inv fail"') == 1
    assert "claims exact time it has not earned" in page  # problem listed (and in the tooltip)
    assert '<td class="fail">FAIL</td>' in page
    console = Console(record=True, width=200)
    console.print(summary_table([bad]))
    assert "FAIL" in console.export_text()


def test_an_unmet_expectation_is_noted_and_fails_the_case(
    matrix_results: list[CaseResult],
) -> None:
    r = matrix_results[0]  # before-outage: an exact record
    wrong = dataclasses.replace(r.case, expect=(DEFERRED,))
    res = evaluate(wrong, r.outcome)
    assert not res.expected_ok and not res.passed
    assert res.notes == ["opening 0: expected recorded / deferred, got recorded / exact "
                         f"({r.outcome.judgment.verdicts[0].time_error_s:+.3f} s)"]
    assert "Expectations not met" in render_html([res])


def test_write_report_creates_the_directory(
    matrix_results: list[CaseResult], tmp_path: Path
) -> None:
    subset = [matrix_results[0], _failing(matrix_results[5], "I2")]
    target = tmp_path / "not" / "yet"
    rows = [("watch with the firmware", "40.10 h", "simulated"), ("ratio", "97.5 %", "<&>")]
    index = write_report(subset, target, extra_sections=[(FIRMWARE_COST_TITLE, rows)])
    assert index == target / "index.html" and index.is_file()
    page = index.read_text(encoding="utf-8")
    for r in subset:
        png = target / f"{r.case.key}.png"
        assert_sensible_png(png)
        assert f'src="{r.case.key}.png"' in page
    assert "Firmware&#x27;s own cost on backup" in page
    assert "97.5 %" in page and "&lt;&amp;&gt;" in page  # rows are escaped
    assert page.count('class="inv fail"') == 1
    # Writing again into the existing directory is fine.
    assert write_report(subset[:1], target) == index


def test_firmware_cost_section_is_a_visible_placeholder_without_rows(
    matrix_results: list[CaseResult],
) -> None:
    page = render_html(matrix_results[:1])
    assert "Firmware&#x27;s own cost on backup" in page
    assert "Not supplied" in page
