"""The head-end's store: meters, their event logs, watermarks, collection runs and problems.

Owns: opening a store (upgraded to the newest schema first), what the collector asks of it
(each meter's state before a collection, a run's start and end, a problem row) and ingesting one
meter's harvest in one transaction — rows and watermarks together, so a kill never leaves a
meter half-ingested with an advanced watermark. Ingestion is idempotent on (meter address,
event kind, all-time seq): a record seen again changes nothing, except what may legitimately
change — a record's close half arriving later, and the cleared flag after an event clear.

Must not know: links, frames, the meter (the harvest is all it sees).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from meterseal.headend.harvest import Harvest, Mark, MeterState
from meterseal.headend.store.db import DEFAULT_URL, Db, StoreError, open_db
from meterseal.headend.store.migrate import upgrade

__all__ = ["DEFAULT_URL", "Store", "StoreError", "now_iso"]

_COVER_UPSERT_OF: Final = """
INSERT INTO {table} (meter_address, seq, opened_at, closed_at, time_quality, close_quality,
    not_before, not_after, import_before_kwh, export_before_kwh, import_after_kwh,
    export_after_kwh, cleared)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (meter_address, seq) DO UPDATE SET
    closed_at = excluded.closed_at, close_quality = excluded.close_quality,
    import_after_kwh = excluded.import_after_kwh, export_after_kwh = excluded.export_after_kwh
WHERE {table}.closed_at IS NULL AND excluded.closed_at IS NOT NULL"""
# The meter cover's and the terminal cover's logs share one layout and one upsert.
_COVER_UPSERTS: Final = {t: _COVER_UPSERT_OF.format(table=t)
                         for t in ("cover_open", "terminal_cover_open")}

_POWER_DOWN_UPSERT: Final = """
INSERT INTO power_down (meter_address, seq, started_at, ended_at, time_quality, end_quality,
    cleared)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (meter_address, seq) DO UPDATE SET
    ended_at = excluded.ended_at, end_quality = excluded.end_quality
