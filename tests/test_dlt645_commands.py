"""`meterseal serve` and `meterseal read`: the reader decodes what the twin recorded, over TCP
and a pty serial link; bad input and a silent meter give one line and exit status 2; Ctrl-C
and SIGTERM stop the server cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from datetime import datetime

import pytest

from meterseal.commands import main
from meterseal.firmware.image import decode_image
from meterseal.sim.scenario import load_scenario
from meterseal.verify.result import result_dict, simulate
from tests.dlt645_helpers import ADDRESS, PASSWORD, ROOT, SCENARIO, pty_link, serve


@pytest.fixture(scope="module")
def twin():
    return result_dict(simulate(load_scenario(SCENARIO), trace=False))


def seconds(t: str | None) -> str | None:
    """An ISO time with offset, to whole seconds (what DL/T 645 carries)."""
    return None if t is None else datetime.fromisoformat(t).isoformat(timespec="seconds")


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("meterseal: error: "), err
    assert "Traceback" not in err[0]
    return err[0]


def check_reading(reading: dict, twin: dict) -> None:
    recs = twin["records"]
    assert reading["address"] == ADDRESS
    assert reading["cover_open_count"] == reading["cover_open_total"] == recs["cover_open_total"]
    want = sorted(recs["cover_open"], key=lambda r: -r["seq"])
    assert [c["seq"] for c in reading["cover_open"]] == [w["seq"] for w in want]
    for got, w in zip(reading["cover_open"], want, strict=True):
        assert got["opened_at"] == seconds(w["opened_at"])
        assert got["closed_at"] == seconds(w["closed_at"])
        assert got["time_quality"] == w["time_quality"]
        assert got["closed_quality"] == w["closed_quality"]
        assert got["energy_before_kwh"] == w["energy_before_kwh"]
        assert got["energy_after_kwh"] == w["energy_after_kwh"]
        if w["time_quality"] == "bounded":
            assert got["not_before"] <= w["not_before"] and got["not_after"] >= seconds(
                w["not_after"]
            )
        else:
            assert got["not_before"] is None and got["not_after"] is None
        assert got["cleared"] is False
    pds = sorted(recs["power_down"], key=lambda p: p["from"], reverse=True)
    assert reading["power_down_total"] == recs["power_down_total"]
    assert [(p["from"], p["to"], p["time_quality"]) for p in reading["power_down"]] == [
        (seconds(p["from"]), seconds(p["to"]), p["time_quality"]) for p in pds
    ]
    assert reading["event_clear_count"] == 0


def test_read_over_tcp_equals_the_twin(twin, capsys):
    with serve() as served:
        assert main(["read", "--dlt645", f"tcp://127.0.0.1:{served.port}", "--json"]) == 0
        check_reading(json.loads(capsys.readouterr().out), twin)
        # the text form names every record and its time quality
        assert main(["read", "--dlt645", f"tcp://127.0.0.1:{served.port}",
                     "--address", ADDRESS]) == 0
        text = capsys.readouterr().out
        assert f"meter {ADDRESS}" in text and "bounded" in text and "#13" in text


def test_read_after_an_event_clear_shows_what_was_cleared(capsys):
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.frame import Frame, address_from_string, di_to_bytes

    with serve() as served:
        me = address_from_string(ADDRESS)
        with Dlt645Client.tcp("127.0.0.1", served.port) as c:
            clear = Frame(me, 0x1B, bytes.fromhex("02123456") + b"\x00\x00\x00\x07"
                          + di_to_bytes(0xFFFFFFFF))
            assert c.request(clear).control == 0x9B
        assert main(["read", "--dlt645", f"tcp://127.0.0.1:{served.port}", "--json"]) == 0
        r = json.loads(capsys.readouterr().out)
    assert r["cover_open_count"] == 0 and r["cover_open_total"] == 13
    assert len(r["cover_open"]) == 10 and all(c["cleared"] for c in r["cover_open"])
    assert r["power_down_count"] == 0 and all(p["cleared"] for p in r["power_down"])
    assert r["event_clear_count"] == 1
    assert r["event_clears"][0]["operator"] == "00000007"
    assert r["event_clears"][0]["di"] == "FFFFFFFF"


def test_read_over_a_pty_serial_link(twin, capsys):
    with pty_link() as (meter_end, head_end), serve(serial=meter_end, tcp=False):
        assert main(["read", "--dlt645", f"serial:{head_end}:2400", "--json"]) == 0
        check_reading(json.loads(capsys.readouterr().out), twin)


def test_a_meter_that_does_not_answer(capsys):
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert main(["read", "--dlt645", f"tcp://127.0.0.1:{port}", "--timeout", "0.3"]) == 2
    assert "did not answer" in one_error_line(capsys)


def test_nobody_listening(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        assert main(["read", "--dlt645", f"tcp://127.0.0.1:{port}", "--timeout", "1"]) == 2
    assert "cannot connect" in one_error_line(capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["read", "--dlt645", "http://127.0.0.1:1"],
        ["read", "--dlt645", "tcp://127.0.0.1"],
        ["read", "--dlt645", "tcp://127.0.0.1:99999"],
        ["read", "--dlt645", "tcp://127.0.0.1:1", "--address", "12345"],
        ["read", "--dlt645", "tcp://127.0.0.1:1", "--timeout", "0"],
        ["read", "--dlt645", "serial:/dev/no-such-port-here"],
        ["read"],
        ["serve"],
        ["serve", "--scenario", str(SCENARIO), "--dlt645", "udp://127.0.0.1:1"],
        ["serve", "--scenario", "no/such/scenario.toml", "--dlt645", "tcp://127.0.0.1:0"],
        ["serve", "--scenario", str(SCENARIO), "--serial", "/dev/no-such-port-here"],
        ["serve", "--scenario", str(SCENARIO), "--image", "/no/such/dir/meter.nvm"],
        ["serve", "--scenario", str(SCENARIO), "--image", str(SCENARIO.parent)],
        ["serve", "--scenario", str(SCENARIO), "--image", str(SCENARIO)],  # not an NVM image
        ["serve", "--fleet", str(SCENARIO.parent), "--image", "x.nvm"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    one_error_line(capsys)


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--scenario", str(SCENARIO), "--dlt645",
                     f"tcp://127.0.0.1:{port}"]) == 2
    assert "in use" in one_error_line(capsys)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_cleanly(sig):
    with serve() as served:
        with socket.create_connection(("127.0.0.1", served.port)):  # a client still connected
            served.proc.send_signal(sig)
            out, _ = served.proc.communicate(timeout=10)
    assert served.proc.returncode == 0
    assert out.strip().splitlines()[-1] == "meterseal serve: stopped"
    assert "Traceback" not in out


def test_serve_image_a_restart_is_a_reboot_and_the_lockout_survives_it(tmp_path):
    """Wrong passwords lock the meter; `serve --image` restarted: still locked, and the NVM
    file holds what the first run wrote (created from the scenario's run)."""
    from meterseal.firmware.authlog import decode_auth
    from meterseal.protocols.dlt645.client import Dlt645Client
    from meterseal.protocols.dlt645.frame import ErrorCode, Frame, address_from_string

    image = tmp_path / "meter.nvm"
    me = address_from_string(ADDRESS)

    def refused(port: int, password: str) -> bool:
        data = b"\x02" + bytes.fromhex(password) + b"\x12\x34\x56\x78" + b"\xff\x0d\x30\x03"
        with Dlt645Client.tcp("127.0.0.1", port) as client:
            reply = client.request(Frame(me, 0x1B, data))
        return reply.error == ErrorCode.NOT_AUTHORISED

    with serve(extra=["--image", str(image)]) as served:
        assert any(f"NVM kept in {image}" in line for line in served.lines)
        for guess in ("000000", "000001", "000002"):
            assert refused(served.port, guess)
    assert decode_auth(image.read_bytes()).lockout().failures == 3
    with serve(extra=["--image", str(image)]) as served:
        assert any("rebooted from" in line for line in served.lines)
        assert refused(served.port, PASSWORD)  # the right one: still locked after the restart
    assert decode_image(image.read_bytes()).clear_total == 0


def test_serve_prints_where_it_listens():
    with serve() as served:
        assert any(f"tcp://127.0.0.1:{served.port}" in line for line in served.lines)
        assert any("13 cover-open" in line and "programming key pressed" in line
                   for line in served.lines)


def test_help_lists_serve_and_read():
    out = subprocess.run([sys.executable, "-m", "meterseal", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60).stdout
    assert "serve" in out and "read" in out


def test_read_a_meter_without_the_manufacturer_identifiers(twin, capsys):
    """Another maker's meter: the reader falls back to the standard records, quality unknown."""
    from meterseal.protocols.dlt645.session import Dlt645Session
    from meterseal.sim.live import LiveMeter
    from tests.test_dlt645_transport import running_server

    class OtherMaker(Dlt645Session):
        def value(self, di):
            return None if di >> 16 == 0x0480 else super().value(di)

    meter = LiveMeter.from_scenario(load_scenario(SCENARIO))
    with running_server(lambda: OtherMaker(meter)) as server:
        assert main(["read", "--dlt645", f"tcp://127.0.0.1:{server.port}", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    want = sorted(twin["records"]["cover_open"], key=lambda w: -w["seq"])
    assert r["cover_open_count"] == r["cover_open_total"] == twin["records"]["cover_open_total"]
    assert [c["opened_at"] for c in r["cover_open"]] == [seconds(w["opened_at"]) for w in want]
    assert {c["time_quality"] for c in r["cover_open"]} == {"unknown"}
    assert len(r["power_down"]) == twin["records"]["power_down_total"]
