"""A small town for the analytics and dashboard tests, made by hand: three feeders of households
and shops, their outages, honest staff openings with work orders, and four thieves whose every
trace is known — written as a fleet directory's utility/ register and as the rows a collection
would have stored (through the store's own ingestion), so the tests need no simulation.

The thieves, each a kind of evidence:
- THIEF_EXACT opens during a feeder outage; the meter records it `exact`; no work order; its
  consumption falls by 60 % from then on; an event clear follows two days later;
- THIEF_BOUNDED cuts its own supply (its feeder neighbours see nothing), opens; the meter infers
  the opening at power-up (`bounded`); consumption falls by 50 %;
- THIEF_BLIND has a meter model that cannot see outage openings: a local cut and a 45 % drop,
  and no opening record at all;
- THIEF_MAINS opens on mains, no work order, consumption falls by 40 %.
STAFF has an opening on mains with its work order, HONEST_NO_ORDER one without (a paperwork
slip: no drop). Everyone's consumption rises 30 % from day 45 on (the season), which the peer
comparison must cancel.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from meterseal.headend.harvest import ClearRow, CoverRow, DailyEnergyRow, Harvest, PowerDownRow
from meterseal.headend.register import load_register, read_register
from meterseal.headend.store import Store

TZ: Final = timezone(timedelta(hours=8))
START: Final = datetime(2026, 3, 1, tzinfo=TZ)
DAYS: Final = 90
FEEDERS: Final = ("F1", "F2", "F3")
PER_FEEDER: Final = 12

THIEF_EXACT: Final = "202600000003"
THIEF_BOUNDED: Final = "202600000014"
THIEF_BLIND: Final = "202600000027"
THIEF_MAINS: Final = "202600000030"
STAFF: Final = "202600000005"
HONEST_NO_ORDER: Final = "202600000018"
THIEVES: Final = (THIEF_EXACT, THIEF_BOUNDED, THIEF_BLIND, THIEF_MAINS)
BLIND_MODEL: Final = "MS-100"  # battery-only, polling: cannot see an opening during an outage

# feeder -> outages (day, hour, hours)
FEEDER_OUTAGES: Final = {"F1": ((20, 10, 2.0), (55, 20, 5.0)), "F2": ((30, 14, 3.0),),
                         "F3": ((12, 9, 1.0), (70, 2, 4.0))}
LOCAL_CUTS: Final = {THIEF_BOUNDED: (40, 22, 2.0), THIEF_BLIND: (50, 23, 1.5)}


def address(i: int) -> str:
    return f"2026{i:08d}"


def at(day: float, hour: float = 0.0) -> datetime:
    return START + timedelta(days=day, hours=hour)


def iso(t: datetime) -> str:
    return t.isoformat()


def town() -> list[tuple[str, str, str, str]]:
    """(address, feeder, customer type, meter model) of every meter."""
    out = []
    for f, feeder in enumerate(FEEDERS):
        for k in range(PER_FEEDER):
            a = address(f * PER_FEEDER + k + 1)
            kind = "shop" if k % 4 == 3 else "household"
            model = BLIND_MODEL if a == THIEF_BLIND or k % 6 == 5 else "MS-300"
            out.append((a, feeder, kind, model))
    return out


def _write_csv(path: Path, header: str, rows: list[tuple[object, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header.split(","))
        w.writerows(rows)


def write_utility(fleet: Path) -> Path:
    """The fleet directory's utility/ register of the town."""
    _write_csv(fleet / "utility" / "customers.csv",
               "address,customer_id,customer_type,feeder,gateway,meter_model",
               [(a, f"C{a[-4:]}", kind, feeder, f"gw-{feeder}", model)
                for a, feeder, kind, model in town()])
    _write_csv(fleet / "utility" / "models.csv",
               "meter_model,topology,supercap_part,battery,wake_mode,sees_outage_openings,"
               "watch_hours",
               [("MS-300", "battery-first", "eaton-kw-1f", "good", "interrupt", "true", "72"),
                (BLIND_MODEL, "battery-only", "", "weak", "polling", "false", "0")])
    _write_csv(fleet / "utility" / "work_orders.csv", "order_id,address,staff,start,end,reason",
               [("WO-0001", STAFF, "S-07", iso(at(10, 9)), iso(at(10, 11)), "meter inspection"),
                ("WO-0002", address(9), "S-02", iso(at(60, 14)), iso(at(60, 15)),
                 "seal check (no opening)")])
    return fleet


