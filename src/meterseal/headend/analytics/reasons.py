"""Reasons in words: one sentence per piece of evidence, with its numbers, in the meter's local
time — what a revenue-protection engineer reads before sending someone.

Owns: reading, in bulk, the details a sentence names (each meter's unexplained openings, its
own supply cuts, the consumption change after them and its peers', the clears near them) and
writing the sentences, strongest contribution to the score first.

Must not know: how the evidence was computed (features.py) or weighed (score.py's model).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import duckdb

from meterseal.headend.analytics.weights import Weights

_QUALITY_WORDS = {
    "exact": "time exact (seen and written at once)",
    "deferred": "time exact (seen on backup, written later)",
    "bounded": "time bounded (not seen; inferred at power-up)",
    "unknown": "time quality unknown (standard record only)",
    "unsynced": "time unknown (the clock had lost its time)",
}


def local(t: datetime | None, offset_h: float) -> str:
    if t is None:
        return "?"
    tz = timezone(timedelta(hours=offset_h))
    return t.astimezone(tz).isoformat(sep=" ", timespec="minutes")


def when(o: dict[str, Any], offset_h: float) -> str:
    if o["quality"] == "bounded" and o["earliest"] != o["latest"]:
        return f"between {local(o['earliest'], offset_h)} and {local(o['latest'], offset_h)}"
    if o["quality"] == "unsynced":
        return f"at an unknown time (the meter's clock read {local(o['opened_at'], offset_h)})"
    return f"at {local(o['opened_at'], offset_h)}"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{x * 100:+.0f} %"


@dataclass(slots=True)
class Details:
    offset_h: dict[str, float] = field(default_factory=dict)
    openings: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    cuts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    terminal: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list))
    changes: dict[tuple[str, str, int], dict[int, dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Details:
        d = cls()
        d.offset_h = {a: float(o) for a, o in
                      con.execute("SELECT address, utc_offset_h FROM meter").fetchall()}
        for o in _rows(con, "SELECT * FROM opening ORDER BY address, earliest"):
            d.openings[o["address"]].append(o)
        for g in _rows(con, "SELECT * FROM outage WHERE local_cut ORDER BY address, started_at"):
            d.cuts[g["address"]].append(g)
        for t in _rows(con, "SELECT * FROM terminal_opening ORDER BY address, earliest"):
            d.terminal[t["address"]].append(t)
        for c in _rows(con, "SELECT * FROM consumption_change"):
            d.changes.setdefault((c["address"], c["kind"], int(c["ref"])), {})[c["days"]] = c
        return d

    def qualities(self, address: str) -> tuple[str, ...]:
        return tuple(sorted({o["quality"] for o in self.openings.get(address, [])
                             if o["order_id"] is None}))

    def _change_words(self, address: str, kind: str, ref: int, feeder: str,
                      ctype: str) -> str | None:
        by_days = self.changes.get((address, kind, ref), {})
        parts = []
        for days in sorted(by_days):
            c = by_days[days]
            if c["relative_change"] is None:
                continue
            parts.append(f"{days} days: {c['before_kwh']:.1f} → {c['after_kwh']:.1f} kWh/day"
                         f" ({_pct(c['ratio'] - 1)}) while {c['peers']} other {ctype}"
                         f" customers of feeder {feeder} changed {_pct(c['peer_ratio'] - 1)}:"
                         f" {_pct(c['relative_change'])} against them")
        return "; ".join(parts) or None

    def _opening_reason(self, o: dict[str, Any], row: dict[str, Any]) -> str:
        a, off = row["address"], self.offset_h.get(row["address"], 8.0)
        if o["during_local_cut"]:
            where = "during a supply cut only this meter saw"
        elif o["during_outage"] and o["dark_by_energy"]:
            minutes = (o["closed_at"] - o["opened_at"]).total_seconds() / 60
            where = (f"during an outage (no energy metered in the {minutes:.0f} minutes it was"
                     " open)")
        elif o["during_outage"]:
            where = "during an outage"
        else:
            where = "on mains"
        text = (f"cover opened {when(o, off)} {where}, {_QUALITY_WORDS[o['quality']]};"
                f" no work order covers it (seq {o['seq']})")
        change = self._change_words(a, "opening", int(o["seq"]), row["feeder"],
                                    row["customer_type"])
        if change:
            text += f"; consumption after it, {change}"
        if o["clears_near"]:
            text += f"; {o['clears_near']} event clear(s) within 7 days of it"
        if o["clock_changes_near"]:
            text += f"; {o['clock_changes_near']} clock change(s) within 7 days of it"
        return text

    def _cut_reason(self, g: dict[str, Any], row: dict[str, Any], with_change: bool) -> str:
        off = self.offset_h.get(row["address"], 8.0)
        text = (f"supply cut {local(g['started_at'], off)} → {local(g['ended_at'], off)} seen by"
                f" this meter alone ({g['neighbours_saw']} of {g['neighbours']} neighbours on"
                f" feeder {g['feeder']} saw it)")
        change = with_change and self._change_words(row["address"], "local cut", int(g["seq"]),
                                                    row["feeder"], row["customer_type"])
        return text + (f"; consumption after it, {change}" if change else "")

    def reasons(self, row: dict[str, Any], x: dict[str, float], w: Weights) -> tuple[str, ...]:
        """Sentences, strongest evidence first."""
        a = row["address"]
        scored: list[tuple[float, str]] = []
        unexplained = [o for o in self.openings.get(a, []) if o["order_id"] is None]
        for o in unexplained:
            key = ("outage_open_exact" if o["during_outage"] and o["quality"] in
                   ("exact", "deferred") else "outage_open_bounded" if o["during_outage"]
                   and o["quality"] == "bounded" else "unsynced_open"
                   if o["quality"] == "unsynced" else "unknown_open_no_order"
                   if o["quality"] == "unknown" else "mains_open_no_order")
            weight = w.get(key) + w.get("drop_open_30d") * x["drop_open_30d"]
            scored.append((weight, self._opening_reason(o, row)))
        # The consumption after a cut is said once: with the opening inside it, if there is one.
        said = any(o["during_local_cut"] for o in unexplained)
        for g in self.cuts.get(a, []):
            scored.append((w.get("local_cuts"), self._cut_reason(g, row, not said)))
        if not unexplained and x["drop_outage_30d"] >= 0.15:
            scored.append((w.get("drop_outage_30d") * x["drop_outage_30d"],
                           f"consumption {_pct(-x['drop_outage_30d'])} against its peers over"
                           " the 30 days after one of its outages, with no recorded opening"))
        off = self.offset_h.get(a, 8.0)
        for t in self.terminal.get(a, []):
            if t["order_id"] is None:
                scored.append((w.get("terminal_open_no_order"),
                               f"terminal cover opened {when(t, off)},"
                               f" {_QUALITY_WORDS[t['quality']]}; no work order covers it"
                               f" (seq {t['seq']})"))
            else:
                scored.append((w.get("open_with_order"),
                               f"terminal cover opened {when(t, off)}: covered by work order"
                               f" {t['order_id']}"))
        for o in self.openings.get(a, []):
            if o["order_id"] is not None:
                scored.append((w.get("open_with_order"),
                               f"cover opened {when(o, self.offset_h.get(a, 8.0))}: covered by"
                               f" work order {o['order_id']}"))
        scored.sort(key=lambda t: -t[0])
        return tuple(text for _w, text in scored)


def caveats(row: dict[str, Any]) -> tuple[str, ...]:
    """What the score cannot know about this meter: said beside it, never read as clean."""
    out = []
    if not row["collected"]:
        out.append("registered but never collected: nothing is known of its records")
    if not row["sees_outage_openings"]:
        out.append(f"meter model {row['meter_model']} cannot see a cover opened during an"
                   " outage: no record is no proof; judged on consumption and supply cuts only")
    return tuple(out)
