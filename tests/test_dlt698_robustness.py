"""Robustness of the DL/T 698.45 meter face: generated and mutated frames and APDUs against the
session and the live TCP server. No exception escapes, the association never wedges (a normal
read works after every storm, whatever state the storm left), memory stays bounded, and the
meter's records never change. `-m slow` sends over 100,000 frames and APDUs."""

from __future__ import annotations

import random
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterseal.firmware.image import decode_image
from meterseal.protocols.dlt698.access import (
    ActionRequest,
    GetRecordRequest,
    GetRequest,
    ReportResponse,
    SetRequest,
)
from meterseal.protocols.dlt698.apdu import GetRecord
from meterseal.protocols.dlt698.axdr import DoubleLongUnsigned, Integer
from meterseal.protocols.dlt698.axdr_time import DateTimeS
from meterseal.protocols.dlt698.frame import (
    SEGMENT_BIT,
    AddressType,
    Frame,
    FrameDecoder,
    Segment,
    SegmentType,
    ServerAddress,
    encode,
)
from meterseal.protocols.dlt698.handler import dispatch
from meterseal.protocols.dlt698.refs import Oad, Omd, SelectAll, Selector1, Selector9
from meterseal.protocols.dlt698.services import Association, ConnectRequest, ReleaseRequest
from meterseal.protocols.dlt698.session import Dlt698Session
from meterseal.protocols.dlt698.tcp import Dlt698TcpServer
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import SCENARIO
from tests.dlt698_helpers import SERVER, memory_client
from tests.dlt698_strategies import apdus, frames

WILDCARD = ServerAddress(b"\xaa" * 6, AddressType.WILDCARD)
ADDRESS_READ = GetRequest(1, (Oad(0x4001, 2),))


@pytest.fixture
def meter():
    return LiveMeter.from_scenario(load_scenario(SCENARIO))


def records(meter):  # type: ignore[no-untyped-def]
    img = decode_image(meter.nvm_image())
    return (img.cover_total, [r.as_tuple() for r in img.cover], img.clear_total,
            img.power_down_total)


def requests() -> list[bytes]:
    """Well-formed requests of every service, none with the meter's password."""
    record = GetRecord(Oad(0x301B, 2), Selector9(1))
    return [r.to_bytes() for r in (
        ADDRESS_READ,
        GetRequest(2, (Oad(0x301B, 7), Oad(0x4000, 2), Oad(0xFF1B, 2)), True),
        GetRecordRequest(3, (record,)),
        GetRecordRequest(4, (GetRecord(Oad(0x3011, 2), SelectAll()),
                             GetRecord(Oad(0x301B, 2), Selector1(Oad(0x2022, 2),
                                                                 DoubleLongUnsigned(3)))), True),
        ConnectRequest(5, Association(receive_frame=64, send_frame=64)),
        ConnectRequest(6, Association(), 1, "badpw"),
        ReleaseRequest(7),
        ActionRequest(8, ((Omd(0x301B, 1), Integer(0)),)),
        SetRequest(9, Oad(0x4000, 2), DateTimeS(2026, 1, 1, 0, 0, 0)),
        ReportResponse(0, (Oad(0x3011, 2),)),
    )]


def mutate(rnd: random.Random, raw: bytes) -> bytes:
    b = bytearray(raw)
    for _ in range(rnd.randrange(1, 4)):
        how = rnd.randrange(5)
        if how == 0 and b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        elif how == 1 and b:
            del b[rnd.randrange(len(b)) :]
        elif how == 2:
            b[rnd.randrange(len(b) + 1) : 0] = rnd.randbytes(rnd.randrange(1, 20))
        elif how == 3 and len(b) > 3:
            b[rnd.randrange(len(b))] = rnd.choice((0x00, 0x01, 0x7F, 0x80, 0x84, 0xFF))
        else:
            b.extend(rnd.randbytes(rnd.randrange(1, 8)))
    return bytes(b)


def storm_item(rnd: random.Random, base: list[bytes]) -> bytes:
    """One frame of a storm: a mutated APDU in a good frame, a mutated frame, a segment out of
    turn, or plain noise."""
    pick = rnd.random()
    sa = rnd.choice((SERVER, WILDCARD))
    if pick < 0.45:
        control = rnd.choice((0x43, 0x43, 0x03, 0x4B, 0xC3))
        return encode(Frame(control, sa, 0x10, mutate(rnd, rnd.choice(base))), rnd.randrange(5))
    if pick < 0.65:
        return mutate(rnd, encode(Frame(0x43, sa, 0x10, rnd.choice(base))))
    if pick < 0.8:
        kind = rnd.choice(list(SegmentType))
        data = b"" if kind == SegmentType.ACK else rnd.choice(base)[: rnd.randrange(1, 20)]
        seg = Segment(rnd.randrange(8), kind, data)
        return encode(Frame(0x43 | SEGMENT_BIT, sa, 0x10, seg.to_bytes()))
    if pick < 0.9:
        return encode(Frame(0x43, sa, 0x10, rnd.choice(base)))
    return rnd.randbytes(rnd.randrange(1, 60))