def _daily(a: str, kind: str, drop_from: float | None, drop: float,
           rng: random.Random) -> list[DailyEnergyRow]:
    base = 30.0 if kind == "shop" else 8.0
    reg, rows = 1000.0 + rng.random() * 500, []
    for d in range(DAYS + 1):
        day = (START + timedelta(days=d)).date()
        rows.append(DailyEnergyRow(day.isoformat(), round(reg, 2), 0.0,
                                   iso(datetime.combine(day, datetime.min.time(), TZ))))
        use = base * (1.3 if d >= 45 else 1.0) * rng.uniform(0.85, 1.15)
        if drop_from is not None and d >= drop_from:
            use *= 1 - drop
        reg += use
    return rows


def _cover(seq: int, quality: str, opened: datetime, closed: datetime, kwh: float,
           bounds: tuple[datetime, datetime] | None = None, mains: bool = True) -> CoverRow:
    """An opening; on mains the load goes on while the cover is open, in an outage nothing is
    metered."""
    nb, na = (iso(bounds[0]), iso(bounds[1])) if bounds else (None, None)
    after = kwh + (0.12 if mains else 0.0)
    return CoverRow(seq, iso(opened), iso(closed), quality, quality, nb, na, kwh, 0.0, after, 0.0,
                    False)


def harvests(seed: int = 1) -> list[Harvest]:
    """What a collection of the whole town would have stored."""
    rng = random.Random(seed)
    out = []
    for a, feeder, kind, _model in town():
        h = Harvest(a, f"tcp://127.0.0.1:1/{feeder}", 8.0, "meterseal", True)
        cuts = [*FEEDER_OUTAGES[feeder], *([LOCAL_CUTS[a]] if a in LOCAL_CUTS else [])]
        for seq, (d, hr, hours) in enumerate(sorted(cuts), start=1):
            h.power_downs.append(PowerDownRow(seq, iso(at(d, hr)), iso(at(d, hr + hours)),
                                              "exact", "exact", False))
        drop_from, drop = {THIEF_EXACT: (55, 0.6), THIEF_BOUNDED: (40, 0.5),
                           THIEF_BLIND: (50, 0.45), THIEF_MAINS: (35, 0.4)}.get(a, (None, 0.0))
        h.daily = _daily(a, kind, drop_from, drop, rng)
        kwh = h.daily[30].import_kwh
        if a == THIEF_EXACT:
            h.covers.append(_cover(1, "exact", at(55, 21), at(55, 21.5), kwh, mains=False))
            h.clears.append(ClearRow(1, iso(at(57, 10)), "00000001", "03300D00"))
        elif a == THIEF_BOUNDED:
            h.covers.append(_cover(1, "bounded", at(40, 24), at(40, 24.01), kwh,
                                   (at(40, 22.05), at(40, 24)), mains=False))
        elif a == THIEF_MAINS:
            h.covers.append(_cover(1, "exact", at(35, 15), at(35, 15.4), kwh))
        elif a == STAFF:
            h.covers.append(_cover(1, "exact", at(10, 9.5), at(10, 10), kwh))
        elif a == HONEST_NO_ORDER:
            h.covers.append(_cover(1, "exact", at(25, 16), at(25, 16.2), kwh))
        out.append(h)
    return out


def seed_store(url: str, fleet: Path, seed: int = 1) -> str:
    """A store holding the town's collection and its register; its URL."""
    store = Store.open(url)
    try:
        store.ingest_many(harvests(seed))
        load_register(store, read_register(write_utility(fleet)))
    finally:
        store.close()
    return url


def now_utc() -> datetime:
    return datetime.now(UTC)


def first_day() -> date:
    return START.date()
