"""The verification report: run the built-in matrix, hold each case against its expectations, and
present the outcome — a Rich table for the terminal, an HTML page with one plot per case for a
design review.

Owns the comparison of verdicts with a case's expectations and every word and cell of the report.
Must not know how a run is simulated or judged (it calls result.simulate and reads the Judgment),
nor how a figure it is handed was computed: extra sections, such as the firmware's own cost on
backup, arrive as finished (label, value, detail) rows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from meterseal.firmware.records import QUALITY_NAMES
from meterseal.hardware.parts import effective_supercap
from meterseal.hardware.profile import Profile, list_keys, resolve_profile
from meterseal.verify.experiment import HEADERS as EXPERIMENT_HEADERS
from meterseal.verify.experiment import LEGEND as EXPERIMENT_LEGEND
from meterseal.verify.experiment import Row as ExperimentRow
from meterseal.verify.experiment import plot_experiment, table_rows
from meterseal.verify.matrix import Case, cases
from meterseal.verify.oracle import INVARIANTS
from meterseal.verify.plot import plot_run
from meterseal.verify.result import Outcome, result_dict, simulate

__all__ = [
    "FIRMWARE_COST_TITLE",
    "CaseResult",
    "Opening",
    "evaluate",
    "firmware_cost_section",
    "openings",
    "render_html",
    "run_matrix",
    "summary_table",
    "write_report",
]

FIRMWARE_COST_TITLE = "Firmware's own cost on backup"

Row = tuple[str, str, str]  # (label, value, detail) of an extra section


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One matrix case run: its outcome and whether the verdicts met the case's expectations."""

    case: Case
    outcome: Outcome
    expected_ok: bool
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every invariant kept and every expectation met."""
        return self.expected_ok and self.outcome.judgment.passed


@dataclass(frozen=True, slots=True)
class Opening:
    """One true opening of a case: what was expected of it, what the oracle found, and whether
    the two agree."""

    index: int
    expected: str  # "recorded / exact", "undetectable", or "—" when the case says nothing
    status: str  # recorded | undetectable | missed | "—" (no verdict)
    quality: str | None
    detail: str  # time error, interval width or cause
    ok: bool


# ---------------------------------------------------------------------- comparison


def _quality_of(out: Outcome, record: int | None) -> str | None:
    if record is None:
        return None
    rec = out.judgment.records.get(record)
    return None if rec is None else QUALITY_NAMES[rec.quality]


def _seconds(s: float) -> str:
    """A duration a reader takes in at a glance."""
    a = abs(s)
    if a < 120:
        return f"{s:.3g} s"
    if a < 2 * 3600:
        return f"{s / 60:.3g} min"
    if a < 2 * 86400:
        return f"{s / 3600:.3g} h"
    return f"{s / 86400:.3g} d"


def openings(case: Case, out: Outcome) -> list[Opening]:
    """Per true opening: the case's expectation beside the oracle's verdict."""
    j = out.judgment
    verdicts = {v.truth: v for v in j.verdicts}
    n = max(len(case.expect), len(out.scenario.cover), len(verdicts))
    rows: list[Opening] = []
    for i in range(n):
        exp = case.expect[i] if i < len(case.expect) else None
        v = verdicts.get(i)
        status = v.status if v is not None else "—"
        quality = _quality_of(out, v.record) if v is not None else None
        detail = ""
        if v is not None:
            if v.time_error_s is not None:
                detail = f"{v.time_error_s:+.3f} s"
            elif quality == "bounded" and v.record is not None:
                rec = j.records[v.record]
                detail = f"interval {_seconds((rec.not_after_ms - rec.not_before_ms) / 1000)}"
            elif v.cause:
                detail = v.cause
        if exp is None:
            expected, ok = "—", False
        else:
            expected = exp.status + (f" / {exp.quality}" if exp.quality else "")
            ok = v is not None and v.status == exp.status and (
                exp.quality is None or quality == exp.quality)
        rows.append(Opening(i, expected, status, quality, detail, ok))
    return rows


def evaluate(case: Case, out: Outcome) -> CaseResult:
    """Hold one run against its case's expectations; notes say where they part."""
    notes: list[str] = []
    if len(case.expect) != len(out.scenario.cover):
        notes.append(f"the case expects {len(case.expect)} opening(s) but its scenario has "
                     f"{len(out.scenario.cover)}")
    for op in openings(case, out):
        if op.ok or op.index >= len(case.expect):
            continue  # an opening the case says nothing of is in the count note above
        got = op.status + (f" / {op.quality}" if op.quality else "")
        notes.append(f"opening {op.index}: expected {op.expected}, got {got}"
                     + (f" ({op.detail})" if op.detail else ""))
    return CaseResult(case, out, not notes, notes)


