"""Robustness of the DL/T 645 meter face: generated and mutated input against the session and
the live TCP server. No exception escapes, other clients keep being served, memory stays
bounded, and the meter's records never change. `-m slow` streams over 100,000 frames."""

from __future__ import annotations

import random
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterseal.firmware.image import decode_image
from meterseal.protocols.dlt645.frame import (
    BROADCAST_ADDRESS,
    MAX_FRAME_LENGTH,
    WILDCARD_ADDRESS,
    Frame,
    FrameDecoder,
    address_from_string,
    di_to_bytes,
    encode,
    read_request,
)
from meterseal.protocols.dlt645.handler import dispatch
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import load_scenario
from tests.dlt645_helpers import ADDRESS, SCENARIO, serve
from tests.test_dlt645_transport import running_server

ME = address_from_string(ADDRESS)
READABLE = (
    0x03300D00, 0x03300D01, 0x03300D0A, 0x03110000, 0x03110003, 0x03300300, 0x04000101,
    0x04000102, 0x04000401, 0x00010000, 0x00020000, 0x04800D00, 0x04800D05, 0x04800DFF,
    0x04801101, 0x12345678,
)


@pytest.fixture(scope="module")
def meter():
    return LiveMeter.from_scenario(load_scenario(SCENARIO))


def records(meter):
    img = decode_image(meter.nvm_image())
    return (
        img.cover_total, [r.as_tuple() for r in img.cover],
        img.power_down_total, [r.as_tuple() for r in img.power_down],
    )


addresses = st.sampled_from([ME, WILDCARD_ADDRESS, BROADCAST_ADDRESS, bytes(6)]) | st.binary(
    min_size=6, max_size=6
)
frames = st.builds(Frame, addresses, st.integers(0, 255), st.binary(max_size=200))


def valid_requests() -> list[bytes]:
    out = [encode(read_request(ME, di), random.Random(di).randrange(5)) for di in READABLE]
    out.append(encode(Frame(WILDCARD_ADDRESS, 0x13)))
    out.append(encode(Frame(ME, 0x12, di_to_bytes(0x04800DFF) + b"\x01")))
    out.append(encode(Frame(ME, 0x1B, bytes((2, 0, 0, 0)) + bytes(8))))  # a wrong password
    return out


def mutate(rnd: random.Random, raw: bytes) -> bytes:
    b = bytearray(raw)
    for _ in range(rnd.randrange(1, 4)):
        how = rnd.randrange(6)
        if how == 0 and b:
            b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)  # a flipped bit (checksum)
        elif how == 1 and b:
            del b[rnd.randrange(len(b)) :]  # truncated
        elif how == 2:
            b[rnd.randrange(len(b) + 1) : 0] = rnd.randbytes(rnd.randrange(1, 30))  # garbage
        elif how == 3 and len(b) > 10:
            b[9] = rnd.randrange(201, 256)  # a length over 200
        elif how == 4 and len(b) > 8:
            b[rnd.randrange(len(b))] = 0x68  # a false start
        else:
            b.extend(b"\x16\xfe\x68")
    return bytes(b)


# ----------------------------------------------------------------------------- the session


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(frames, max_size=5))
def test_generated_frames_never_raise_nor_change_records(meter, fs):
    before = records(meter)
    session = Dlt645Session(meter)
    for f in fs:
        for reply in session.handle(f):
            assert len(reply) <= 4 + MAX_FRAME_LENGTH
    assert records(meter) == before


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_mutated_streams_never_raise(meter, seed, n):
    rnd = random.Random(seed)
    base = valid_requests()
    stream = b"".join(
        mutate(rnd, rnd.choice(base)) if rnd.random() < 0.7 else rnd.choice(base)
        for _ in range(n)
    )
    before = records(meter)
    decoder = FrameDecoder()
    session = Dlt645Session(meter)
    pos = 0
    while pos < len(stream):
        step = rnd.randrange(1, 64)
        dispatch(session, decoder.feed(stream[pos : pos + step]))
        assert decoder.buffered_bytes < MAX_FRAME_LENGTH
        pos += step
    assert records(meter) == before


# ------------------------------------------------------------------------- the live server


def recv_frames(sock: socket.socket, n: int, timeout_s: float = 3.0) -> list[Frame]:
    decoder = FrameDecoder()
    out: list[Frame] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n and time.monotonic() < deadline:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        if not chunk:
            break
        out.extend(f for f in decoder.feed(chunk) if isinstance(f, Frame))
    return out


def ask(sock: socket.socket, di: int) -> Frame:
    sock.sendall(encode(read_request(ME, di), 4))
    got = recv_frames(sock, 1)
    assert got, f"no answer to {di:08X}"
    return got[0]


