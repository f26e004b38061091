"""Interoperability: the independent PyPI `dlt645` client (pinned 3.2.0, not our code) reads a
`meterseal serve` subprocess over TCP and over a pseudo-terminal serial link at 2400 8E1, and
every value it decodes equals what the twin recorded for the same scenario.

Known quirks of that client, worked around here (docs/dlt645.md): it returns None instead of
raising; a second read of an event DI on one client needs a fresh table entry; it
prints addresses and operator codes in wire order; its broadcast_time_sync() sends YY MM DD hh mm
ss, the reverse of the standard's order, so the broadcast here is built with its own frame
builder in the standard's order.
"""

from __future__ import annotations

import struct
from copy import deepcopy
from datetime import datetime, timedelta

import pytest

from meterseal.sim.scenario import load_scenario
from meterseal.verify.result import result_dict, simulate
from tests.dlt645_helpers import ADDRESS, PASSWORD, SCENARIO, pty_link, serve

dlt645 = pytest.importorskip("dlt645")
from dlt645.model.data.define import DIMap  # noqa: E402
from dlt645.protocol.protocol import DLT645Protocol  # noqa: E402
from dlt645.service.clientsvc.client_service import MeterClientService  # noqa: E402

WIRE_ADDRESS = bytes.fromhex(ADDRESS)[::-1].hex()  # the client prints addresses in wire order


@pytest.fixture(scope="module")
def twin():
    return result_dict(simulate(load_scenario(SCENARIO), trace=False))


def digits(t: str) -> str:
    """The twin's ISO time as the client prints a YYMMDDhhmmss field."""
    return datetime.fromisoformat(t).strftime("%y%m%d%H%M%S")


def kwh_digits(kwh: float) -> str:
    """An energy as the client prints an XXXXXX.XX record field (8 digits, no point)."""
    return f"{round(kwh * 100):08d}"


def event(client, di):
    # quirk: a client fills its table entry in place, so a second read of the same event DI
    # needs a fresh entry (the documented clone_data_map() does the same for all 15,000 DIs
    # and costs 1.6 s; this refreshes just the one)
    client.data_map[di] = deepcopy(DIMap[di])
    items = client.read_03(di)
    assert items is not None, f"no answer to {di:08X}"
    return [i.value for i in items]


def meter_clock(client) -> datetime:
    date = client.read_04(0x04000101).value  # YYMMDDWW
    tod = client.read_04(0x04000102).value  # hhmmss
    return datetime.strptime(date[:6] + tod, "%y%m%d%H%M%S")


def read_everything(client, twin) -> None:
    """Address, count, all ten records, power-down records, date and time: equal the twin."""
    addr = client.read_address()
    assert addr is not None and addr.value == WIRE_ADDRESS
    recs = twin["records"]
    count = event(client, 0x03300D00)
    assert count == [f"{recs['cover_open_total']:06d}"]
    newest_first = sorted(recs["cover_open"], key=lambda r: -r["seq"])
    assert recs["cover_open_total"] > 10 and len(newest_first) == 10
    for n, want in enumerate(newest_first, start=1):
        got = event(client, 0x03300D00 + n)
        assert len(got) == 14  # start, end, 6 energies before, 6 after
        assert got[0] == digits(want["opened_at"])
        assert got[1] == (digits(want["closed_at"]) if want["closed_at"] else "0" * 12)
        assert got[2] == kwh_digits(want["energy_before_kwh"]["import_active"])
        assert got[3] == kwh_digits(want["energy_before_kwh"]["export_active"])
        after = want["energy_after_kwh"] or {"import_active": 0.0, "export_active": 0.0}
        assert got[8] == kwh_digits(after["import_active"])
        assert got[9] == kwh_digits(after["export_active"])
        assert set(got[4:8] + got[10:]) == {"0" * 8}  # no reactive registers
    pds = sorted(recs["power_down"], key=lambda p: p["from"], reverse=True)
    assert event(client, 0x03110000) == [f"{recs['power_down_total']:06d}"]
    for n, want in enumerate(pds, start=1):
        assert event(client, 0x03110000 + n) == [digits(want["from"]), digits(want["to"])]
    # date and time: the RTC runs on from the scenario's end (drift: a few ppm)
    sc = load_scenario(SCENARIO)
    end = (sc.start + timedelta(microseconds=sc.duration_us)).replace(tzinfo=None)
    clock = meter_clock(client)
    assert timedelta(0) <= clock - end < timedelta(minutes=2)
    imp = client.read_00(0x00010000)
    assert imp is not None and imp.value > 0


