"""The `meterseal` command: run one scenario, verify the built-in matrix, and the rest.

Owns argument parsing and the contract that bad input gets one clear line on stderr and exit
status 2, never a traceback. Every subcommand's work lives in its own package; this module only
dispatches and formats.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from meterseal.hardware.profile import ProfileError
from meterseal.sim.scenario import ScenarioError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input the user must fix; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sub = self.prog.removeprefix("meterseal").strip()
        raise UsageError(f"{sub}: {message}" if sub else message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="meterseal", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser("run", help="simulate one scenario and judge its records")
    run.add_argument("scenario", help="scenario TOML file")
    run.add_argument("--json", action="store_true", help="print the run-result JSON")
    run.add_argument("--plot", metavar="FILE.png", help="write a plot of the run")
    run.add_argument("--trace", metavar="FILE.csv", help="write one row per kernel event")
    run.set_defaults(func=cmd_run)

    ver = sub.add_parser("verify", help="run the built-in verification matrix")
    ver.add_argument("--report", metavar="DIR", help="write an HTML report with plots")
    ver.add_argument("--quiet", action="store_true", help="no progress bar")
    ver.set_defaults(func=cmd_verify)

    # Subcommands that live with their package: each module has add_parser(sub) which
    # registers its parser and sets `func`; UsageError from there is reported like ours.
    for module in EXTRA_COMMANDS:
        importlib.import_module(module).add_parser(sub)
    return p


# Modules providing `add_parser(sub)`; one line each.
EXTRA_COMMANDS: list[str] = []
EXTRA_COMMANDS.append("meterseal.protocols.dlt645.commands")  # serve, read
EXTRA_COMMANDS.append("meterseal.verify.campaign.command")
EXTRA_COMMANDS.append("meterseal.verify.sizing")


def _write_target(path: str, what: str) -> Path:
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{what}: directory {parent} does not exist")
    if target.is_dir():
        raise UsageError(f"{what}: {target} is a directory")
    return target


def cmd_run(args: argparse.Namespace) -> int:
    from meterseal.sim.scenario import load_scenario
    from meterseal.verify.result import result_dict, simulate

    plot_path = _write_target(args.plot, "--plot") if args.plot else None
    trace_path = _write_target(args.trace, "--trace") if args.trace else None
    sc = load_scenario(args.scenario)
    out = simulate(sc)
    result = result_dict(out)
    if trace_path is not None:
        with trace_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["t_us", "supercap_v", "battery_v", "load_a", "state"])
            for t, v, vb, i, state in out.log.trace:
                w.writerow([t, f"{v:.9f}", f"{vb:.6f}", f"{i:.9g}", state])
    if plot_path is not None:
        from meterseal.verify.plot import plot_run

        plot_run(out, plot_path)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_summary(result)
    return EXIT_OK if out.judgment.passed else EXIT_FAIL


def _print_summary(r: dict) -> None:  # type: ignore[type-arg]
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]{r['scenario']}[/bold]")
    recs = r["records"]
    t = Table(title=f"cover-open records: {recs['cover_open_total']} in all")
    for col in ("seq", "opened", "closed", "quality", "bounds", "import kWh before/after"):
        t.add_column(col)
    for c in recs["cover_open"]:
        bounds = f"{c['not_before']} … {c['not_after']}" if c["not_before"] else ""
        after = c["energy_after_kwh"]["import_active"] if c["energy_after_kwh"] else "-"
        t.add_row(str(c["seq"]), c["opened_at"], c["closed_at"] or "(open)",
                  c["time_quality"], bounds, f"{c['energy_before_kwh']['import_active']} / {after}")
    con.print(t)
    for v in r["verdicts"]:
        err = f", time error {v['time_error_s']:+.3f} s" if v["time_error_s"] is not None else ""
        cause = f" ({v['cause']})" if v.get("cause") else ""
        con.print(f"opening {v['truth']}: {v['status']}{cause}"
                  + (f" → record {v['record']}" if v["record"] else "") + err)
    for b in r["backup"]:
        con.print(f"outage {b['outage']}: supercap {b['supercap_v_at_outage']} V, battery "
                  f"{b['battery_v_at_outage']} V, watched until {b['watch_until'] or '-'}, "
                  f"brown-out {b['brownout_at'] or '-'}, RTC stopped {b['rtc_stopped_at'] or '-'}")
    inv = " ".join(f"{k}:{'[green]pass[/green]' if v == 'pass' else '[red]FAIL[/red]'}"
                   for k, v in r["invariants"].items())
    con.print(f"invariants {inv}; undetectable {r['undetectable']}")
    for k, msgs in r.get("problems", {}).items():
        for m in msgs:
            con.print(f"[red]{k}[/red] {m}")


def cmd_verify(args: argparse.Namespace) -> int:
    report_dir = None
    if args.report:
        report_dir = Path(args.report)
        if report_dir.exists() and not report_dir.is_dir():
            raise UsageError(f"--report: {report_dir} exists and is not a directory")

    from rich.console import Console

    from meterseal.verify.report import run_matrix, summary_table, write_report

    results = run_matrix(progress=not args.quiet)
    con = Console()
    con.print(summary_table(results))
    extra = []
    from meterseal.verify.cost import firmware_cost

    cost = firmware_cost()
    con.print(f"firmware's own cost on backup: watch {cost.ratio * 100:.2f} % of what the board's "
              f"quiescent drains alone allow ({cost.detail})")
    extra.append(("Firmware's own cost on backup", cost.rows()))
    if report_dir is not None:
        index = write_report(results, report_dir, extra_sections=extra)
        con.print(f"report: {index}")
    failed = [r.case.key for r in results if not (r.expected_ok and r.outcome.judgment.passed)]
    if failed:
        con.print(f"[red]{len(failed)} case(s) failed:[/red] {', '.join(failed)}")
        return EXIT_FAIL
    con.print(f"[green]all {len(results)} cases pass[/green]")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except (UsageError, ScenarioError, ProfileError) as exc:
        print(f"meterseal: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("meterseal: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


if __name__ == "__main__":  # `python -m meterseal.cli`: hand over to the one true module
    from meterseal import cli as _cli

    sys.exit(_cli.main())