def normal_read_works(session: Dlt698Session) -> None:
    client = memory_client(session)
    assert client.get(Oad(0x4001, 2)).value == bytes.fromhex("202603010042")
    assert len(client.get_record(GetRecord(Oad(0x301B, 2), SelectAll())).rows or ()) == 10
    client.connect()  # and a fresh association is granted


# ------------------------------------------------------------------------------ the session


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(frames, max_size=5))
def test_generated_frames_never_raise_nor_change_records(meter, fs):
    before = records(meter)
    session = Dlt698Session(meter)
    for f in fs:
        for reply in session.handle(f):
            assert len(reply) < 4096
    assert records(meter) == before


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(apdus, max_size=4), st.sampled_from([0x43, 0x03, 0xC3]))
def test_generated_apdus_never_raise_and_never_wedge(meter, generated, control):
    before = records(meter)
    session = Dlt698Session(meter)
    for apdu in generated:
        dispatch(session, [Frame(control, SERVER, 0x10, apdu.to_bytes())])
    assert records(meter) == before
    normal_read_works(session)


def storm(session: Dlt698Session, rnd: random.Random, n: int) -> None:
    base = requests()
    decoder = FrameDecoder()
    stream = b"".join(storm_item(rnd, base) for _ in range(n))
    pos = 0
    while pos < len(stream):
        step = rnd.randrange(1, 200)
        for reply in dispatch(session, decoder.feed(stream[pos : pos + step])):
            assert len(reply) < 4096
        assert decoder.buffered_bytes < 8192
        pos += step


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1))
def test_storms_of_mutated_frames_leave_a_working_meter(meter, seed):
    before = records(meter)
    session = Dlt698Session(meter)
    storm(session, random.Random(seed), 100)
    assert records(meter) == before
    normal_read_works(session)


# ------------------------------------------------------------------------- the live server


@pytest.fixture
def server(meter):
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    srv = Dlt698TcpServer(lambda: Dlt698Session(meter), "127.0.0.1", 0, max_clients=64)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(srv.start(), loop).result(5)
    try:
        yield srv
    finally:
        asyncio.run_coroutine_threadsafe(srv.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def read_back(sock: socket.socket, piid: int, timeout_s: float = 5.0) -> bool:
    """Send a clean address read under ``piid``; whether its answer comes."""
    sock.sendall(b"\x16" * 40 + encode(Frame(0x43, SERVER, 0x10,
                                             GetRequest(piid, (Oad(0x4001, 2),)).to_bytes()), 4))
    decoder = FrameDecoder()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        for f in decoder.feed(chunk):
            if f.from_server and not f.segmented and f.data[:3] == bytes((0x85, 1, piid)):
                return True
    return False


def stream_over_tcp(server, n_items: int, seed: int) -> int:  # type: ignore[no-untyped-def]
    rnd = random.Random(seed)
    base = requests()
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while sent < n_items:
            batch = [storm_item(rnd, base) for _ in range(200)]
            s.sendall(b"".join(batch))
            sent += len(batch)
            piid = 1 + (sent // 200) % 63
            assert read_back(s, piid), f"no answer after {sent} items"
    return sent


def test_generated_stream_over_tcp(server, meter):
    before = records(meter)
    assert stream_over_tcp(server, 2_000, seed=1) >= 2_000
    assert records(meter) == before


@pytest.mark.slow
def test_over_100000_generated_and_mutated_frames_and_apdus(server, meter):
    before = records(meter)
    assert stream_over_tcp(server, 100_000, seed=2) >= 100_000
    session = Dlt698Session(meter)
    storm(session, random.Random(3), 20_000)
    normal_read_works(session)
    assert records(meter) == before


@pytest.mark.parametrize("kind", ["68-run", "bad-fcs", "pipelined-unread"])
def test_structured_floods_do_not_stall_the_698_server(server, kind):
    """The shared transport's guards (tests/test_floods.py) hold for DL/T 698.45 too: while one
    client floods, another is answered."""
    import threading

    good = encode(Frame(0x43, SERVER, 0x10, ADDRESS_READ.to_bytes()), 4)
    bad = good[:-3] + bytes((good[-3] ^ 1,)) + good[-2:]
    data = {"68-run": b"\x68" * (2 << 20), "bad-fcs": bad * ((1 << 20) // len(bad)),
            "pipelined-unread": good * ((1 << 20) // len(good))}[kind]
    flooder = socket.socket()
    flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # it reads nothing
    flooder.connect(("127.0.0.1", server.port))

    def pump() -> None:
        try:
            flooder.sendall(data)
        except OSError:
            pass  # dropped for not reading its answers

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        for piid in (11, 12, 13):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as reader:
                assert read_back(reader, piid, 10.0)
    finally:
        flooder.close()
        t.join(10)
