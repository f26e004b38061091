"""`meterseal collect` and `meterseal serve --fleet` from the command line: a single meter found
by asking, the fleet directory format, and bad input — an unreachable endpoint, a malformed
endpoints file, a store that cannot be opened, a folder that is not a fleet — as one line on
stderr and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meterseal.headend.endpoints import EndpointsError, load_endpoints
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.frame import read_request
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.fleetdir import FleetError, load_fleet
from tests.dlt645_helpers import serve
from tests.fleet_helpers import ROOT, Spec, make_fleet, rich_meter, serve_fleet
from tests.headend_helpers import snapshot


def meterseal(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meterseal", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def one_line_exit_2(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meterseal: error:"), done.stderr
    assert "Traceback" not in done.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_a_single_meter_is_found_by_asking_and_collected(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    with serve() as served:
        url = f"tcp://127.0.0.1:{served.port}"
        done = meterseal("collect", "--endpoints", url, "--db", db, "--json")
        again = meterseal("collect", "--endpoints", url, "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    first, second = json.loads(done.stdout), json.loads(again.stdout)
    assert (first["meters_read"], first["meters_failed"]) == (1, 0)
    assert first["new_events"] > 10 and second["new_events"] == 0
    assert len(snapshot(db)["cover_open"]) == 10


def test_serve_fleet_writes_endpoints_that_collect_reads(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "fleet", [Spec("202603010001"), Spec("202603010002", "gw-2"),
                                            Spec("202603010003", "gw-2", "ACME")])
    db = f"sqlite:///{tmp_path}/s.db"
    with serve_fleet(fleet, tmp_path / "ep.toml") as s:
        assert any("gateway gw-2: 2 meters" in line for line in s.lines)
        done = meterseal("collect", "--endpoints", str(s.endpoints), "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("collected 3 of 3 meters (0 failed)")
    assert [m[:3] for m in snapshot(db)["meter"]] == [
        ("202603010001", "meterseal", 1), ("202603010002", "meterseal", 1),
        ("202603010003", "ACME", 0)]


def test_an_unreachable_endpoint_is_one_line(tmp_path: Path) -> None:
    done = meterseal("collect", "--endpoints", "tcp://127.0.0.1:9", "--db",
                     f"sqlite:///{tmp_path}/s.db", "--timeout", "1")
    one_line_exit_2(done, "no endpoint could be reached", "tcp://127.0.0.1:9")


@pytest.mark.parametrize("text, words", [
    ("[[gateway]\nurl = 1", "not valid TOML"),
    ('[[gateway]]\nurl = "http://x"\n', "neither tcp://"),
    ('[[gateway]]\nurl = "tcp://h:1"\nmeters = ["12"]\n', "not a 12-digit address"),
    ('[[gateway]]\nurl = "tcp://h:1"\ncolour = 3\n', "unknown key 'colour'"),
    ('utc_offset_h = 30\n[[gateway]]\nurl = "tcp://h:1"\n', "utc_offset_h"),
    ("name = 1\n", "unknown key 'name'"),
    ("", "no [[gateway]]"),
])
def test_a_malformed_endpoints_file_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "ep.toml"
    path.write_text(text)
    with pytest.raises(EndpointsError, match=None) as info:
        load_endpoints([str(path)])
    assert words in str(info.value) and "\n" not in str(info.value)
    done = meterseal("collect", "--endpoints", str(path), "--db", f"sqlite:///{tmp_path}/s.db")
    one_line_exit_2(done, "ep.toml")


def test_an_endpoints_file_that_is_missing(tmp_path: Path) -> None:
    one_line_exit_2(meterseal("collect", "--endpoints", str(tmp_path / "none.toml")),
                    "no such endpoints file")


@pytest.mark.parametrize("url, words", [
    ("sqlite:////no/such/folder/s.db", "does not exist"),
    ("oracle://x", "neither sqlite"),
    ("postgresql://nobody@127.0.0.1:1/x", "cannot open"),
])
def test_a_store_that_cannot_be_opened_is_one_line(tmp_path: Path, url: str,
                                                   words: str) -> None:
    ep = tmp_path / "ep.toml"
    ep.write_text('[[gateway]]\nurl = "tcp://127.0.0.1:9"\nmeters = ["202603010001"]\n')
    one_line_exit_2(meterseal("collect", "--endpoints", str(ep), "--db", url), words)


def test_a_store_from_a_newer_meterseal_is_one_line(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "s.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                 " applied_at TEXT NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (99, 'future', 'x')")
    conn.commit()
    conn.close()
    one_line_exit_2(meterseal("collect", "--endpoints", "tcp://127.0.0.1:9", "--db",
                              f"sqlite:///{db}"), "schema version 99, newer")


@pytest.mark.parametrize("make, words", [
    (lambda p: None, "no such folder"),
    (lambda p: p.mkdir(), "not a fleet directory"),
    (lambda p: (p.mkdir(), (p / "fleet.toml").write_text("format = 7\n")), "format = 1"),
    (lambda p: (p.mkdir(), (p / "fleet.toml").write_text("format = 1\n")), "no meters"),
])
def test_a_folder_that_is_not_a_fleet_is_one_line(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "fleet"
    make(target)
    one_line_exit_2(meterseal("serve", "--fleet", str(target), "--dlt645",
                              "tcp://127.0.0.1:0"), words)


def test_a_manifest_with_an_unknown_key_or_no_image(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "fleet", [Spec("202603010001")])
    manifest = fleet / "meters" / "202603010001.toml"
    text = manifest.read_text()
    manifest.write_text(text + "colour = 3\n")
    with pytest.raises(FleetError, match="unknown key 'colour'"):
        load_fleet(fleet)
    manifest.write_text(text)
    (fleet / "meters" / "202603010001.nvm").write_bytes(b"short")
    with pytest.raises(FleetError, match="32768-byte"):
        load_fleet(fleet)


def test_a_meter_built_from_its_image_answers_as_the_meter_did(tmp_path: Path) -> None:
    src = rich_meter()
    fleet = load_fleet(make_fleet(tmp_path / "fleet", [Spec(src.address_digits)]))
    (file,) = fleet.meters
    built = file.build()
    assert built.address == src.address and built.energy() == src.energy()
    assert abs(built.clock()[0] - src.clock()[0]) < 5_000
    a, b = Dlt645Session(src), Dlt645Session(built)
    for item in (cat.COVER_OPEN_COUNT, cat.MFR_COVER_OPEN_TOTALS, cat.MFR_POWER_DOWN_TOTALS,
                 cat.EVENT_CLEAR_COUNT, cat.IMPORT_ENERGY):
        frame = read_request(src.address, item.di())
        assert a.handle(frame) == b.handle(frame), item.name
    for n in range(1, 11):
        frame = read_request(src.address, cat.MFR_COVER_OPEN_RECORD.di(n))
        assert a.handle(frame) == b.handle(frame)


def test_a_meter_on_a_serial_line_is_collected(tmp_path: Path) -> None:
    from tests.dlt645_helpers import pty_link

    db = f"sqlite:///{tmp_path}/s.db"
    with pty_link() as (meter_end, head_end), serve(serial=meter_end, tcp=False):
        done = meterseal("collect", "--endpoints", f"serial:{head_end}:2400", "--db", db,
                         "--json", "--timeout", "3")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["meters_read"] == 1
    assert len(snapshot(db)["cover_open"]) == 10
