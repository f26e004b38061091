"""The campaign's summary: violations per invariant, verdicts, time qualities, undetectable
openings by cause, and scenarios per kind — computed from the results table, printed with Rich.

Owns only the tallies and their presentation; the table's columns are rows.py's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyarrow as pa  # type: ignore[import-untyped]

from meterseal.verify.campaign.rows import QUALITIES, STATUSES
from meterseal.verify.oracle import INVARIANTS

__all__ = ["Summary", "summarise"]


@dataclass(frozen=True, slots=True)
class Summary:
    scenarios: int
    failed: int  # scenarios with any invariant broken, or that raised
    crashed: int
    violations: dict[str, int]  # invariant -> scenarios that broke it
    verdicts: dict[str, int]  # status -> openings
    qualities: dict[str, int]  # time quality -> records
    causes: list[tuple[str, int]]  # undetectable cause -> openings, most frequent first
    kinds: list[tuple[str, int, int]]  # kind -> (scenarios, failed), most frequent first


def summarise(table: pa.Table) -> Summary:
    cols = {name: table.column(name).to_pylist() for name in (
        "kind", "passed", "error", "undetectable_causes", *INVARIANTS, *STATUSES,
        *(f"q_{q}" for q in QUALITIES))}
    violations = {i: sum(1 for v in cols[i] if v is False) for i in INVARIANTS}
    verdicts = {s: sum(v or 0 for v in cols[s]) for s in STATUSES}
    qualities = {q: sum(v or 0 for v in cols[f"q_{q}"]) for q in QUALITIES}
    causes = Counter(c for lst in cols["undetectable_causes"] for c in (lst or []))
    kind_n: Counter[str] = Counter()
    kind_failed: Counter[str] = Counter()
    for kind, passed in zip(cols["kind"], cols["passed"], strict=True):
        k = kind or "?"
        kind_n[k] += 1
        kind_failed[k] += 0 if passed else 1
    return Summary(
        scenarios=table.num_rows,
        failed=sum(1 for p in cols["passed"] if not p),
        crashed=sum(1 for e in cols["error"] if e),
        violations=violations,
        verdicts=verdicts,
        qualities=qualities,
        causes=causes.most_common(),
        kinds=[(k, n, kind_failed[k]) for k, n in kind_n.most_common()],
    )


def render(s: Summary, console, *, title: str = "campaign") -> None:  # type: ignore[no-untyped-def]
    """Print the summary tables on a rich Console."""
    from rich.table import Table

    inv = Table(title=f"{title}: {s.scenarios} scenarios, {s.failed} failing")
    inv.add_column("invariant")
    inv.add_column("scenarios violating", justify="right")
    for i in INVARIANTS:
        n = s.violations[i]
        inv.add_row(i, f"[red]{n}[/red]" if n else "0")
    if s.crashed:
        inv.add_row("raised", f"[red]{s.crashed}[/red]")
    console.print(inv)

    ver = Table(title="openings by verdict, records by time quality")
    ver.add_column("verdict")
    ver.add_column("openings", justify="right")
    ver.add_column("time quality")
    ver.add_column("records", justify="right")
    rows = max(len(STATUSES), len(QUALITIES))
    for k in range(rows):
        st = STATUSES[k] if k < len(STATUSES) else ""
        q = QUALITIES[k] if k < len(QUALITIES) else ""
        ver.add_row(st, str(s.verdicts[st]) if st else "", q, str(s.qualities[q]) if q else "")
    console.print(ver)

    cz = Table(title="undetectable openings by cause")
    cz.add_column("cause")
    cz.add_column("openings", justify="right")
    for cause, n in s.causes:
        cz.add_row(cause, str(n))
    if not s.causes:
        cz.add_row("(none)", "0")
    console.print(cz)

    kd = Table(title="scenarios by timing")
    kd.add_column("kind")
    kd.add_column("scenarios", justify="right")
    kd.add_column("failing", justify="right")
    for kind, n, failed in s.kinds:
        kd.add_row(kind, str(n), f"[red]{failed}[/red]" if failed else "0")
    console.print(kd)
