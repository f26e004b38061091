"""`meterseal run SCENARIO [--json] [--plot FILE.png] [--trace FILE.csv]`: one scenario, judged."""

from __future__ import annotations

import argparse
from typing import Any

from meterseal.commands._output import emit_json, plain
from meterseal.commands._paths import atomic_write, write_target
from meterseal.errors import EXIT_FAIL, EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="simulate one scenario and judge its records")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--json", action="store_true", help="print the run-result JSON")
    p.add_argument("--plot", metavar="FILE.png", help="write a plot of the run")
    p.add_argument("--trace", metavar="FILE.csv", help="write one row per kernel event")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    from meterseal.sim.scenario import load_scenario
    from meterseal.sim.trace import write_trace_csv
    from meterseal.verify.result import result_dict, simulate

    plot_path = write_target(args.plot, "--plot") if args.plot else None
    trace_path = write_target(args.trace, "--trace") if args.trace else None
    sc = load_scenario(args.scenario)
    out = simulate(sc, trace=trace_path is not None or plot_path is not None)
    result = result_dict(out)
    if trace_path is not None:
        with atomic_write(trace_path, "--trace", newline="", encoding="utf-8") as fh:
            write_trace_csv(out.log, fh)
    if plot_path is not None:
        from meterseal.verify.plot import plot_run

        with atomic_write(plot_path, "--plot", mode="wb") as fh:
            plot_run(out, fh)
    if args.json:
        emit_json(result)
    else:
        print_summary(result)
    return EXIT_OK if out.judgment.passed else EXIT_FAIL


def print_summary(r: dict[str, Any]) -> None:
    from rich.console import Console

    con = Console()
    con.print(f"[bold]{plain(r['scenario'])}[/bold]")
    recs = r["records"]
    _print_log(con, r, "cover", "opening")
    if r["truth"].get("terminal_cover") or recs.get("terminal_cover_open_total"):
        _print_log(con, r, "terminal_cover", "terminal-cover opening")
    for b in r["backup"]:
        con.print(f"outage {b['outage']}: supercap {b['supercap_v_at_outage']} V, battery "
                  f"{b['battery_v_at_outage']} V, watched until {b['watch_until'] or '-'}, "
                  f"brown-out {b['brownout_at'] or '-'}, RTC stopped {b['rtc_stopped_at'] or '-'}")
    inv = " ".join(f"{k}:{'[green]pass[/green]' if v == 'pass' else '[red]FAIL[/red]'}"
                   for k, v in r["invariants"].items())
    con.print(f"invariants {inv}; undetectable {r['undetectable']}")
    for k, msgs in r.get("problems", {}).items():
        for m in msgs:
            con.print(f"[red]{k}[/red] {plain(m)}")


def _print_log(con: Any, r: dict[str, Any], log: str, what: str) -> None:
    """One cover's records as a table, then the verdict on each of its true openings."""
    from rich.table import Table

    recs = r["records"]
    title = log.replace("_", "-")
    t = Table(title=f"{title}-open records: {recs[log + '_open_total']} in all")
    for col in ("seq", "opened", "closed", "quality", "bounds", "import kWh before/after"):
        t.add_column(col)
    for c in recs[log + "_open"]:
        bounds = f"{c['not_before']} … {c['not_after']}" if c["not_before"] else ""
        after = c["energy_after_kwh"]["import_active"] if c["energy_after_kwh"] else "-"
        t.add_row(str(c["seq"]), c["opened_at"], c["closed_at"] or "(open)",
                  c["time_quality"], bounds, f"{c['energy_before_kwh']['import_active']} / {after}")
    con.print(t)
    for v in r["verdicts" if log == "cover" else "terminal_verdicts"]:
        err = f", time error {v['time_error_s']:+.3f} s" if v["time_error_s"] is not None else ""
        cause = f" ({plain(v['cause'])})" if v.get("cause") else ""
        con.print(f"{what} {v['truth']}: {v['status']}{cause}"
                  + (f" → record {v['record']}" if v["record"] else "") + err)
