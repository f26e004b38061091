"""`meterseal suspects` as a user runs it: the ranking and one meter's story, and every bad
input (no store, an empty one, one without a register, one from a newer meterseal, an address
nobody has) one line on stderr with exit status 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from meterseal.headend.store import LATEST, Store
from tests.analytics_helpers import THIEF_BOUNDED, THIEF_EXACT, seed_store, write_utility
from tests.test_register import meterseal


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("town")
    return seed_store(f"sqlite:///{d}/s.db", d / "fleet")


def test_the_ranking_as_json(town: str) -> None:
    r = meterseal("suspects", "--db", town, "--top", "3", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["rank"] for x in rows] == [1, 2, 3]
    assert {rows[0]["address"], rows[1]["address"]} == {THIEF_EXACT, THIEF_BOUNDED}
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    assert all(x["reasons"] for x in rows)


def test_the_ranking_as_a_table(town: str) -> None:
    r = meterseal("suspects", "--db", town, "--top", "2")
    assert r.returncode == 0, r.stderr
    assert THIEF_EXACT in r.stdout and "2 of 36 meters" in r.stdout


def test_explain_tells_the_story_with_numbers(town: str) -> None:
    r = meterseal("suspects", "--db", town, "--explain", THIEF_EXACT)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"meter {THIEF_EXACT}: score" in out and "rank " in out
    assert "cover opened at 2026-04-25 21:00+08:00 during an outage" in out
    assert "time exact (seen and written at once); no work order covers it (seq 1)" in out
    # the drop, in kWh/day before and after and against the feeder's peers of the same type
    m = re.search(r"30 days: ([\d.]+) → ([\d.]+) kWh/day \((-\d+) %\) while (\d+) other"
                  r" household customers of feeder F1 changed ([+-]\d+) %: (-\d+) % against"
                  r" them", out)
    assert m, out
    before, after, own, peers, _peer, relative = m.groups()
    assert float(after) < 0.6 * float(before) and int(own) <= -40 and int(peers) >= 5
    assert int(relative) <= -50
    assert "timeline (UTC+8):" in out and "event clear" in out
    assert re.search(r"opening +cover opened 2026-04-25 21:00\+08:00, time exact .*, during an"
                     r" outage; no work order", out)


def _one_line_2(r: subprocess.CompletedProcess[str], words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr


def test_an_unknown_address(town: str) -> None:
    _one_line_2(meterseal("suspects", "--db", town, "--explain", "123456789012"),
                "no meter '123456789012'")
    _one_line_2(meterseal("suspects", "--db", town, "--explain", "12"), "is 12 digits")


def test_no_store_at_that_path(tmp_path: Path) -> None:
    _one_line_2(meterseal("suspects", "--db", f"sqlite:///{tmp_path}/none.db"), "no store at")
    assert not (tmp_path / "none.db").exists()


def test_an_empty_store(store_url: str) -> None:
    Store.open(store_url).close()
    _one_line_2(meterseal("suspects", "--db", store_url), "holds no meter")


def test_a_store_without_register(tmp_path: Path) -> None:
    url = seed_store(f"sqlite:///{tmp_path}/s.db", tmp_path / "fleet")
    store = Store.open(url)
    store.db.execute("DELETE FROM customer")
    store.close()
    _one_line_2(meterseal("suspects", "--db", url), "meterseal register")


def test_a_store_from_a_newer_meterseal(store_url: str, tmp_path: Path) -> None:
    seed_store(store_url, tmp_path / "fleet")
    store = Store.open(store_url)
    store.db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                     (LATEST + 1, "future", "2030-01-01T00:00:00+00:00"))
    store.close()
    _one_line_2(meterseal("suspects", "--db", store_url), f"schema version {LATEST + 1}, newer")


def test_a_file_that_is_no_store(tmp_path: Path) -> None:
    (tmp_path / "x.db").write_bytes(b"not a database at all" * 100)
    _one_line_2(meterseal("suspects", "--db", f"sqlite:///{tmp_path}/x.db"), "x.db")


def test_a_negative_top(town: str) -> None:
    _one_line_2(meterseal("suspects", "--db", town, "--top", "-1"), "--top")


def test_register_refuses_to_register_into_a_newer_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    store = Store.open(url)
    store.db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                     (LATEST + 1, "future", "2030-01-01T00:00:00+00:00"))
    store.close()
    r = subprocess.run([sys.executable, "-m", "meterseal", "register", "--fleet",
                        str(write_utility(tmp_path / "fleet")), "--db", url],
                       capture_output=True, text=True, timeout=120)
    _one_line_2(r, "newer")