@pytest.fixture
def server(meter):
    with running_server(lambda: Dlt645Session(meter), max_clients=256) as srv:
        yield srv


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=3)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def test_damaged_frames_and_garbage_between_frames_are_survived(server, meter):
    before = records(meter)
    good = encode(read_request(ME, 0x03300D00), 4)
    bad_checksum = bytearray(good)
    bad_checksum[-2] ^= 0xFF
    too_long = bytearray(encode(read_request(ME, 0x03300D00)))
    too_long[9] = 250
    truncated = good[:12]
    with connect(server) as s:
        s.sendall(
            b"\x00garbage\x68\x68" + bytes(bad_checksum) + good + bytes(too_long) + b"\xff" * 50
            + truncated + good + b"\x16\x16" + good
        )
        got = recv_frames(s, 3)
        assert [f.control for f in got] == [0x91] * 3
        assert all(f.data[4:] == got[0].data[4:] for f in got)
    assert records(meter) == before


def test_a_slow_client_does_not_stall_the_others(server):
    request = encode(read_request(ME, 0x03300D01), 4)
    slow = connect(server)
    done = threading.Event()

    def trickle() -> None:
        for b in request:  # one byte every 10 ms (1 byte/s, compressed for the test run)
            slow.sendall(bytes((b,)))
            time.sleep(0.01)
        done.set()

    t = threading.Thread(target=trickle)
    t.start()
    with connect(server) as fast:
        latencies = []
        while not done.is_set():
            t0 = time.perf_counter()
            assert ask(fast, 0x03300D00).control == 0x91
            latencies.append(time.perf_counter() - t0)
        assert len(latencies) > 20 and max(latencies) < 0.5
    t.join()
    assert recv_frames(slow, 1)[0].control == 0x91  # and the slow one is answered too
    slow.close()


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_a_flooding_client_neither_stalls_the_others_nor_grows_memory():
    """20 MB of garbage at full speed into `meterseal serve` (a real process, so its memory is
    its own) while another client reads: every read answered, and the server's RSS, sampled
    between reads, grows by less than 8 MB over what it held before the flood."""
    chunk = random.Random(7).randbytes(65536)
    with serve() as served:
        pid, port = served.proc.pid, served.port
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            for di in READABLE[:11]:  # warm: every answer once
                c.sendall(encode(read_request(ME, di), 4))
                assert recv_frames(c, 1)
        base = peak = rss_kb(pid)
        done = threading.Event()

        def flood() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as f:
                for _ in range(20_000_000 // len(chunk)):
                    f.sendall(chunk)
            done.set()

        t = threading.Thread(target=flood)
        t.start()
        reads = 0
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not done.is_set() or reads < 50:
                c.sendall(encode(read_request(ME, READABLE[reads % 11]), 4))
                got = recv_frames(c, 1)
                assert got and got[0].control == 0x91
                reads += 1
                peak = max(peak, rss_kb(pid))
        t.join(30)
        peak = max(peak, rss_kb(pid))
    assert done.is_set() and reads >= 50
    assert peak - base < 8_000, f"the server's RSS grew by {(peak - base) / 1000:.1f} MB"


def stream_frames(server, meter, n_frames: int, seed: int) -> int:
    """Send n_frames generated and mutated frames on one connection, with a check read after
    every batch; return the frames sent."""
    rnd = random.Random(seed)
    base = valid_requests()
    sent = 0
    with connect(server) as s:
        while sent < n_frames:
            batch = []
            for _ in range(200):
                pick = rnd.random()
                if pick < 0.4:
                    batch.append(mutate(rnd, rnd.choice(base)))
                elif pick < 0.6:
                    f = Frame(
                        rnd.choice([ME, WILDCARD_ADDRESS, BROADCAST_ADDRESS]),
                        rnd.randrange(256), rnd.randbytes(rnd.randrange(201)),
                    )
                    batch.append(encode(f, rnd.randrange(5)))
                else:
                    batch.append(rnd.randbytes(rnd.randrange(1, 40)))
            s.sendall(b"".join(batch))
            sent += len(batch)
            # resynchronise: whatever the batch left half-open, a clean read is answered
            s.sendall(b"\x16" * 220 + encode(read_request(ME, 0x04800D00), 4))
            deadline = time.monotonic() + 5
            decoder = FrameDecoder()
            found = False
            while not found and time.monotonic() < deadline:
                s.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = s.recv(65536)
                assert chunk, "the server closed the connection"
                for f in decoder.feed(chunk):
                    if isinstance(f, Frame) and f.data[:4] == di_to_bytes(0x04800D00):
                        found = f.control == 0x91
            assert found, "no answer after a batch"
    return sent


def test_generated_stream_over_tcp(server, meter):
    before = records(meter)
    assert stream_frames(server, meter, 2_000, seed=1) >= 2_000
    assert records(meter) == before


@pytest.mark.slow
def test_over_100000_generated_and_mutated_frames(server, meter):
    before = records(meter)
    assert stream_frames(server, meter, 100_000, seed=2) >= 100_000
    with connect(server) as c:  # and it still answers
        assert ask(c, 0x03300D00).control == 0x91
    assert records(meter) == before
