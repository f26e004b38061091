"""`meterseal verify [--report DIR]`: the built-in matrix; exit 1 if any case fails."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from meterseal.commands._output import plain
from meterseal.commands._paths import target_dir
from meterseal.errors import EXIT_FAIL, EXIT_OK, UsageError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="run the built-in verification matrix")
    p.add_argument("--report", metavar="DIR", help="write an HTML report with plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    report_dir = target_dir(args.report, "--report") if args.report else None

    from rich.console import Console

    from meterseal.verify.cost import firmware_cost
    from meterseal.verify.experiment import run_experiment
    from meterseal.verify.report import run_matrix, summary_table

    results = run_matrix(progress=not args.quiet)
    con = Console()
    con.print(summary_table(results))
    cost = firmware_cost()
    con.print(f"firmware's own cost on backup: watch {cost.ratio * 100:.2f} % of what the board's "
              f"quiescent drains alone allow ({cost.detail})")
    extra = [("Firmware's own cost on backup", cost.rows())]
    experiment = run_experiment()
    # Piped output gets room for the comparison instead of rich's 80-column default.
    Console(width=None if sys.stdout.isatty() else 110).print(_experiment_table(experiment))
    if report_dir is not None:
        index = _write_report_whole(results, report_dir, extra, experiment)
        con.print(f"report: {plain(index)}")
    failed = [r.case.key for r in results if not (r.expected_ok and r.outcome.judgment.passed)]
    failed += [f"experiment:{r.variant.key}" for r in experiment if not r.passed]
    if failed:
        con.print(f"[red]{len(failed)} case(s) failed:[/red] {', '.join(failed)}")
        return EXIT_FAIL
    con.print(f"[green]all {len(results)} cases pass[/green]")
    return EXIT_OK


def _experiment_table(rows):  # type: ignore[no-untyped-def]
    from rich.table import Table

    from meterseal.verify.experiment import HEADERS, LEGEND, table_rows

    t = Table(title="the seed's experiment: what the supercapacitor buys, and where it stops",
              caption=LEGEND, caption_justify="left")
    for h in HEADERS:
        t.add_column(h, no_wrap=h != "quality")
    for row in table_rows(rows):
        t.add_row(*row)
    return t


def _write_report_whole(results, report_dir: Path, extra, experiment) -> Path:  # type: ignore[no-untyped-def]
    """The report is drawn into a fresh folder beside the target and moved in only when every
    file is written: a full device costs the new report, never the old one."""
    from meterseal.verify.report import write_report

    # The draft sits on the report's own file system (inside the folder when it exists), so the
    # moves are renames and never cross a device.
    parent = report_dir.parent if str(report_dir.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        draft_in = report_dir if report_dir.is_dir() else parent
        with tempfile.TemporaryDirectory(prefix=f".{report_dir.name}.", dir=draft_in) as tmp:
            index = write_report(results, tmp, extra_sections=extra, experiment_rows=experiment)
            report_dir.mkdir(exist_ok=True)
            for f in sorted(Path(tmp).iterdir()):
                os.replace(f, report_dir / f.name)
            return report_dir / index.name
    except OSError as exc:
        raise UsageError(f"--report: could not write the report into {report_dir} "
                         f"({exc.strerror or exc})") from None
