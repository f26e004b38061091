"""The dashboard served by a real `meterseal dashboard` process on a seeded store, asked over
real HTTP: the ranking and its filters (as query strings, so links can be shared), a meter's
page and its JSON twin, a feeder's page, 404 for a meter nobody has; bad input before it
listens is one line and exit status 2."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from meterseal.headend.store import LATEST, Store
from tests.analytics_helpers import THIEF_BOUNDED, THIEF_EXACT, seed_store
from tests.dashboard_helpers import dashboard, free_port, get


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    d = tmp_path_factory.mktemp("dash")
    with dashboard(seed_store(f"sqlite:///{d}/s.db", d / "fleet")) as base:
        yield base


def test_the_ranking_page_lists_the_thieves_first(site: str) -> None:
    status, html = get(site + "/")
    assert status == 200
    thieves = [html.index(f"data-address='{a}'") for a in (THIEF_BOUNDED, THIEF_EXACT)]
    assert max(thieves) < html.index("data-address='202600000001'")


def test_filters_are_query_strings(site: str) -> None:
    rows = json.loads(get(site + "/api/suspects?feeder=F2&limit=100")[1])
    assert rows and {r["feeder"] for r in rows} == {"F2"}
    assert rows[0]["address"] == THIEF_BOUNDED and rows[0]["rank"] <= 2  # rank in the fleet
    bounded = json.loads(get(site + "/api/suspects?quality=bounded")[1])
    assert [r["address"] for r in bounded] == [THIEF_BOUNDED]
    shops = json.loads(get(site + "/api/suspects?type=shop&limit=100")[1])
    assert shops and all(r["customer_type"] == "shop" for r in shops)
    status, html = get(site + "/?feeder=F2&quality=bounded")
    assert status == 200 and "1 of 1 meters" in html and "href='/?feeder=F2&amp;quality=" in html


def test_a_meter_page_and_its_json(site: str) -> None:
    status, html = get(f"{site}/meter/{THIEF_EXACT}")
    assert status == 200
    assert "<svg id=\"timeline\"" in html and "class=\"ev opening exact\"" in html
    assert "<svg id=\"usage\"" in html and "class=\"mine\"" in html
    assert "no work order covers it" in html
    data = json.loads(get(f"{site}/api/meter/{THIEF_EXACT}")[1])
    assert [e["kind"] for e in data["events"]] == ["outage", "outage", "opening", "event clear"]
    assert data["events"][2]["quality"] == "exact" and len(data["usage"]) == 90


def test_a_bounded_opening_is_drawn_as_an_interval(site: str) -> None:
    html = get(f"{site}/meter/{THIEF_BOUNDED}")[1]
    assert "<rect class=\"ev bounded\"" in html and "class=\"ev local-cut\"" in html


def test_a_feeder_page(site: str) -> None:
    status, html = get(site + "/feeder/F1")
    assert status == 200 and "<svg id=\"feeder\"" in html and THIEF_EXACT in html
    assert json.loads(get(site + "/api/feeder/F1")[1])["meters"][0]["address"] == THIEF_EXACT


def test_an_unknown_meter_is_a_404_page(site: str) -> None:
    status, html = get(site + "/meter/999999999999")
    assert status == 404 and "<h1>Not found</h1>" in html and "999999999999" in html
    status, body = get(site + "/api/meter/999999999999")
    assert status == 404 and "no meter" in json.loads(body)["error"]
    assert get(site + "/feeder/NOPE")[0] == 404
    assert get(site + "/no/such/page")[0] == 404


def test_what_a_user_types_is_escaped(site: str) -> None:
    status, html = get(site + "/meter/%3Cscript%3Ealert(1)")
    assert status == 404 and "<script>" not in html and "&lt;script&gt;alert(1)" in html


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meterseal", "dashboard", *args],
                          capture_output=True, text=True, timeout=120)


def test_an_empty_store_is_one_line_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    Store.open(url).close()
    r = _run("--db", url, "--port", str(free_port()))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "holds no meter" in r.stderr and "Traceback" not in r.stderr


def test_a_store_from_a_newer_meterseal_is_one_line_exit_2(tmp_path: Path) -> None:
    url = seed_store(f"sqlite:///{tmp_path}/s.db", tmp_path / "fleet")
    store = Store.open(url)
    store.db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                     (LATEST + 1, "future", "2030-01-01T00:00:00+00:00"))
    store.close()
    r = _run("--db", url, "--port", str(free_port()))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"schema version {LATEST + 1}, newer" in r.stderr and "Traceback" not in r.stderr


def test_a_port_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    url = seed_store(f"sqlite:///{tmp_path}/s.db", tmp_path / "fleet")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = _run("--db", url, "--port", str(s.getsockname()[1]))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "cannot listen" in r.stderr.strip().splitlines()[-1]
