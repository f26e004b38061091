"""`meterseal serve --dlt698` and `meterseal read --dlt698`: one process serves both faces of one
meter, and reading either face prints the same reading (counts, times, qualities, energies),
over TCP and over a pty where both protocols share the line; bad input is one line and exit
status 2."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from meterseal.commands import main
from meterseal.sim.scenario import load_scenario
from meterseal.verify.result import result_dict, simulate
from tests.dlt645_helpers import ADDRESS, SCENARIO, pty_link
from tests.dlt698_helpers import serve698
from tests.test_dlt645_commands import check_reading, one_error_line

TERMINAL_METER = Path(__file__).resolve().parent / "data" / "terminal_cover_meter.toml"


@pytest.fixture(scope="module")
def twin():
    return result_dict(simulate(load_scenario(SCENARIO), trace=False))


def reading(capsys, *argv: str) -> dict:
    assert main(["read", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def same_but_link(a: dict, b: dict) -> None:
    a, b = dict(a), dict(b)
    a.pop("link"), b.pop("link")
    a.pop("clock"), b.pop("clock")  # read a moment apart
    assert a == b


def test_both_faces_of_one_meter_read_the_same(twin, capsys):
    with serve698(dlt645=True) as served:
        r698 = reading(capsys, "--dlt698", f"tcp://127.0.0.1:{served.ports['DL/T 698.45']}")
        r645 = reading(capsys, "--dlt645", f"tcp://127.0.0.1:{served.ports['DL/T 645']}")
    check_reading(r698, twin)
    same_but_link(r645, r698)
    assert r698["clock"][:13] == r645["clock"][:13]


def test_both_faces_read_the_terminal_cover_alike(capsys):
    """A meter with a terminal cover: its log comes over DL/T 698.45 (ours through FF1C, with
    the time quality) as it does over DL/T 645, record for record."""
    with serve698(TERMINAL_METER, dlt645=True) as served:
        r698 = reading(capsys, "--dlt698", f"tcp://127.0.0.1:{served.ports['DL/T 698.45']}")
        r645 = reading(capsys, "--dlt645", f"tcp://127.0.0.1:{served.ports['DL/T 645']}")
    assert (r698["terminal_cover_count"], r698["terminal_cover_total"]) == (3, 3)
    assert [c["time_quality"] for c in r698["terminal_cover"]] == ["exact"] * 3
    assert r698["terminal_cover"][0]["closed_at"] is None  # the newest stays open
    assert r698["terminal_cover"] != r698["cover_open"]
    same_but_link(r645, r698)


def test_both_faces_read_the_clock_logs_alike(capsys):
    """A broadcast time and a time setting made over DL/T 645 read back over both faces alike:
    the times before and after, the setting's operator code (ours: FF16 carries it), the
    broadcast with none; --json and the text both show them."""
    from datetime import datetime

    from meterseal.firmware.caltime import MS_PER_DAY
    from meterseal.protocols.dlt645.catalog import DI_TIME, MeterTime
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.frame import Frame, FunctionCode, address_from_string
    from meterseal.protocols.dlt645.frame import di_to_bytes as di645
    from meterseal.protocols.dlt645.session import broadcast_time_data

    with serve698(dlt645=True) as served:
        url645 = f"tcp://127.0.0.1:{served.ports['DL/T 645']}"
        clock = datetime.fromisoformat(reading(capsys, "--dlt645", url645)["clock"])
        local_ms = int((clock.replace(tzinfo=None) - datetime(2000, 1, 1)).total_seconds()) * 1000
        me = address_from_string(ADDRESS)
        with Dlt645Client.tcp("127.0.0.1", served.ports["DL/T 645"]) as c:
            back = c.request(Frame(me, FunctionCode.BROADCAST_TIME,
                                   broadcast_time_data(local_ms - 120_000)))
            assert back.control == 0x88, back
            value = MeterTime((local_ms + 3_600_000) % MS_PER_DAY // 1000 * 1000).to_bytes()
            data = di645(DI_TIME) + b"\x02" + bytes.fromhex("123456") + b"\x00\x00\x00\x09"
            assert c.request(Frame(me, FunctionCode.WRITE, data + value)).control == 0x94
        r698 = reading(capsys, "--dlt698", f"tcp://127.0.0.1:{served.ports['DL/T 698.45']}")
        r645 = reading(capsys, "--dlt645", url645)
        assert main(["read", "--dlt698", f"tcp://127.0.0.1:{served.ports['DL/T 698.45']}"]) == 0
        text = capsys.readouterr().out
    assert (r698["time_set_count"], r698["broadcast_count"]) == (1, 1)
    (ts,), (bc,) = r698["time_sets"], r698["broadcasts"]
    assert ts["operator"] == "00000009" and bc["operator"] is None
    before, after = (datetime.fromisoformat(ts[k]) for k in ("before", "after"))
    # an hour ahead of the clock as first read, which the broadcast had put two minutes back
    assert round((after - before).total_seconds() / 60) == 62
    assert "time settings 1" in text and "operator 00000009" in text
    assert "broadcast times 1" in text
    same_but_link(r645, r698)


def test_after_a_clear_on_one_face_both_faces_agree(capsys):
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.frame import Frame, address_from_string, di_to_bytes

    with serve698(dlt645=True) as served:
        me = address_from_string(ADDRESS)
        with Dlt645Client.tcp("127.0.0.1", served.ports["DL/T 645"]) as c:
            clear = Frame(me, 0x1B, bytes.fromhex("02123456") + b"\x00\x00\x00\x07"
                          + di_to_bytes(0x03300DFF))
            assert c.request(clear).control == 0x9B
        r698 = reading(capsys, "--dlt698", f"tcp://127.0.0.1:{served.ports['DL/T 698.45']}")
        r645 = reading(capsys, "--dlt645", f"tcp://127.0.0.1:{served.ports['DL/T 645']}")
    assert r698["cover_open_count"] == 0 and r698["cover_open_total"] == 13
    assert all(c["cleared"] for c in r698["cover_open"])
    assert r698["power_down_count"] == 5  # only the cover-open log was cleared
    # the clear: the same time and identifier on both faces; DL/T 698.45 carries no operator
    (k698,), (k645,) = r698["event_clears"], r645["event_clears"]
    assert (k698["at"], k698["di"]) == (k645["at"], k645["di"]) == (k645["at"], "03300DFF")
    assert k645["operator"] == "00000007" and k698["operator"] == "unknown"
    r698.pop("event_clears"), r645.pop("event_clears")
    same_but_link(r645, r698)


def test_read_over_a_pty(twin, capsys):
    with pty_link() as (meter_end, head_end), serve698(serial=meter_end, dlt698=False):
        check_reading(reading(capsys, "--dlt698", f"serial:{head_end}:2400"), twin)


def test_both_protocols_share_one_serial_line():
    """One port, opened once (a pty refuses a second open once it has dropped the parity bit),
    carries a DL/T 645 reading and a DL/T 698.45 reading, which agree."""
    from meterseal.headend.reader import Reader
    from meterseal.headend.reader698 import Reader698
    from meterseal.protocols.dlt645.client import Dlt645Client, SerialLink
    from meterseal.protocols.dlt698.client import Dlt698Client

    with pty_link() as (meter_end, head_end), serve698(serial=meter_end, dlt698=False):
        link = SerialLink(head_end)
        try:
            r645 = Reader(Dlt645Client(link, timeout_s=3)).read().to_json()
            r698 = Reader698(Dlt698Client(link, timeout_s=3)).read().to_json()
            again = Reader(Dlt645Client(link, timeout_s=3)).read().to_json()
        finally:
            link.close()
    same_but_link(r645, r698)
    same_but_link(r645, again)


def test_the_text_reading_names_qualities(capsys):
    with serve698() as served:
        port = served.ports["DL/T 698.45"]
        assert main(["read", "--dlt698", f"tcp://127.0.0.1:{port}", "--address", ADDRESS]) == 0
    text = capsys.readouterr().out
    assert f"meter {ADDRESS}" in text and "bounded" in text and "#13" in text


def test_serve_says_where_each_face_listens():
    with serve698(dlt645=True) as served:
        assert set(served.ports) == {"DL/T 645", "DL/T 698.45"}
        assert any("13 cover-open" in line for line in served.lines)


def test_a_silent_meter(capsys):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert main(["read", "--dlt698", f"tcp://127.0.0.1:{port}", "--timeout", "0.3"]) == 2
    assert "did not answer" in one_error_line(capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["read", "--dlt698", "http://127.0.0.1:1"],
        ["read", "--dlt698", "tcp://127.0.0.1"],
        ["read", "--dlt698", "tcp://127.0.0.1:1", "--address", "12345"],
        ["read", "--dlt698", "tcp://127.0.0.1:1", "--address", "2026030100XY"],
        ["read", "--dlt698", "serial:/dev/no-such-port-here"],
        ["read", "--dlt698", "tcp://127.0.0.1:1", "--dlt645", "tcp://127.0.0.1:1"],
        ["read", "--dlt698", "tcp://127.0.0.1:1"],  # nobody listening
        ["serve", "--scenario", str(SCENARIO), "--dlt698", "udp://127.0.0.1:1"],
        ["serve", "--scenario", str(SCENARIO), "--report-to", "127.0.0.1:9"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    one_error_line(capsys)


def test_serve_dlt698_on_a_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--scenario", str(SCENARIO), "--dlt698",
                     f"tcp://127.0.0.1:{port}"]) == 2
    assert "in use" in one_error_line(capsys)
