"""The store's tables in an in-memory DuckDB, for analytics.

Owns: opening a store read-only in spirit (no migration is applied: a store from an older
meterseal is asked to be upgraded by `collect` or `register`, one from a newer one is refused),
reading the tables the analytics need through the store's own driver (SQLite or PostgreSQL) and
handing them to DuckDB as Arrow tables, with every time as a UTC ``TIMESTAMPTZ`` and every day
as a ``DATE``; tables a store may lack (clock changes, recorded on another branch's meters) as
empty tables of the same shape.

Why not DuckDB's own sqlite/postgres scanners: they are extensions DuckDB downloads at first
use, and the head-end must run on machines without internet.

Must not know: what the features are (features.py), the fleet's ground truth (never read).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa

from meterseal.headend.store.db import Db, StoreError, open_db
from meterseal.headend.store.migrate import LATEST

# table -> (column, kind) as the analytics read them; kind: text, int, real, bool, ts, date.
TABLES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "meter": (("address", "text"), ("manufacturer", "text"), ("vendor_records", "bool"),
              ("utc_offset_h", "real"), ("first_seen", "ts"), ("last_seen", "ts")),
    "cover_open": (("meter_address", "text"), ("seq", "int"), ("opened_at", "ts"),
                   ("closed_at", "ts"), ("time_quality", "text"), ("close_quality", "text"),
                   ("not_before", "ts"), ("not_after", "ts"), ("import_before_kwh", "real"),
                   ("import_after_kwh", "real"), ("export_before_kwh", "real"),
                   ("export_after_kwh", "real"), ("cleared", "bool")),
    "power_down": (("meter_address", "text"), ("seq", "int"), ("started_at", "ts"),
                   ("ended_at", "ts"), ("time_quality", "text"), ("end_quality", "text")),
    "event_clear": (("meter_address", "text"), ("seq", "int"), ("cleared_at", "ts"),
                    ("operator", "text"), ("di", "text")),
    "daily_energy": (("meter_address", "text"), ("day", "date"), ("import_kwh", "real"),
                     ("export_kwh", "real")),
    "customer": (("address", "text"), ("customer_id", "text"), ("customer_type", "text"),
                 ("feeder", "text"), ("gateway", "text"), ("meter_model", "text")),
    "meter_model": (("meter_model", "text"), ("topology", "text"), ("wake_mode", "text"),
                    ("sees_outage_openings", "bool"), ("watch_hours", "real")),
    "work_order": (("order_id", "text"), ("address", "text"), ("staff", "text"),
                   ("start_at", "ts"), ("end_at", "ts"), ("reason", "text")),
}
# Read when the store has them; an empty stand-in otherwise.
OPTIONAL: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "clock_change": (("meter_address", "text"), ("changed_at", "ts"), ("kind", "text"),
                     ("clock_before", "ts"), ("clock_after", "ts")),
    "terminal_cover_open": (("meter_address", "text"), ("seq", "int"), ("opened_at", "ts"),
                            ("closed_at", "ts"), ("time_quality", "text"),
                            ("not_before", "ts"), ("not_after", "ts")),
}
_ARROW: Final = {"text": pa.string(), "int": pa.int64(), "real": pa.float64(),
                 "bool": pa.bool_(), "ts": pa.string(), "date": pa.string()}
_DUCK: Final = {"text": "VARCHAR", "int": "BIGINT", "real": "DOUBLE", "bool": "BOOLEAN",
                "ts": "TIMESTAMPTZ", "date": "DATE"}


class AnalyticsError(Exception):
    """The store cannot be analysed as asked (one line, actionable)."""


def _value(kind: str, v: Any) -> Any:
    """A driver's value as the Arrow column wants it: times and days as ISO text (SQLite keeps
    them as text with their offset; PostgreSQL hands back aware datetimes)."""
    if v is None:
        return None
    if kind in ("ts", "date"):
        return v.isoformat() if isinstance(v, datetime | date) else str(v)
    if kind == "bool":
        return bool(v)
    return v


def _tables(db: Db) -> set[str]:
    if db.dialect.name == "sqlite":
        rows = db.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    else:
        rows = db.query("SELECT table_name FROM information_schema.tables"
                        " WHERE table_schema = current_schema()")
    return {str(r[0]) for r in rows}


def _check_version(db: Db, have_tables: set[str]) -> None:
    if "schema_version" not in have_tables:
        raise AnalyticsError(f"{db.where} is not a meterseal store (no schema_version table):"
                             " collect into it first")
    version = int(db.query("SELECT max(version) FROM schema_version")[0][0] or 0)
    if version > LATEST:
        raise AnalyticsError(f"the store at {db.where} has schema version {version}, newer than"
                             f" this meterseal's {LATEST}: upgrade meterseal to use it")
    if version < LATEST:
        raise AnalyticsError(f"the store at {db.where} has schema version {version}, older than"
                             f" this meterseal's {LATEST}: run meterseal register (or collect)"
                             " on it to upgrade it")


def _copy(db: Db, con: duckdb.DuckDBPyConnection, table: str,
          columns: tuple[tuple[str, str], ...], present: bool) -> None:
    names = [c for c, _ in columns]
    rows = db.query(f"SELECT {', '.join(names)} FROM {table}") if present else []
    arrays = [pa.array([_value(kind, r[i]) for r in rows], type=_ARROW[kind])
              for i, (_name, kind) in enumerate(columns)]
    arrow = pa.Table.from_arrays(arrays, names=names)
    con.register(f"_raw_{table}", arrow)
    casts = ", ".join(f"CAST({n} AS {_DUCK[k]}) AS {n}" for n, k in columns)
    con.execute(f"CREATE TABLE {table} AS SELECT {casts} FROM _raw_{table}")
    con.unregister(f"_raw_{table}")


def open_sqlite_path(url: str) -> None:
    """A SQLite URL whose file does not exist is refused here, before the driver creates it."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite://")[1:] or "/")
        if not path.is_file():
            raise AnalyticsError(f"--db: there is no store at {path} (collect into it first)")


def load(url: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding the store's tables (UTC times). Refuses an empty store (no
    meter collected) and a store without the utility's register."""
    open_sqlite_path(url)
    try:
        db = open_db(url)
    except StoreError as exc:
        raise AnalyticsError(str(exc)) from None
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    try:
        present = _tables(db)
        _check_version(db, present)
        for table, columns in TABLES.items():
            _copy(db, con, table, columns, True)
        for table, columns in OPTIONAL.items():
            _copy(db, con, table, columns, table in present)
    except AnalyticsError:
        con.close()
        raise
    except Exception as exc:  # a file that is not a database, a server that refuses the query
        con.close()
        detail = " ".join(str(exc).split()) or exc.__class__.__name__
        raise AnalyticsError(f"--db: cannot read {db.where} as a store: {detail}") from None
    finally:
        db.close()
    _require_data(con, db.where)
    return con


def _require_data(con: duckdb.DuckDBPyConnection, where: str) -> None:
    meters = _count(con, "meter")
    if meters == 0:
        con.close()
        raise AnalyticsError(f"the store at {where} holds no meter: run meterseal collect first")
    if _count(con, "customer") == 0:
        con.close()
        raise AnalyticsError(f"the store at {where} has no customer register: run meterseal"
                             " register --fleet DIR first (feeders, customer types and work"
                             " orders are part of the evidence)")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