WHERE power_down.ended_at IS NULL AND excluded.ended_at IS NOT NULL"""

_CLEAR_INSERT: Final = """
INSERT INTO event_clear (meter_address, seq, cleared_at, operator, di) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (meter_address, seq) DO NOTHING"""

_CLOCK_INSERT: Final = """
INSERT INTO clock_change (meter_address, kind, seq, changed_at, clock_before, clock_after,
    operator) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (meter_address, kind, seq) DO NOTHING"""

_DAILY_INSERT: Final = """
INSERT INTO daily_energy (meter_address, day, import_kwh, export_kwh, frozen_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (meter_address, day) DO NOTHING"""

_METER_UPSERT: Final = """
INSERT INTO meter (address, manufacturer, vendor_records, utc_offset_h, endpoint, first_seen,
    last_seen)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (address) DO UPDATE SET
    manufacturer = excluded.manufacturer, vendor_records = excluded.vendor_records,
    utc_offset_h = excluded.utc_offset_h, endpoint = excluded.endpoint,
    last_seen = excluded.last_seen"""

_MARK_UPSERT: Final = """
INSERT INTO watermark (meter_address, kind, seq, open_seq, base) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (meter_address, kind) DO UPDATE SET
    seq = excluded.seq, open_seq = excluded.open_seq, base = excluded.base"""

# Tables whose cleared flag follows a log's baseline.
_CLEARABLE: Final = {"cover_open": "cover_open", "power_down": "power_down",
                     "terminal_cover": "terminal_cover_open"}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _instant(value: Any) -> datetime:
    """A stored instant as an aware datetime: timestamptz comes back as one, SQLite's text is
    ISO-8601 with its offset (one meter's freezes share its offset, so text's max is time's)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class Store:
    """A store opened at a URL and upgraded to the newest schema this meterseal knows."""

    def __init__(self, db: Db) -> None:
        self.db = db

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, migrate: bool = True) -> Store:
        db = open_db(url)
        try:
            if migrate:
                upgrade(db)
        except StoreError:
            db.close()
            raise
        except Exception as exc:  # a file that is not a database, a server that refuses DDL
            db.close()
            detail = " ".join(str(exc).split()) or exc.__class__.__name__
            raise StoreError(f"--db: cannot use {db.where} as a store: {detail}") from None
        return cls(db)

    @property
    def dialect(self) -> str:
        return self.db.dialect.name

    def close(self) -> None:
        self.db.close()

    # --- before and after a collection -------------------------------------------------------

    def meter_states(self) -> dict[str, MeterState]:
        """Every known meter's identity and watermarks."""
        marks: dict[str, dict[str, Mark]] = {}
        for address, kind, seq, open_seq, base in self.db.query(
            "SELECT meter_address, kind, seq, open_seq, base FROM watermark"
        ):
            marks.setdefault(address, {})[kind] = Mark(
                int(seq), None if open_seq is None else int(open_seq), int(base)
            )
        through = {address: _instant(at) for address, at in self.db.query(
            "SELECT meter_address, max(frozen_at) FROM daily_energy GROUP BY meter_address")}
        return {
            address: MeterState(manufacturer, bool(vendor), marks.get(address, {}), endpoint,
                                through.get(address))
            for address, manufacturer, vendor, endpoint in self.db.query(
                "SELECT address, manufacturer, vendor_records, endpoint FROM meter"
            )
        }

    def begin_run(self, endpoints: str, meters_total: int) -> int:
        with self.db.transaction():
            rows = self.db.query(
                "INSERT INTO collection_run (started_at, endpoints, meters_total) VALUES (?, ?, ?)"
                " RETURNING id",
                (now_iso(), endpoints, meters_total),
            )
        return int(rows[0][0])

    def end_run(self, run_id: int, *, read: int, failed: int, new_events: int) -> None:
        with self.db.transaction():
            self.db.execute(
                "UPDATE collection_run SET ended_at = ?, meters_read = ?, meters_failed = ?,"
                " new_events = ? WHERE id = ?",
                (now_iso(), read, failed, new_events, run_id),
            )

    def add_problems(self, run_id: int, problems: Iterable[tuple[str | None, str, str]]) -> None:
        """(meter address or None, endpoint, what went wrong) rows of a run."""
        rows = [(run_id, meter, endpoint, text, now_iso()) for meter, endpoint, text in problems]
        if not rows:
            return
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO collection_problem (run_id, meter_address, endpoint, problem, at)"
                " VALUES (?, ?, ?, ?, ?)", rows,
            )

    # --- ingestion ---------------------------------------------------------------------------

    def ingest(self, harvest: Harvest, run_id: int | None = None) -> None:
        """One meter's harvest, all or nothing (its problems go with it)."""
        self.ingest_many([harvest], run_id)

    def ingest_many(self, harvests: Sequence[Harvest], run_id: int | None = None,
                    seen: Sequence[tuple[str, str]] = ()) -> None:
        """Several meters' harvests in one transaction — each meter whole or not at all — and
        the (address, endpoint) of meters read with nothing new through the endpoint the store
        already has for them (only their last_seen changes)."""
        now = now_iso()
        with self.db.transaction():
            for h in harvests:
                self._ingest(h, now)
                if run_id is not None and h.problems:
                    self.db.executemany(
                        "INSERT INTO collection_problem (run_id, meter_address, endpoint,"
                        " problem, at) VALUES (?, ?, ?, ?, ?)",
                        [(run_id, h.address, h.endpoint, p, now) for p in h.problems],
                    )
            for i in range(0, len(seen), 500):  # one statement per 500 meters, not one each
                chunk = [address for address, _endpoint in seen[i : i + 500]]
                marks = ", ".join("?" * len(chunk))
                self.db.execute(f"UPDATE meter SET last_seen = ? WHERE address IN ({marks})",
                                (now, *chunk))

    def _ingest(self, h: Harvest, seen: str) -> None:
        db = self.db
        db.execute(_METER_UPSERT, (h.address, h.manufacturer, h.vendor_records, h.utc_offset_h,
                                   h.endpoint, seen, seen))
        a = h.address
        for table, covers in (("cover_open", h.covers), ("terminal_cover_open",
                                                           h.terminal_covers)):
            db.executemany(_COVER_UPSERTS[table], [
                (a, c.seq, c.opened_at, c.closed_at, c.time_quality, c.close_quality,
                 c.not_before, c.not_after, c.import_before_kwh, c.export_before_kwh,
                 c.import_after_kwh, c.export_after_kwh, c.cleared) for c in covers
            ])
        db.executemany(_POWER_DOWN_UPSERT, [
            (a, p.seq, p.started_at, p.ended_at, p.time_quality, p.end_quality, p.cleared)
            for p in h.power_downs
        ])
        db.executemany(_CLEAR_INSERT, [(a, k.seq, k.cleared_at, k.operator, k.di)
                                       for k in h.clears])
        db.executemany(_CLOCK_INSERT, [(a, k.kind, k.seq, k.changed_at, k.clock_before,
                                        k.clock_after, k.operator) for k in h.clock_changes])
        db.executemany(_DAILY_INSERT, [(a, d.day, d.import_kwh, d.export_kwh, d.frozen_at)
                                       for d in h.daily])
        for kind, upto in h.cleared_up_to.items():
            table = _CLEARABLE[kind]
            db.execute(f"UPDATE {table} SET cleared = TRUE"
                       " WHERE meter_address = ? AND seq <= ? AND NOT cleared", (a, upto))
        db.executemany(_MARK_UPSERT, [(a, kind, m.seq, m.open_seq, m.base)
                                      for kind, m in sorted(h.marks.items())])

    # --- reading back (tests, tools) ---------------------------------------------------------

    def rows(self, table: str, order: str = "1, 2") -> list[tuple[Any, ...]]:
        return self.db.query(f"SELECT * FROM {table} ORDER BY {order}")
