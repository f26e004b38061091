"""Issue 10's end to end: `meterseal fleet`, then `serve --fleet`, then `collect` into SQLite and
into PostgreSQL gives, for every meter, exactly the cover openings, power downs and daily
energies of its image, time qualities intact (a small fleet here; the issue's 2000 meters × 90
days under -m slow)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from meterseal.commands import main
from meterseal.headend.store import Store
from tests.fleet_files import image_rows, images
from tests.fleet_helpers import ROOT, serve_fleet
from tests.headend_helpers import _text

COVER_COLUMNS = ("meter_address, seq, opened_at, closed_at, time_quality, close_quality,"
                 " not_before, not_after, import_before_kwh, export_before_kwh,"
                 " import_after_kwh, export_after_kwh")
DOWN_COLUMNS = "meter_address, seq, started_at, ended_at, time_quality, end_quality"
DAILY_COLUMNS = "meter_address, day, import_kwh, export_kwh, frozen_at"


def _stored(url: str) -> dict[str, list[tuple[object, ...]]]:
    store = Store.open(url)
    try:
        return {
            table: sorted(tuple(_text(v) if not isinstance(v, date) or isinstance(v, datetime)
                                else v.isoformat() for v in row)
                          for row in store.db.query(f"SELECT {cols} FROM {table}"))
            for table, cols in (("cover_open", COVER_COLUMNS), ("power_down", DOWN_COLUMNS),
                                ("daily_energy", DAILY_COLUMNS))
        }
    finally:
        store.close()


def _expected(fleet: Path) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = {"cover_open": [], "power_down": [],
                                                "daily_energy": []}
    for address, image in images(fleet).items():
        for table, got in image_rows(address, image).items():
            out[table].extend(got)
    return {t: sorted(r) for t, r in out.items()}


def _collect(endpoints: Path, url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "meterseal", "collect", "--endpoints",
                           str(endpoints), "--db", url], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr


def _served_fleet(tmp: Path, meters: int, days: int, seed: int) -> Iterator[tuple[Path, Path]]:
    fleet = tmp / "fleet"
    assert main(["fleet", "--meters", str(meters), "--days", str(days), "--seed", str(seed),
                 "--thieves", "0.2", "--out", str(fleet), "--quiet"]) == 0
    with serve_fleet(fleet, tmp / "endpoints.toml") as served:
        yield fleet, served.endpoints


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    # seed 11: meters without a battery lose time in long outages (unsynced records too)
    yield from _served_fleet(tmp_path_factory.mktemp("e2e"), 40, 45, 11)


def test_a_generated_fleet_is_collected_as_its_images_say(small: tuple[Path, Path],
                                                         store_url: str) -> None:
    fleet, endpoints = small
    _collect(endpoints, store_url)
    expected, stored = _expected(fleet), _stored(store_url)
    assert len(expected["cover_open"]) > 5 and len(expected["power_down"]) > 100
    # a freeze each midnight; the last one is taken if the meter's RTC runs fast, not if slow
    assert 40 * 44 < len(expected["daily_energy"]) < 40 * 45
    qualities = {r[4] for r in expected["cover_open"]} | {r[4] for r in expected["power_down"]}
    assert {"exact"} < qualities  # more than one quality reaches the store
    assert stored == expected


@pytest.fixture(scope="module")
def issue_size(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    yield from _served_fleet(tmp_path_factory.mktemp("e2e-2000"), 2000, 90, 1)


@pytest.mark.slow
@pytest.mark.scale
def test_the_issues_fleet_is_collected_as_its_images_say(issue_size: tuple[Path, Path],
                                                        store_url: str) -> None:
    fleet, endpoints = issue_size
    _collect(endpoints, store_url)
    assert _stored(store_url) == _expected(fleet)
