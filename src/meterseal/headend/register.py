"""The utility's register: what a utility knows besides its meters' records — its customers
(feeder, customer type, meter model), its meter models (with the twin's hardware findings) and
its work orders — read from a fleet directory's ``utility/`` CSV files and loaded into the store.

Owns: the three files' columns and values (checked strictly: a missing column, an address that
is not 12 digits, a time without its offset, a work order that ends before it starts are
:class:`RegisterError`, naming file and line) and replacing the store's register with them in
one transaction (the files are the utility's current register, so loading twice changes nothing).

Must not know: ``truth/`` — the fleet's ground truth is for evaluation only, never read here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from meterseal.headend.store import Store

UTILITY: Final = "utility"
CUSTOMERS: Final = ("address", "customer_id", "customer_type", "feeder", "gateway", "meter_model")
MODELS: Final = ("meter_model", "topology", "supercap_part", "battery", "wake_mode",
                 "sees_outage_openings", "watch_hours")
ORDERS: Final = ("order_id", "address", "staff", "start", "end", "reason")
_ADDRESS = re.compile(r"\d{12}")
_TRUE: Final = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class RegisterError(ValueError):
    """A register file is not what docs/headend.md says (one line naming file and line)."""


@dataclass(frozen=True, slots=True)
class Register:
    customers: list[tuple[str, str, str, str, str, str]]
    models: list[tuple[str, str, str | None, str | None, str | None, bool, float | None]]
    orders: list[tuple[str, str, str, str, str, str]]


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegisterError(f"{path}: no such file (a fleet directory has utility/"
                            f"{path.name})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterError(f"{path}: cannot read it ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise RegisterError(f"{path}: missing column(s) {', '.join(missing)}"
                            f" (the header must name {','.join(columns)})")
    for line, row in enumerate(reader, start=2):
        if None in row or any(row[c] is None for c in columns):
            raise RegisterError(f"{path}:{line}: the row has not the header's number of fields")
        yield line, {c: row[c].strip() for c in columns}


def _check(path: Path, line: int, ok: bool, what: str) -> None:
    if not ok:
        raise RegisterError(f"{path}:{line}: {what}")


def _instant(path: Path, line: int, column: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    _check(path, line, value is not None and value.tzinfo is not None,
           f"{column} {text!r} is not an ISO-8601 time with its UTC offset")
    assert value is not None
    return value


def _customers(path: Path) -> list[tuple[str, str, str, str, str, str]]:
    out: dict[str, tuple[str, str, str, str, str, str]] = {}
    for line, r in _rows(path, CUSTOMERS):
        _check(path, line, bool(_ADDRESS.fullmatch(r["address"])),
               f"address {r['address']!r} is not 12 digits")
        _check(path, line, r["address"] not in out, f"address {r['address']} listed twice")
        for col in CUSTOMERS[1:]:
            _check(path, line, bool(r[col]), f"{col} is empty")
        out[r["address"]] = tuple(r[c] for c in CUSTOMERS)  # type: ignore[assignment]
    return list(out.values())


def _optional_float(path: Path, line: int, column: str, text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    _check(path, line, value == value and 0 <= value < 1e6, f"{column} {text!r} is not hours")
    return value


def _models(path: Path) -> list[tuple[str, str, str | None, str | None, str | None, bool,
                                      float | None]]:
    out: dict[str, Any] = {}
    for line, r in _rows(path, MODELS):
        name = r["meter_model"]
        _check(path, line, bool(name) and name not in out, f"meter_model {name!r} empty or twice")
        _check(path, line, bool(r["topology"]), "topology is empty")
        sees = _TRUE.get(r["sees_outage_openings"].lower())
        _check(path, line, sees is not None,
               f"sees_outage_openings {r['sees_outage_openings']!r} is not true or false")
        out[name] = (name, r["topology"], r["supercap_part"] or None, r["battery"] or None,
                     r["wake_mode"] or None, sees,
                     _optional_float(path, line, "watch_hours", r["watch_hours"]))
    return list(out.values())


def _orders(path: Path) -> list[tuple[str, str, str, str, str, str]]:
    out: dict[str, tuple[str, str, str, str, str, str]] = {}
    for line, r in _rows(path, ORDERS):
        _check(path, line, bool(r["order_id"]) and r["order_id"] not in out,
               f"order_id {r['order_id']!r} empty or twice")
        _check(path, line, bool(_ADDRESS.fullmatch(r["address"])),
               f"address {r['address']!r} is not 12 digits")
        start = _instant(path, line, "start", r["start"])
        end = _instant(path, line, "end", r["end"])
        _check(path, line, end >= start, f"end {r['end']} is before start {r['start']}")
        out[r["order_id"]] = (r["order_id"], r["address"], r["staff"], start.isoformat(),
                              end.isoformat(), r["reason"])
    return list(out.values())


def read_register(fleet: Path) -> Register:
    """The register of the fleet directory ``fleet`` (its ``utility/`` folder), checked."""
    folder = fleet / UTILITY
    if not folder.is_dir():
        raise RegisterError(f"{fleet}: no {UTILITY}/ folder (is it a fleet directory?)")
    reg = Register(_customers(folder / "customers.csv"), _models(folder / "models.csv"),
                   _orders(folder / "work_orders.csv"))
    known = {m[0] for m in reg.models}
    for c in reg.customers:
        if c[5] not in known:
            raise RegisterError(f"{folder / 'customers.csv'}: customer {c[0]} has meter_model"
                                f" {c[5]!r}, which models.csv does not list")
    return reg


_LOADS: Final[tuple[tuple[str, str, Callable[[Register], list[Any]]], ...]] = (
    ("customer", "address, customer_id, customer_type, feeder, gateway, meter_model",
     lambda r: r.customers),
    ("meter_model", "meter_model, topology, supercap_part, battery, wake_mode,"
     " sees_outage_openings, watch_hours", lambda r: r.models),
    ("work_order", "order_id, address, staff, start_at, end_at, reason", lambda r: r.orders),
)


def load_register(store: Store, reg: Register) -> dict[str, int]:
    """Replace the store's register with ``reg``, all or nothing; rows per table."""
    counts = {}
    with store.db.transaction():
        for table, columns, rows in _LOADS:
            store.db.execute(f"DELETE FROM {table}")
            values = rows(reg)
            marks = ", ".join("?" * len(columns.split(",")))
            store.db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
            counts[table] = len(values)
    return counts
