"""One meter's story: its score and reasons, and its timeline — outages (its own supply cuts
marked), cover openings (an instant, or an interval when the time is bounded), work orders,
event clears, clock changes — with its daily consumption beside its peers' median.

Owns: reading one meter's rows out of the loaded store (features built) into a
:class:`Timeline` that `meterseal suspects --explain` prints and the dashboard draws.

Must not know: how it is shown (text here is plain; the dashboard draws SVG).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from meterseal.headend.analytics.load import AnalyticsError
from meterseal.headend.analytics.reasons import _QUALITY_WORDS, local
from meterseal.headend.analytics.score import Suspect


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # outage, local cut, opening, work order, event clear, clock change
    start: datetime
    end: datetime | None
    quality: str | None  # an opening's time quality
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start.isoformat(),
                "end": None if self.end is None else self.end.isoformat(),
                "quality": self.quality, "text": self.text}


@dataclass(frozen=True, slots=True)
class Timeline:
    suspect: Suspect
    rank: int  # 1 = the most suspicious meter
    of: int
    offset_h: float
    events: tuple[Event, ...]
    usage: tuple[tuple[date, float], ...]  # the meter's kWh per day
    peer_usage: tuple[tuple[date, float], ...]  # its feeder's same-type customers' median

    def as_json(self) -> dict[str, Any]:
        return {**self.suspect.as_json(), "rank": self.rank, "of": self.of,
                "events": [e.as_json() for e in self.events],
                "usage": [[d.isoformat(), round(k, 3)] for d, k in self.usage],
                "peer_usage": [[d.isoformat(), round(k, 3)] for d, k in self.peer_usage]}


def _opening(kind: str, what: str, where: str, seq: int, q: str, opened: Any, earliest: Any,
             latest: Any, order_id: str | None, off: float) -> Event:
    """An opening as a point (its time known) or an interval (bounded), in words."""
    interval = q == "bounded" and earliest != latest
    when = (f"between {local(earliest, off)} and {local(latest, off)}" if interval
            else local(opened, off))
    order = f"work order {order_id}" if order_id else "no work order"
    return Event(kind, earliest if interval else opened, latest if interval else None, q,
                 f"{what} opened {when}, {_QUALITY_WORDS[q]}{where}; {order} (seq {seq})")


def _events(con: duckdb.DuckDBPyConnection, address: str, off: float) -> list[Event]:
    out = []
    for _seq, start, end, local_cut, saw, n in con.execute(
            "SELECT seq, started_at, ended_at, local_cut, neighbours_saw, neighbours FROM outage"
            " WHERE address = ?", [address]).fetchall():
        kind = "local cut" if local_cut else "outage"
        out.append(Event(kind, start, end, None, f"{kind} {local(start, off)} → {local(end, off)}"
                         f" ({saw} of {n} feeder neighbours saw one)"))
    for seq, q, opened, earliest, latest, order_id, during in con.execute(
            "SELECT seq, quality, opened_at, earliest, latest, order_id, during_outage"
            " FROM opening WHERE address = ?", [address]).fetchall():
        where = ", during an outage" if during else ", on mains"
        out.append(_opening("opening", "cover", where, seq, q, opened, earliest, latest,
                            order_id, off))
    for seq, q, opened, earliest, latest, order_id in con.execute(
            "SELECT seq, quality, opened_at, earliest, latest, order_id FROM terminal_opening"
            " WHERE address = ?", [address]).fetchall():
        out.append(_opening("terminal opening", "terminal cover", "", seq, q, opened, earliest,
                            latest, order_id, off))
    for oid, staff, start, end, reason in con.execute(
            "SELECT order_id, staff, start_at, end_at, reason FROM work_order WHERE address = ?",
            [address]).fetchall():
        out.append(Event("work order", start, end, None, f"work order {oid}: {reason}"
                         f" ({staff or 'nobody sent'}) {local(start, off)} → {local(end, off)}"))
    for seq, at, operator, di in con.execute(
            "SELECT seq, cleared_at, operator, di FROM event_clear WHERE meter_address = ?",
            [address]).fetchall():
        out.append(Event("event clear", at, None, None, f"event clear {seq} of {di} by"
                         f" operator {operator} at {local(at, off)}"))
    for at, kind, before, after in con.execute(
            "SELECT changed_at, kind, clock_before, clock_after FROM clock_change"
            " WHERE meter_address = ?", [address]).fetchall():
        out.append(Event("clock change", at, None, None, f"clock {kind or 'change'}:"
                         f" {local(before, off)} → {local(after, off)}"))
    out.sort(key=lambda e: (e.start, e.kind))
    return out


def _usage(con: duckdb.DuckDBPyConnection, address: str) -> tuple[list[Any], list[Any]]:
    mine = con.execute("SELECT day, kwh FROM usage WHERE address = ? ORDER BY day",
                       [address]).fetchall()
    peers = con.execute(
        "SELECT u.day, median(u.kwh) FROM usage u JOIN customer c ON c.address = u.address"
        " JOIN customer me ON me.address = ? AND me.feeder = c.feeder"
        " AND me.customer_type = c.customer_type AND c.address <> me.address"
        " GROUP BY 1 ORDER BY 1", [address]).fetchall()
    return mine, peers


def timeline(con: duckdb.DuckDBPyConnection, ranking: list[Suspect], address: str) -> Timeline:
    """The timeline of ``address``; AnalyticsError if the store knows no such meter."""
    found = [(i, s) for i, s in enumerate(ranking, start=1) if s.address == address]
    if not found:
        raise AnalyticsError(f"no meter {address!r} in the store's register"
                             " (an address is 12 digits, as printed on the meter)")
    rank, suspect = found[0]
    row = con.execute("SELECT utc_offset_h FROM meter WHERE address = ?", [address]).fetchone()
    off = float(row[0]) if row else 8.0
    mine, peers = _usage(con, address)
    return Timeline(suspect, rank, len(ranking), off, tuple(_events(con, address, off)),
                    tuple((d, float(k)) for d, k in mine),
                    tuple((d, float(k)) for d, k in peers))
