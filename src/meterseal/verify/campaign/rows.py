"""One results row per campaign scenario, the Parquet schema they share, and batches of them.

Owns the columns of a campaign's results table (their names, types and meaning, in SCHEMA) and
``run_batch``, the unit of work a Dask task runs: draw scenarios ``lo..hi-1`` of a campaign,
simulate and judge each, and return their rows as columns (plus the TOML of each failing one, so
a client on another machine than the workers can keep them). Every column but ``runtime_s`` is a
pure function of (seed, index). It knows nothing of Dask, progress bars or files.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from meterseal.firmware.records import QUALITY_NAMES
from meterseal.sim.scenario_toml import format_duration, to_toml
from meterseal.verify.campaign.generate import Drawn, draw, outage_stats
from meterseal.verify.oracle import INVARIANTS
from meterseal.verify.result import Outcome, simulate

__all__ = [
    "COLUMNS",
    "QUALITIES",
    "SCHEMA",
    "STATUSES",
    "Batch",
    "cause_key",
    "row",
    "run_batch",
    "run_one",
]

STATUSES = ("recorded", "undetectable", "missed")
QUALITIES = tuple(QUALITY_NAMES)  # exact, deferred, bounded, unsynced

_F = pa.float64()
_I = pa.int64()
_S = pa.string()
_B = pa.bool_()

# (column, type, meaning). Order = column order in the Parquet file.
COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("index", _I, "the scenario's index in the campaign"),
    ("seed", _I, "the campaign seed"),
    ("scenario_seed", _I, "the scenario's own seed (switch bounce, torn bytes)"),
    ("kind", _S, "random, or the adversarial timing placed (adversaries.ADVERSARIAL_KINDS)"),
    ("boundary_us", _I, "the state boundary aimed at, µs from the start (null for random)"),
    ("placed_us", _I, "where the adversarial edge or cut landed, µs from the start"),
    ("start", _S, "scenario start, ISO-8601 with offset"),
    ("duration_s", _F, "scenario length"),
    ("outages", _I, "outages that start inside the scenario"),
    ("outage_total_s", _F, "their total length"),
    ("longest_outage_s", _F, "the longest one"),
    ("cover_ops", _I, "true cover operations (openings)"),
    ("faults", _I, "injected power cuts"),
    ("temperature_c", _F, "ambient.temperature_c"),
    ("capacitance_f", _F, "supercap.capacitance_f (nominal, before tolerance and ageing)"),
    ("tolerance", _F, "supercap.tolerance"),
    ("ageing", _F, "supercap.ageing"),
    ("esr_ohm", _F, "supercap.esr_ohm (nominal)"),
    ("esr_ageing_factor", _F, "supercap.esr_ageing_factor"),
    ("leakage_ohm", _F, "supercap.leakage_ohm"),
    ("battery", _S, "good | weak (2.4 V) | absent"),
    ("topology", _S, "supply.topology"),
    ("wake_mode", _S, "mcu.wake_mode"),
    ("poll_period_s", _F, "mcu.poll_period_s"),
    ("bias", _S, "cover.bias"),
    ("radio", _B, "radio.present"),
    ("drift_ppm", _F, "rtc.drift_ppm"),
    *((s, _I, f"openings with verdict '{s}'") for s in STATUSES),
    *((f"q_{q}", _I, f"records committed with time quality '{q}'") for q in QUALITIES),
    ("records", _I, "cover-open records ever committed"),
    ("reports", _I, "active reports the radio sent"),
    *((i, _B, f"invariant {i} kept (true = pass)") for i in INVARIANTS),
    ("passed", _B, "every invariant kept (false also when it raised)"),
    ("undetectable_causes", pa.list_(_S), "cause of each undetectable opening (cause_key)"),
    ("problems", pa.list_(_S), "the oracle's findings, 'I2: …' (empty when passed)"),
    ("error", _S, "the exception drawing or simulating it raised (null when it ran)"),
    ("runtime_s", _F, "wall time to draw, simulate and judge it (the only impure column)"),
)
SCHEMA = pa.schema([pa.field(name, typ) for name, typ, _ in COLUMNS])
COLUMN_NAMES = tuple(name for name, _t, _m in COLUMNS)

_OPENING_N = re.compile(r"opening \d+")


def cause_key(cause: str) -> str:
    """An undetectable cause without the numbers that differ between scenarios."""
    return _OPENING_N.sub("another opening", cause)


def row(d: Drawn, out: Outcome, runtime_s: float) -> dict[str, Any]:
    sc, j = d.scenario, out.judgment
    p = sc.profile
    n_out, total_s, longest_s = outage_stats(sc)
    statuses = {s: 0 for s in STATUSES}
    for v in j.verdicts:
        statuses[v.status] += 1
    qualities = {q: 0 for q in QUALITIES}
    for rec in j.records.values():
        qualities[QUALITY_NAMES[rec.quality]] += 1
    r: dict[str, Any] = {
        "index": d.index,
        "seed": d.seed,
        "scenario_seed": sc.seed,
        "kind": d.kind,
        "boundary_us": d.boundary_us,
        "placed_us": d.placed_us,
        "start": sc.start.isoformat(),
        "duration_s": sc.duration_us / 1e6,
        "outages": n_out,
        "outage_total_s": total_s,
        "longest_outage_s": longest_s,
        "cover_ops": len(sc.cover),
        "faults": len(sc.faults),
        "temperature_c": float(p["ambient.temperature_c"]),
        "capacitance_f": float(p["supercap.capacitance_f"]),
        "tolerance": float(p["supercap.tolerance"]),
        "ageing": float(p["supercap.ageing"]),
        "esr_ohm": float(p["supercap.esr_ohm"]),
        "esr_ageing_factor": float(p["supercap.esr_ageing_factor"]),
        "leakage_ohm": float(p["supercap.leakage_ohm"]),
        "battery": d.battery,
        "topology": str(p["supply.topology"]),
        "wake_mode": str(p["mcu.wake_mode"]),
        "poll_period_s": float(p["mcu.poll_period_s"]),
        "bias": str(p["cover.bias"]),
        "radio": bool(p["radio.present"]),
        "drift_ppm": float(p["rtc.drift_ppm"]),
        **statuses,
        **{f"q_{q}": n for q, n in qualities.items()},
        "records": len(j.records),
        "reports": len(out.log.reports),
        **{i: j.invariants[i] == "pass" for i in INVARIANTS},
        "passed": j.passed,
        "undetectable_causes": [cause_key(v.cause or "") for v in j.verdicts
                                if v.status == "undetectable"],
        "problems": [f"{k}: {msg}" for k in INVARIANTS for msg in j.problems[k]],
        "error": None,
        "runtime_s": runtime_s,
    }
    return r


@dataclass(slots=True)
class Batch:
    """What one task returns: its rows as columns, and the TOML of each failing scenario."""

    lo: int
    hi: int
    columns: dict[str, list[Any]]
    failures: list[tuple[int, str]] = field(default_factory=list)  # (index, TOML text)

    def __len__(self) -> int:
        return self.hi - self.lo


def failure_header(d: Drawn, r: dict[str, Any]) -> str:
    broke = r["error"] or "broke " + ", ".join(i for i in INVARIANTS if not r[i])
    lines = [
        f"meterseal campaign --seed {d.seed}: scenario {d.index} ({d.kind}): {broke}",
        "replay: meterseal run <this file> --json   (the same result as in the campaign)",
    ]
    if d.boundary_us is not None:
        at = d.placed_us if d.placed_us is not None else d.boundary_us
        lines.append(f"aimed at the boundary at {format_duration(d.boundary_us)}; the adversarial "
                     f"edge or cut at {format_duration(at)}")
    lines += r["problems"]
    return "\n".join(lines)


def error_row(seed: int, index: int, d: Drawn | None, exc: BaseException) -> dict[str, Any]:
    """The row of a scenario whose drawing or run raised: a finding of its own (invariant columns
    null, ``passed`` false, ``error`` the exception in one line)."""
    r: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    r.update(index=index, seed=seed, passed=False, undetectable_causes=[], problems=[],
             error=f"{exc.__class__.__name__}: {' '.join(str(exc).split())}"[:500])
    if d is not None:
        r.update(scenario_seed=d.scenario.seed, kind=d.kind, boundary_us=d.boundary_us,
                 placed_us=d.placed_us, battery=d.battery, start=d.scenario.start.isoformat(),
                 duration_s=d.scenario.duration_us / 1e6, cover_ops=len(d.scenario.cover),
                 faults=len(d.scenario.faults))
    return r


def run_one(seed: int, index: int) -> tuple[dict[str, Any], str | None]:
    """Scenario ``index`` of campaign ``seed`` drawn, simulated and judged: its row, and its
    TOML when it failed (None when it passed)."""
    t0 = time.perf_counter()
    d: Drawn | None = None
    try:
        d = draw(seed, index)
        out = simulate(d.scenario, trace=False)
        r = row(d, out, 0.0)
    except Exception as exc:  # a crash is a finding: keep going, report it
        r = error_row(seed, index, d, exc)
    r["runtime_s"] = time.perf_counter() - t0
    if r["passed"] or d is None:
        return r, None
    return r, to_toml(d.scenario, header=failure_header(d, r))


def run_batch(seed: int, lo: int, hi: int) -> Batch:
    """Scenarios lo..hi-1 of campaign ``seed``: drawn, simulated, judged, tabulated."""
    columns: dict[str, list[Any]] = {name: [] for name in COLUMN_NAMES}
    failures: list[tuple[int, str]] = []
    for index in range(lo, hi):
        r, text = run_one(seed, index)
        for name in COLUMN_NAMES:
            columns[name].append(r[name])
        if text is not None:
            failures.append((index, text))
    return Batch(lo, hi, columns, failures)
