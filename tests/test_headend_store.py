"""The head-end store on SQLite and PostgreSQL: one schema from the migrations, idempotent
ingestion (a record seen again changes nothing but its close half and its cleared flag),
watermarks, an old store upgraded with its data intact, a newer one refused, bad URLs."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from meterseal.headend.harvest import (
    ClearRow,
    CoverRow,
    DailyEnergyRow,
    Harvest,
    Mark,
    PowerDownRow,
)
from meterseal.headend.store import LATEST, Store, StoreError, upgrade
from meterseal.headend.store.db import open_db
from meterseal.headend.store.migrate import migrations

ADDR = "202603010042"


def cover(seq: int, *, closed: bool = True, cleared: bool = False) -> CoverRow:
    return CoverRow(
        seq=seq, opened_at=f"2026-03-01T08:{seq:02d}:00+08:00",
        closed_at=f"2026-03-01T09:{seq:02d}:00+08:00" if closed else None,
        time_quality="bounded" if seq == 2 else "exact", close_quality="exact" if closed else None,
        not_before="2026-03-01T07:00:00+08:00" if seq == 2 else None,
        not_after="2026-03-01T08:02:01+08:00" if seq == 2 else None,
        import_before_kwh=10.0 + seq, export_before_kwh=0.5,
        import_after_kwh=11.0 + seq if closed else None,
        export_after_kwh=0.5 if closed else None, cleared=cleared,
    )


def harvest(*covers: CoverRow, marks: dict[str, Mark] | None = None) -> Harvest:
    h = Harvest(ADDR, "tcp://127.0.0.1:1", 8.0, manufacturer="meterseal", vendor_records=True)
    h.covers = list(covers)
    h.power_downs = [PowerDownRow(1, "2026-03-01T10:00:00+08:00", None, "exact", None, False)]
    h.clears = [ClearRow(1, "2026-03-01T12:00:00+08:00", "12345678", "03300DFF")]
    h.daily = [DailyEnergyRow("2026-03-01", 12.5, 0.25, "2026-03-02T00:00:00+08:00")]
    h.marks = marks or {"cover_open": Mark(max((c.seq for c in covers), default=0))}
    return h


def table(store: Store, name: str) -> list[tuple[object, ...]]:
    return [tuple(str(v) if v is not None else None for v in row) for row in store.rows(name)]


def test_a_new_store_is_at_the_latest_schema(store_url: str) -> None:
    store = Store.open(store_url)
    assert [r[0] for r in store.rows("schema_version")] == list(range(1, LATEST + 1))
    assert LATEST >= 2
    store.close()
    Store.open(store_url).close()  # opening again applies nothing, fails nothing


def test_ingestion_is_idempotent(store_url: str) -> None:
    store = Store.open(store_url)
    h = harvest(cover(1), cover(2), cover(3, closed=False))
    store.ingest(h)
    before = {t: table(store, t) for t in ("cover_open", "power_down", "event_clear",
                                           "daily_energy", "watermark")}
    store.ingest(h)
    store.ingest(h)
    after = {t: table(store, t) for t in before}
    assert after == before
    assert len(before["cover_open"]) == 3 and len(before["daily_energy"]) == 1
    store.close()


def test_a_close_half_arriving_later_updates_only_that(store_url: str) -> None:
    store = Store.open(store_url)
    store.ingest(harvest(cover(1), cover(3, closed=False)))
    open_row = store.db.query("SELECT opened_at, closed_at, import_after_kwh FROM cover_open"
                              " WHERE seq = 3")[0]
    assert open_row[1] is None and open_row[2] is None
    tampered = dataclasses.replace(cover(3), import_before_kwh=999.0)
    store.ingest(harvest(tampered))
    row = store.db.query("SELECT import_before_kwh, closed_at, import_after_kwh FROM cover_open"
                         " WHERE seq = 3")[0]
    assert row[0] == pytest.approx(13.0)  # what was stored never changes
    assert row[1] is not None and row[2] == pytest.approx(14.0)
    # A closed record seen again as open (it cannot be; a garbled answer) reopens nothing.
    store.ingest(harvest(cover(3, closed=False)))
    assert store.db.query("SELECT closed_at FROM cover_open WHERE seq = 3")[0][0] is not None
    store.close()


def test_a_clear_flags_what_lies_below_the_baseline(store_url: str) -> None:
    store = Store.open(store_url)
    store.ingest(harvest(cover(1), cover(2), cover(3)))
    h = harvest(marks={"cover_open": Mark(3, None, 2)})
    h.cleared_up_to = {"cover_open": 2}
    store.ingest(h)
    flags = [bool(c) for (c,) in store.db.query("SELECT cleared FROM cover_open ORDER BY seq")]
    assert flags == [True, True, False]
    assert store.meter_states()[ADDR].mark("cover_open") == Mark(3, None, 2)
    store.close()


def test_a_run_and_its_problems(store_url: str) -> None:
    store = Store.open(store_url)
    run = store.begin_run("endpoints.toml", 2)
    h = harvest(cover(1))
    h.problems = ["3 records left the ring unread"]
    store.ingest(h, run)
    store.add_problems(run, [(None, "tcp://127.0.0.1:9", "cannot connect")])
    store.end_run(run, read=1, failed=1, new_events=1)
    problems = store.db.query("SELECT run_id, meter_address, problem FROM collection_problem"
                              " ORDER BY id")
    assert problems == [(run, ADDR, "3 records left the ring unread"),
                        (run, None, "cannot connect")]
    assert store.db.query("SELECT meters_read, meters_failed, new_events FROM collection_run")[0] \
        == (1, 1, 1)
    store.close()


def test_an_old_store_is_upgraded_with_its_data_intact(store_url: str) -> None:
    db = open_db(store_url)
    assert upgrade(db, LATEST - 1) == LATEST - 1
    db.close()
    old = Store.open(store_url, migrate=False)
    h = harvest(cover(1), cover(2))
    h.daily = []  # the table does not exist yet at N-1
    old.ingest(h)
    before = {t: table(old, t) for t in ("meter", "cover_open", "power_down", "watermark")}
    old.close()
    store = Store.open(store_url)
    assert [r[0] for r in store.rows("schema_version")] == list(range(1, LATEST + 1))
    assert {t: table(store, t) for t in before} == before
    store.ingest(harvest(cover(1), cover(2)))
    assert len(store.rows("daily_energy")) == 1
    store.close()


def test_a_store_from_a_newer_meterseal_is_refused(store_url: str) -> None:
    store = Store.open(store_url)
    store.db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                     (LATEST + 1, "future", "2030-01-01T00:00:00+00:00"))
    store.close()
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1}, newer"):
        Store.open(store_url)


def test_times_keep_their_offset_in_sqlite(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/s.db")
    store.ingest(harvest(cover(1)))
    assert store.db.query("SELECT opened_at FROM cover_open")[0][0] == "2026-03-01T08:01:00+08:00"
    store.close()


def test_times_are_timestamptz_in_postgresql(pg_url: str) -> None:
    store = Store.open(pg_url)
    store.ingest(harvest(cover(1)))
    (when,) = store.db.query("SELECT opened_at FROM cover_open")[0]
    assert when.utcoffset() is not None and when.isoformat().startswith("2026-03-01T00:01:00")
    store.close()


def test_migrations_are_numbered_files() -> None:
    found = migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(m.path.suffix == ".sql" for m in found)


@pytest.mark.parametrize("url, words", [
    ("mysql://x", "neither sqlite"),
    ("sqlite://relative.db", "three slashes"),
    ("sqlite:////no/such/folder/x.db", "does not exist"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot open"),
])
def test_a_url_that_cannot_be_opened_is_one_line(url: str, words: str) -> None:
    with pytest.raises(StoreError, match=words) as info:
        Store.open(url)
    assert "\n" not in str(info.value)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("hello, not a database " * 100)
    with pytest.raises(StoreError, match=r"notes\.db"):
        Store.open(f"sqlite:///{bad}")
    assert sqlite3.sqlite_version_info >= (3, 35)