def broadcast_time(client, when: datetime) -> None:
    """Broadcast time 08 in the standard's byte order, sent with the client's own transport."""
    data = bytes(((v // 10) << 4) | (v % 10) for v in (
        when.second, when.minute, when.hour, when.day, when.month, when.year % 100))
    frame = DLT645Protocol.build_frame(b"\x99" * 6, 0x08, data)
    assert client._send_broadcast(frame)


def clears(client) -> None:
    """An event clear with a wrong, then with the right password."""
    assert client.clear_event("02654321", "12345678", 0x03300DFF) is None  # refused (b2)
    assert event(client, 0x03300300) == ["000000"]
    ok = client.clear_event("02" + PASSWORD, "12345678", 0x03300DFF)
    assert ok is not None and ok.value == 0
    assert event(client, 0x03300D00) == ["000000"]
    assert event(client, 0x03300300) == ["000001"]
    rec = event(client, 0x03300301)
    assert rec[1] == "78563412"  # quirk: the operator code printed in wire order
    assert event(client, 0x03300D01)[0] == "0" * 12  # the standard view is empty now


def secured_clears(client, now: datetime) -> None:
    """Level-98 clears sent raw through the client's transport: a stale deadline is refused
    (b2), a valid MAC and deadline accepted; each answer decoded by our codec."""
    from meterseal.firmware.caltime import ms_from_civil
    from meterseal.protocols.dlt645.frame import decode, encode
    from meterseal.protocols.dlt645.security import secured_frame

    key = bytes.fromhex("00112233445566778899aabbccddeeff")
    addr = bytes.fromhex(ADDRESS)[::-1]
    now_ms = ms_from_civil(now.year, now.month, now.day, now.hour, now.minute, now.second)
    for deadline_ms, control in ((now_ms - 60_000, 0xDB), (now_ms + 600_000, 0x9B)):
        frame = secured_frame(key, addr, 0x1B, 0xFFFFFFFF, deadline_ms, operator=b"\x01" * 4)
        reply = decode(bytes(client.client.send_request(encode(frame))))
        assert reply.control == control, reply
    assert event(client, 0x03300300) == ["000002"]


def test_pypi_client_over_tcp(twin):
    with serve() as served:
        client = MeterClientService.new_tcp_client("127.0.0.1", served.port, timeout=3)
        try:
            read_everything(client, twin)
            before = meter_clock(client)
            broadcast_time(client, before + timedelta(days=3))  # refused: 5 min at most
            assert abs((meter_clock(client) - before).total_seconds()) <= 2
            target = before - timedelta(minutes=3)
            broadcast_time(client, target)
            assert abs((meter_clock(client) - target).total_seconds()) <= 2  # accepted
            broadcast_time(client, target + timedelta(minutes=2))  # refused: once a day
            assert abs((meter_clock(client) - target).total_seconds()) <= 2
            clears(client)
            secured_clears(client, meter_clock(client))
        finally:
            client.disconnect()
    assert served.proc.returncode == 0 and "stopped" in served.lines[-1]


def test_pypi_client_over_a_pty_serial_link_at_2400_8e1(twin):
    """The meter's end is opened 2400 8E1, as on a real line. The client's end is opened 8N1:
    a Linux pty cannot hold PARENB, and pyserial re-applies every line setting when a port's
    timeout changes, which the client does on every read (EINVAL once parity was asked). On a
    pty no parity bit ever exists, so the byte stream is the one a real 8E1 line carries."""
    with pty_link() as (meter_end, head_end), serve(
        serial=f"{meter_end}:2400", tcp=False
    ) as served:
        assert any("2400 8E1" in line for line in served.lines)
        client = MeterClientService.new_rtu_client(head_end, 2400, 8, 1, "N", 3.0)
        try:
            assert client.connect()
            read_everything(client, twin)
            target = meter_clock(client) - timedelta(minutes=3)
            broadcast_time(client, target)
            assert abs((meter_clock(client) - target).total_seconds()) <= 2
            clears(client)
        finally:
            client.disconnect()


def test_the_clients_own_broadcast_is_not_the_standards_byte_order():
    """Written down, not worked around: broadcast_time_sync() sends YY MM DD hh mm ss."""
    sent = []

    class Capture:
        def _ensure_connection(self):
            return True

        def send_only(self, data, timeout=2.0):
            sent.append(bytes(data))
            return True

    client = MeterClientService(Capture())
    client.broadcast_time_sync(datetime(2026, 7, 4, 13, 14, 15))
    frame = DLT645Protocol.deserialize(sent[0])
    assert bytes(frame.data) == bytes((0x26, 0x07, 0x04, 0x13, 0x14, 0x15))  # YY first
    assert struct.unpack("6B", bytes(frame.addr)) == (0x99,) * 6


def test_pypi_client_against_a_meter_in_the_field(tmp_path):
    """Field mode: the client's level-02 clear is refused; a level-98 time set (sent raw through
    its transport) is accepted and the client reads the time-setting log it left."""
    from meterseal.firmware.caltime import ms_from_civil
    from meterseal.protocols.dlt645.catalog import MeterTime
    from meterseal.protocols.dlt645.frame import decode, encode
    from meterseal.protocols.dlt645.security import secured_frame

    field = tmp_path / "field.toml"
    field.write_text(SCENARIO.read_text().replace('"security.factory_mode" = true',
                                                  '"security.factory_mode" = false'))
    assert '"security.factory_mode" = false' in field.read_text()
    with serve(field) as served:
        client = MeterClientService.new_tcp_client("127.0.0.1", served.port, timeout=3)
        try:
            assert client.read_address() is not None  # the client learns whom it talks to
            assert client.clear_event("02" + PASSWORD, "12345678", 0x03300DFF) is None
            assert event(client, 0x03300300) == ["000000"]
            before = meter_clock(client)
            target = before - timedelta(hours=1)
            now_ms = ms_from_civil(before.year, before.month, before.day, before.hour,
                                   before.minute, before.second)
            value = MeterTime((target.hour * 3600 + target.minute * 60 + target.second)
                              * 1000).to_bytes()
            frame = secured_frame(bytes.fromhex("00112233445566778899aabbccddeeff"),
                                  bytes.fromhex(ADDRESS)[::-1], 0x14, 0x04000102,
                                  now_ms + 600_000, operator=b"\x78\x56\x34\x12", value=value)
            reply = decode(bytes(client.client.send_request(encode(frame))))
            assert reply.control == 0x94, reply
            assert abs((meter_clock(client) - target).total_seconds()) <= 2
            assert event(client, 0x03300400) == ["000001"]
            operator, was, now = event(client, 0x03300401)
            assert operator == "12345678"  # quirk: printed in wire order
            assert abs((datetime.strptime(was, "%y%m%d%H%M%S") - before).total_seconds()) <= 2
            assert now == target.strftime("%y%m%d%H%M%S")
        finally:
            client.disconnect()