def run_matrix(progress: bool = True, *, selection: Iterable[Case] | None = None
               ) -> list[CaseResult]:
    """Run every matrix case (or ``selection``) and compare it with its expectations.

    The progress bar goes to stderr, so a table or JSON on stdout stays clean.
    """
    todo = list(cases() if selection is None else selection)
    results: list[CaseResult] = []
    columns = (TextColumn("[bold]verify[/bold] {task.description:<26}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("", total=len(todo))
        for case in todo:
            bar.update(task, description=case.key)
            results.append(evaluate(case, simulate(case.scenario)))
            bar.advance(task)
    return results


# ---------------------------------------------------------------------- terminal


def _short(status: str, quality: str | None) -> str:
    # "recorded" is implied by a quality; the terminal is narrow.
    return quality if status == "recorded" and quality else status


def summary_table(results: Sequence[CaseResult]) -> Table:
    """The matrix at a glance, for the terminal: fits 80 columns, so an opening's expectation
    shows only where the recording differs from it, and I1–I6 are one mark each."""
    passed = sum(r.passed for r in results)
    table = Table(title=f"verification matrix — {passed}/{len(results)} cases pass",
                  box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    table.add_column("case", no_wrap=True)
    table.add_column("recorded per opening", overflow="fold")
    table.add_column("undet.", justify="right", no_wrap=True)
    table.add_column("I1…I6", no_wrap=True)
    table.add_column("result", justify="center", no_wrap=True)
    for r in results:
        recorded = Text()
        for n, op in enumerate(openings(r.case, r.outcome)):
            if n:
                recorded.append("\n")
            recorded.append(_short(op.status, op.quality), style=None if op.ok else "bold red")
            if op.status == "recorded" and op.detail.startswith(("+", "-")):
                recorded.append(f" {op.detail.replace(' s', 's')}", style="dim")
            if not op.ok:
                recorded.append(f"\n  expected {op.expected.replace('recorded / ', '')}",
                                style="red")
        inv = r.outcome.judgment.invariants
        marks = Text()
        for k in INVARIANTS:
            ok = inv.get(k) == "pass"
            marks.append("✓" if ok else "✗", style="green" if ok else "bold white on red")
        verdict = (Text("PASS", style="bold green") if r.passed
                   else Text("FAIL", style="bold white on red"))
        table.add_row(r.case.key, recorded or "—", str(r.outcome.judgment.undetectable), marks,
                      verdict)
    return table


# ---------------------------------------------------------------------- HTML

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430;
       margin: 24px auto; max-width: 1400px; padding: 0 16px; }
h1 { margin-bottom: 0; } h2 { margin-top: 2.2em; border-bottom: 2px solid #d5dbe3; }
h3 { margin-bottom: .3em; }
.meta { color: #5b6575; margin-top: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; }
th, td { border: 1px solid #cfd6df; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.inv { text-align: center; font-weight: 600; width: 3.2em; }
.pass { background: #d8f0dc; color: #14532d; }
.fail { background: #f7c9c9; color: #7f1d1d; }
td.pass, td.fail { font-weight: 700; text-align: center; }
.bad { color: #b00000; font-weight: 600; }
.muted { color: #5b6575; font-size: 12px; }
.case img { max-width: 100%; border: 1px solid #d5dbe3; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 3px; font-weight: 700; }
ul.problems li { color: #7f1d1d; }
table.profile td:first-child { font-family: ui-monospace, monospace; white-space: nowrap; }
table.summary td:first-child a { font-family: ui-monospace, monospace; white-space: nowrap; }
"""


def _e(x: object) -> str:
    return html.escape(str(x), quote=True)


def _slug(key: str) -> str:
    """A file- and anchor-safe name for a case key."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key) or "case"


def _meterseal_version() -> str:
    try:
        return version("meterseal")
    except PackageNotFoundError:
        return "unknown"


def _value(v: object, unit: str) -> str:
    if isinstance(v, float):
        text = f"{v:.4g}"
    else:
        text = str(v)
    return f"{text} {unit}" if unit and unit not in ("-", "") else text


def _profile_section(profile: Profile) -> str:
    p = profile
    cap = effective_supercap(p)
    def g(key: str) -> str:
        return f"{float(p[key]):g}"  # type: ignore[arg-type]

    gist = (
        f"{p['supply.topology']}; supercapacitor {g('supercap.capacitance_f')} F, "
        f"ESR {g('supercap.esr_ohm')} Ω, leakage {float(p['supercap.leakage_ohm']) / 1e3:g} kΩ, "
        f"charged from {g('supercap.charge_source_v')} V through "
        f"{float(p['supercap.charge_resistor_ohm']) / 1e3:g} kΩ; battery "
        f"{'present' if p['battery.present'] else 'absent'} ({g('battery.voltage_v')} V, "
        f"{g('battery.capacity_mah')} mAh, undervoltage {g('battery.undervoltage_v')} V); MCU "
        f"brown-out {g('mcu.brownout_v')} V, sleep {float(p['mcu.sleep_current_a']) * 1e6:g} µA, "
        f"wake by {p['mcu.wake_mode']}; RTC minimum {g('rtc.min_voltage_v')} V. At "
        f"{g('ambient.temperature_c')} °C the supercapacitor is {cap.capacitance_f:.3g} F, "
        f"{cap.esr_ohm:.3g} Ω ESR, {cap.leakage_ohm / 1e3:.3g} kΩ leakage."
    )
    rows = []
    for key in list_keys():
        if key.name not in p:
            continue
        rows.append(f"<tr><td>{_e(key.name)}</td><td class=num>"
                    f"{_e(_value(p[key.name], key.unit))}</td><td>{_e(key.meaning)}</td>"
                    f"<td class=muted>{_e(p.source(key.name))}</td></tr>")
    return (
        f"<h2 id=profile>Profile “{_e(p.name)}”</h2>\n<p>{_e(gist)}</p>\n"
        "<p class=muted>Every case runs this profile; a case's own overrides are listed in its "
        "section. Sources name a row of the reference hardware table; [U] marks an assumption "
        "where that table has no number, [D] a value derived from others.</p>\n"
        "<table class=profile><tr><th>key</th><th>value</th><th>meaning</th><th>source</th>"
        "</tr>\n" + "\n".join(rows) + "\n</table>"
    )


def _lines(items: Sequence[str]) -> str:
    return "<br>".join(items) if items else "—"


def _summary_section(results: Sequence[CaseResult]) -> str:
    head = ("<tr><th>case</th><th>what it tests</th><th>expected<br><span class=muted>per "
            "opening</span></th><th>recorded<br><span class=muted>status · quality · time error"
            "</span></th><th>undetectable</th>"
            + "".join(f"<th>{k}</th>" for k in INVARIANTS) + "<th>overall</th></tr>")
    body = []
    for r in results:
        j = r.outcome.judgment
        ops = openings(r.case, r.outcome)
        expected = _lines([f"#{op.index} {_e(op.expected)}" for op in ops])
        recorded = []
        for op in ops:
            text = f"#{op.index} {_e(op.status)}"
            if op.quality:
                text += f" · {_e(op.quality)}"
            if op.detail and op.status == "recorded":
                text += f" · {_e(op.detail)}"
            recorded.append(text if op.ok else f"<span class=bad>{text}</span>")
        causes = sorted({v.cause for v in j.verdicts if v.status == "undetectable" and v.cause})
        undet = str(j.undetectable) + (
            "<br><span class=muted>" + _e("; ".join(causes)) + "</span>" if causes else "")
        inv = []
        for k in INVARIANTS:
            ok = j.invariants.get(k) == "pass"
            tip = "; ".join(j.problems.get(k, [])) or ("kept" if ok else "failed")
            inv.append(f'<td class="inv {"pass" if ok else "fail"}" title="{_e(tip)}">'
                       f'{"pass" if ok else "FAIL"}</td>')
        overall = "pass" if r.passed else "fail"
        body.append(
            f'<tr><td><a href="#{_slug(r.case.key)}">{_e(r.case.key)}</a></td>'
            f"<td><b>{_e(r.case.title)}</b><br><span class=muted>{_e(r.case.why)}</span></td>"
            f"<td>{expected}</td><td>{_lines(recorded)}</td><td class=num>{undet}</td>"
            + "".join(inv)
            + f'<td class="{overall}">{overall.upper()}</td></tr>'
        )
    return ("<h2 id=summary>Summary</h2>\n<table class=summary>" + head + "\n"
            + "\n".join(body) + "\n</table>")


def _rows_section(title: str, rows: Sequence[Row], empty: str) -> str:
    out = [f"<h2>{_e(title)}</h2>"]
    if not rows:
        out.append(f"<p class=muted>{_e(empty)}</p>")
        return "\n".join(out)
    out.append("<table><tr><th>figure</th><th>value</th><th>detail</th></tr>")
    for label, value, detail in rows:
        out.append(f"<tr><td>{_e(label)}</td><td class=num>{_e(value)}</td>"
                   f"<td>{_e(detail)}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def firmware_cost_section(html_rows: Sequence[Row]) -> str:
    """The section for the firmware's own cost on backup, from (label, value, detail) rows.

    The figure is computed elsewhere; this only lays it out (escaped). With no rows the section
    says it was not supplied, so its absence is visible in a review rather than silent.
    """
    return _rows_section(FIRMWARE_COST_TITLE, html_rows,
                         "Not supplied for this report: the figure is computed by the caller.")


def _case_section(r: CaseResult, image: str | None) -> str:
    sc, j = r.outcome.scenario, r.outcome.judgment
    res = result_dict(r.outcome)
    status = "pass" if r.passed else "fail"
    out = [
        f'<section class=case id="{_slug(r.case.key)}">',
        f'<h2>{_e(r.case.key)} — {_e(r.case.title)} '
        f'<span class="badge {status}">{status.upper()}</span></h2>',
        f"<p>{_e(r.case.why)}</p>",
        f"<p class=muted>scenario “{_e(sc.name)}”, start {_e(sc.start.isoformat())}, "
        f"{_e(_seconds(sc.duration_us / 1e6))}; overrides: "
        + (_e(", ".join(f"{k} = {v!r}" for k, v in sc.overrides)) or "none") + "</p>",
    ]
    if r.notes:
        out.append("<h3>Expectations not met</h3><ul class=problems>"
                   + "".join(f"<li>{_e(n)}</li>" for n in r.notes) + "</ul>")
    problems = [(k, m) for k in INVARIANTS for m in j.problems.get(k, [])]
    if problems:
        out.append("<h3>Problems</h3><ul class=problems>"
                   + "".join(f"<li><b>{_e(k)}</b> {_e(m)}</li>" for k, m in problems) + "</ul>")
    if res["backup"]:
        out.append("<h3>Backup supply per outage</h3><table><tr><th>outage</th><th>from</th>"
                   "<th>to</th><th>supercap at outage</th><th>battery at outage</th>"
                   "<th>watch until</th><th>brown-out at</th><th>RTC stopped at</th></tr>")
        truth = res["truth"]["outages"]
        for b in res["backup"]:
            o = truth[b["outage"]] if b["outage"] < len(truth) else {"from": "", "to": ""}
            out.append(
                f"<tr><td class=num>{b['outage']}</td><td>{_e(o['from'])}</td>"
                f"<td>{_e(o['to'])}</td><td class=num>{b['supercap_v_at_outage']:.3f} V</td>"
                f"<td class=num>{b['battery_v_at_outage']:.3f} V</td>"
                + "".join(f"<td>{_e(b[k] or '—')}</td>"
                          for k in ("watch_until", "brownout_at", "rtc_stopped_at"))
                + "</tr>")
        out.append("</table>")
    recs = res["records"]["cover_open"]
    if recs:
        out.append(f"<h3>Cover-open records (total {res['records']['cover_open_total']}, "
                   "as decoded from the final NVM image)</h3><table><tr><th>seq</th>"
                   "<th>quality</th><th>opened at</th><th>not before</th><th>not after</th>"
                   "<th>closed at</th><th>import before</th></tr>")
        for c in recs:
            out.append(
                f"<tr><td class=num>{c['seq']}</td><td>{_e(c['time_quality'])}</td>"
                + "".join(f"<td>{_e(c[k] or '—')}</td>"
                          for k in ("opened_at", "not_before", "not_after", "closed_at"))
                + f"<td class=num>{c['energy_before_kwh']['import_active']:.2f} kWh</td></tr>")
        out.append("</table>")
    if res["reports"]:
        out.append("<p class=muted>radio reports: " + _e("; ".join(
            f"record {rp['record']} at {rp['at']} on {rp['on']}" for rp in res["reports"]))
            + "</p>")
    if image:
        out.append(f'<img src="{_e(image)}" alt="plot of {_e(r.case.key)}" loading=lazy>')
    out.append("</section>")
    return "\n".join(out)


def render_html(
    results: Sequence[CaseResult],
    *,
    images: dict[str, str] | None = None,
    extra_sections: Sequence[tuple[str, Sequence[Row]]] = (),
    generated: datetime | None = None,
    experiment: Experiment | None = None,
) -> str:
    """The report page as one string (inline CSS, no script). ``images`` maps a case key to the
    relative path of its plot."""
    images = images or {}
    when = (generated or datetime.now().astimezone()).isoformat(timespec="seconds")
    passed = sum(r.passed for r in results)
    failed_inv = sorted({k for r in results for k, v in r.outcome.judgment.invariants.items()
                         if v != "pass"})
    base = resolve_profile({})  # the default profile: the field's board
    verdict = ("all cases pass" if passed == len(results)
               else f"{len(results) - passed} case(s) FAIL"
               + (f" (invariants {', '.join(failed_inv)})" if failed_inv else ""))
    parts = [
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width, initial-scale=1'>",
        "<title>meterseal verification report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>meterseal — verification report</h1>",
        f"<p class=meta>generated {_e(when)} · meterseal {_e(_meterseal_version())} · "
        f"{len(results)} cases, {passed} pass · "
        f'<span class="badge {"pass" if passed == len(results) else "fail"}">'
        f"{_e(verdict)}</span></p>",
        "<p>Each case is a scenario of outages and cover operations run through the simulated "
        "board and firmware; the oracle judges the records decoded from the meter's NVM against "
        "the truth (invariants I1–I6 of DESIGN.md) and the case's expectations per opening. "
        "Hover an invariant cell for its findings.</p>",
        _summary_section(results),
    ]
    have_cost = False
    for title, rows in extra_sections:
        if title == FIRMWARE_COST_TITLE:
            have_cost = True
            parts.append(firmware_cost_section(rows))
        else:
            parts.append(_rows_section(title, rows, "No figures supplied."))
    if not have_cost:
        parts.append(firmware_cost_section(()))
    if experiment is not None:
        parts.append(experiment_section(experiment))
    parts.append(_profile_section(base))
    parts.append("<h2 id=cases>Cases</h2>")
    for r in results:
        parts.append(_case_section(r, images.get(r.case.key)))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(
    results: Sequence[CaseResult],
    directory: str | Path,
    extra_sections: Sequence[tuple[str, Sequence[Row]]] = (),
    experiment_rows: Sequence[ExperimentRow] | None = None,
) -> Path:
    """Write ``index.html`` and one PNG per case (and the seed experiment's figure) into
    ``directory`` (created if missing); return the path of ``index.html``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    images: dict[str, str] = {}
    for r in results:
        name = f"{_slug(r.case.key)}.png"
        plot_run(r.outcome, d / name)
        images[r.case.key] = name
    experiment = None
    if experiment_rows is not None:
        plot_experiment(list(experiment_rows), d / "experiment.png")
        experiment = Experiment(table_rows(list(experiment_rows)), "experiment.png")
    index = d / "index.html"
    index.write_text(render_html(results, images=images, extra_sections=extra_sections,
                                 experiment=experiment), encoding="utf-8")
    return index


@dataclass(frozen=True, slots=True)
class Experiment:
    """The seed experiment as the report shows it: its table's rows and its figure's path."""

    rows: Sequence[tuple[str, ...]]
    image: str | None = None


def experiment_section(ex: Experiment) -> str:
    out = ["<h2 id=experiment>The seed's experiment: with and without the supercapacitor</h2>",
           "<p>The same 5-day outage and four 10-minute openings (1 h, 12 h, 2 d and 4 d into "
           "it) on the meter before the seed's design (the clock battery alone) and on the "
           "seed's design (battery-first), with the battery healthy or undervoltage, a stacked "
           "1 F part (Eaton PB) or the coin cell sold for meters (Eaton KW), long charged (3 "
           "days on mains) or freshly recharged (30 minutes after a 3-day outage). The cap "
           "columns are by the firmware's own budget — what the supercapacitor buys, and where "
           "it stops. Every run is judged by the oracle.</p><p><small>"
           + _e(EXPERIMENT_LEGEND) + "</small></p><table><tr>"
           + "".join(f"<th>{_e(h)}</th>" for h in EXPERIMENT_HEADERS) + "</tr>"]
    for row in ex.rows:
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    if ex.image:
        out.append(f'<img src="{_e(ex.image)}" alt="the seed experiment" loading=lazy>')
    return "\n".join(out)
