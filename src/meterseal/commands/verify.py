"""`meterseal verify [--report DIR]`: the built-in matrix; exit 1 if any case fails."""

from __future__ import annotations

import argparse
from typing import Any

from meterseal.commands._paths import target_dir
from meterseal.errors import EXIT_FAIL, EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="run the built-in verification matrix")
    p.add_argument("--report", metavar="DIR", help="write an HTML report with plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    report_dir = target_dir(args.report, "--report") if args.report else None

    from rich.console import Console

    from meterseal.verify.cost import firmware_cost
    from meterseal.verify.report import run_matrix, summary_table, write_report

    results = run_matrix(progress=not args.quiet)
    con = Console()
    con.print(summary_table(results))
    cost = firmware_cost()
    con.print(f"firmware's own cost on backup: watch {cost.ratio * 100:.2f} % of what the board's "
              f"quiescent drains alone allow ({cost.detail})")
    extra = [("Firmware's own cost on backup", cost.rows())]
    if report_dir is not None:
        index = write_report(results, report_dir, extra_sections=extra)
        con.print(f"report: {index}")
    failed = [r.case.key for r in results if not (r.expected_ok and r.outcome.judgment.passed)]
    if failed:
        con.print(f"[red]{len(failed)} case(s) failed:[/red] {', '.join(failed)}")
        return EXIT_FAIL
    con.print(f"[green]all {len(results)} cases pass[/green]")
    return EXIT_OK
