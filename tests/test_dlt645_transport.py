"""DL/T 645 transports and client: asyncio TCP server, pyserial on a pty at 2400 8E1, the client,
and interoperation with the independent PyPI ``dlt645`` package (pinned 3.2.0)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import termios
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from meterseal.protocols.dlt645.client import Dlt645Client
from meterseal.protocols.dlt645.errors import LinkError, MeterNotAnswering, MeterRefused
from meterseal.protocols.dlt645.frame import (
    WILDCARD_ADDRESS,
    ErrorCode,
    Frame,
    FrameDecoder,
    FrameError,
    FunctionCode,
    abnormal_reply,
    address_from_string,
    address_matches,
    di_from_bytes,
    di_to_bytes,
    encode,
    normal_reply,
    read_request,
)
from meterseal.protocols.dlt645.handler import FrameHandler
from meterseal.protocols.dlt645.tcp import Dlt645TcpServer

METER = address_from_string("000000000001")
OTHER_METER = address_from_string("000000000002")
COVER_COUNT = 0x03300D00
ENERGY_IMPORT = 0x00010000
EXPLODE = 0x04FFFFFF  # the test session raises on this one
VALUES = {COVER_COUNT: bytes([0x05, 0x00, 0x00]), ENERGY_IMPORT: bytes.fromhex("56341200")}


class EchoSession:
    """Test-only session: answers reads of a few DIs and read-address; nothing else."""

    def __init__(self, address: bytes = METER, answer_errors: bool = False) -> None:
        self.address = address
        self.answer_errors = answer_errors
        self.errors: list[FrameError] = []
        self.frames: list[Frame] = []

    def handle(self, frame: Frame) -> list[bytes]:
        self.frames.append(frame)
        if frame.is_reply or not address_matches(frame.address, self.address):
            return []
        if frame.function_code == FunctionCode.READ_ADDRESS:
            return [encode(normal_reply(frame, self.address, self.address), 4)]
        if frame.function_code != FunctionCode.READ or len(frame.data) < 4:
            return [encode(abnormal_reply(frame, self.address, ErrorCode.OTHER))]
        di = di_from_bytes(frame.data[:4])
        if di == EXPLODE:
            raise RuntimeError("session bug on purpose")
        if di not in VALUES:
            return [encode(abnormal_reply(frame, self.address, ErrorCode.NO_SUCH_DATA), 4)]
        return [encode(normal_reply(frame, self.address, frame.data[:4] + VALUES[di]), 4)]

    def handle_error(self, error: FrameError) -> list[bytes]:
        self.errors.append(error)
        if self.answer_errors:
            return [encode(Frame(self.address, 0xC0, bytes([ErrorCode.OTHER])))]
        return []


_session_is_a_handler: FrameHandler = EchoSession()


@contextlib.contextmanager
def running_server(
    factory: Callable[[], FrameHandler] = EchoSession, **options: object
) -> Iterator[Dlt645TcpServer]:
    """Run a Dlt645TcpServer on 127.0.0.1 (free port) in its own event-loop thread."""
    loop = asyncio.new_event_loop()
    server = Dlt645TcpServer(factory, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def _read_reply(sock: socket.socket, timeout_s: float = 2.0) -> Frame:
    decoder = FrameDecoder()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            chunk = sock.recv(1024)
        except TimeoutError:
            break
        assert chunk, "server closed the connection"
        for item in decoder.feed(chunk):
            if isinstance(item, Frame):
                return item
    raise AssertionError("no reply")


def _assert_closed(sock: socket.socket) -> None:
    sock.settimeout(2)
    try:
        assert sock.recv(100) == b""
    except ConnectionResetError:
        pass  # closed with our request unread: the kernel resets instead


def _connect(server: Dlt645TcpServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=2)


# ---------------------------------------------------------------------------- TCP server


def test_tcp_read_is_answered() -> None:
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as client:
        reply = client.request(read_request(METER, COVER_COUNT))
        assert reply == Frame(METER, 0x91, di_to_bytes(COVER_COUNT) + VALUES[COVER_COUNT])
        assert client.read(METER, COVER_COUNT) == VALUES[COVER_COUNT]
        assert client.request(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS)).data == METER


def test_many_concurrent_clients() -> None:
    clients_n, requests_n = 16, 10
    with running_server() as server:
        barrier = threading.Barrier(clients_n)
        connected: list[int] = []

        def one_client(i: int) -> list[bytes]:
            with Dlt645Client.tcp("127.0.0.1", server.port, timeout_s=5) as client:
                di = (COVER_COUNT, ENERGY_IMPORT)[i % 2]
                values = [client.read(METER, di)]
                barrier.wait(5)  # every connection is open and served at once
                connected.append(server.client_count)
                return values + [client.read(METER, di) for _ in range(requests_n - 1)]

        with ThreadPoolExecutor(clients_n) as pool:
            results = list(pool.map(one_client, range(clients_n)))
        for i, values in enumerate(results):
            assert values == [VALUES[(COVER_COUNT, ENERGY_IMPORT)[i % 2]]] * requests_n
        assert max(connected) == clients_n


def test_slow_client_does_not_stall_others() -> None:
    """One client trickles a frame a byte per 10 ms while another is answered at once."""
    slow_request = encode(Frame(METER, FunctionCode.READ, di_to_bytes(ENERGY_IMPORT)), 4)
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as fast:
        slow = _connect(server)
        done = threading.Event()

        def trickle() -> None:
            for i in range(len(slow_request)):
                slow.sendall(slow_request[i : i + 1])
                time.sleep(0.01)
            done.set()

        thread = threading.Thread(target=trickle)
        thread.start()
        answered = 0  # reads the other client got while this one still trickled its request
        while not done.is_set():
            assert fast.read(METER, COVER_COUNT) == VALUES[COVER_COUNT]
            answered += 1
        thread.join()
        reply = _read_reply(slow)
        assert reply.data == di_to_bytes(ENERGY_IMPORT) + VALUES[ENERGY_IMPORT]
        slow.close()
    assert answered >= 5


def test_garbage_flood_does_not_stall_others_and_the_flooder_recovers() -> None:
    garbage = random.Random(645).randbytes(2_000_000)
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as fast:
        flooder = _connect(server)
        done = threading.Event()

        def flood() -> None:
            view = memoryview(garbage)
            for i in range(0, len(garbage), 65536):
                flooder.sendall(view[i : i + 65536])
            done.set()

        thread = threading.Thread(target=flood)
        thread.start()
        latencies: list[float] = []
        while not done.is_set() or len(latencies) < 5:
            t0 = time.monotonic()
            assert fast.read(METER, ENERGY_IMPORT) == VALUES[ENERGY_IMPORT]
            latencies.append(time.monotonic() - t0)
        thread.join()
        # after the flood, the same connection still gets answers (the decoder resyncs)
        flooder.sendall(encode(read_request(METER, COVER_COUNT), 4))
        reply = _read_reply(flooder, 5)
        while reply.data[:4] != di_to_bytes(COVER_COUNT):  # answers to frames found in noise
            reply = _read_reply(flooder, 5)
        assert reply.data[4:] == VALUES[COVER_COUNT]
        flooder.close()
    assert max(latencies) < 0.5


def test_handler_exception_costs_one_answer_not_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as client:
        with pytest.raises(MeterNotAnswering):
            client.request(read_request(METER, EXPLODE), timeout_s=0.3)
        assert client.read(METER, COVER_COUNT) == VALUES[COVER_COUNT]  # same connection
        with Dlt645Client.tcp("127.0.0.1", server.port) as other:
            assert other.read(METER, COVER_COUNT) == VALUES[COVER_COUNT]
    assert any("handler failed" in r.getMessage() for r in caplog.records)


def test_failing_handler_factory_drops_only_that_connection() -> None:
    calls = iter([True, False])

    def factory() -> FrameHandler:
        if next(calls):
            raise RuntimeError("factory bug on purpose")
        return EchoSession()

    with running_server(factory) as server:
        first = _connect(server)
        first.sendall(encode(read_request(METER, COVER_COUNT)))
        _assert_closed(first)
        first.close()
        with Dlt645Client.tcp("127.0.0.1", server.port) as client:
            assert client.read(METER, COVER_COUNT) == VALUES[COVER_COUNT]


def test_damaged_frames_are_dropped_or_answered_per_the_session() -> None:
    bad = bytearray(encode(read_request(METER, COVER_COUNT)))
    bad[-2] ^= 0xFF  # checksum
    sessions: list[EchoSession] = []

    def quiet() -> FrameHandler:
        sessions.append(EchoSession())
        return sessions[-1]

    with running_server(quiet) as server:
        sock = _connect(server)
        sock.sendall(bytes(bad) + encode(read_request(METER, COVER_COUNT)))
        assert _read_reply(sock).data[:4] == di_to_bytes(COVER_COUNT)  # first answer: the good one
        sock.close()
    assert sessions[0].errors and type(sessions[0].errors[0]).__name__ == "BadChecksum"

    with running_server(lambda: EchoSession(answer_errors=True)) as server:
        sock = _connect(server)
        sock.sendall(bytes(bad))
        reply = _read_reply(sock)
        assert reply.is_abnormal and reply.error == ErrorCode.OTHER
        sock.close()


def test_idle_connections_are_closed() -> None:
    with running_server(idle_timeout_s=0.2) as server:
        sock = _connect(server)
        _assert_closed(sock)
        sock.close()


def test_client_cap() -> None:
    with running_server(max_clients=2, max_clients_per_peer=2) as server:
        a, b = _connect(server), _connect(server)
        for sock in (a, b):
            sock.sendall(encode(read_request(METER, COVER_COUNT)))
            assert _read_reply(sock).data[4:] == VALUES[COVER_COUNT]
        c = _connect(server)
        _assert_closed(c)  # refused while two are served
        for sock in (a, b, c):
            sock.close()


def test_server_shared_session_and_close() -> None:
    shared = EchoSession()
    with running_server(lambda: shared) as server:
        for _ in range(3):
            with Dlt645Client.tcp("127.0.0.1", server.port) as client:
                client.read(METER, COVER_COUNT)
    assert len(shared.frames) == 3


# ---------------------------------------------------------------------------- client


def test_client_times_out_with_meter_not_answering() -> None:
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as client:
        with pytest.raises(MeterNotAnswering, match=r"000000000002 .* did not answer read"):
            client.request(read_request(OTHER_METER, COVER_COUNT), timeout_s=0.3)
        assert isinstance(MeterNotAnswering("x"), TimeoutError)


def test_client_refused_and_unreachable() -> None:
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as client:
        with pytest.raises(MeterRefused, match="no such data") as refused:
            client.read(METER, 0x03300D0B)
        assert refused.value.error == ErrorCode.NO_SUCH_DATA
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(LinkError, match=f"127.0.0.1:{free_port}"):
        Dlt645Client.tcp("127.0.0.1", free_port, connect_timeout_s=1)


def test_client_refuses_to_wait_for_a_broadcast_answer() -> None:
    with running_server() as server, Dlt645Client.tcp("127.0.0.1", server.port) as client:
        broadcast = Frame(b"\x99" * 6, FunctionCode.BROADCAST_TIME, bytes(6))
        with pytest.raises(ValueError, match="send"):
            client.request(broadcast)
        client.send(broadcast)  # no answer expected


# ---------------------------------------------------------------------------- serial on a pty


@contextlib.contextmanager
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def _master_read_frame(master: int, timeout_s: float = 2.0) -> Frame:
    decoder = FrameDecoder()
    deadline = time.monotonic() + timeout_s
    os.set_blocking(master, False)
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 256)
        except BlockingIOError:
            time.sleep(0.005)
            continue
        for item in decoder.feed(chunk):
            if isinstance(item, Frame):
                return item
    raise AssertionError("nothing read from the pty")


def test_serial_server_on_pty_at_2400_8e1() -> None:
    serial_mod = pytest.importorskip("meterseal.protocols.dlt645.serial")
    session = EchoSession()
    with pty_pair() as (master, slave_name):
        server = serial_mod.Dlt645SerialServer(slave_name, session, inter_byte_timeout_s=0.1)
        with server:
            # the port is opened at 2400 baud, 8 data bits, even parity, 1 stop bit ...
            settings = server.settings
            assert (settings["baudrate"], settings["bytesize"]) == (2400, 8)
            assert (settings["parity"], settings["stopbits"]) == ("E", 1)
            # ... and the line shows it, except parity: Linux's pty driver always clears
            # PARENB (pty_set_termios), so on a pty even parity can be asked, never kept.
            attrs = termios.tcgetattr(master)
            cflag, ispeed, ospeed = attrs[2], attrs[4], attrs[5]
            assert (ispeed, ospeed) == (termios.B2400, termios.B2400)
            assert cflag & termios.CSIZE == termios.CS8
            assert not cflag & termios.CSTOPB

            request = encode(read_request(METER, COVER_COUNT), 4)
            for byte in b"\x00\x13garbage" + request:  # noise, then a frame byte by byte
                os.write(master, bytes([byte]))
                time.sleep(0.001)
            reply = _master_read_frame(master)
            assert reply == Frame(METER, 0x91, di_to_bytes(COVER_COUNT) + VALUES[COVER_COUNT])

            # a frame cut short, then silence: dropped after the inter-byte timeout
            os.write(master, request[:9])
            deadline = time.monotonic() + 2
            while not session.errors and time.monotonic() < deadline:
                time.sleep(0.02)
            assert [type(e).__name__ for e in session.errors] == ["Truncated"]
            os.write(master, encode(read_request(METER, ENERGY_IMPORT)))
            assert _master_read_frame(master).data[4:] == VALUES[ENERGY_IMPORT]
        assert not server.running


def test_serial_client_on_pty_skips_echo_noise_and_other_meters() -> None:
    pytest.importorskip("serial")
    with pty_pair() as (master, slave_name):
        client = Dlt645Client.serial(slave_name, timeout_s=1)
        assert client.link.name == f"serial:{slave_name} 2400 8E1"
        request = read_request(METER, COVER_COUNT)
        answer = normal_reply(request, METER, di_to_bytes(COVER_COUNT) + VALUES[COVER_COUNT])

        def meter_on_the_bus() -> None:
            heard = _master_read_frame(master)
            os.write(
                master,
                encode(heard, 4)  # the half-duplex echo of the request
                + b"\x68\x00noise"
                + encode(normal_reply(request, OTHER_METER, b"\x01"), 4)  # someone else
                + encode(answer, 4),
            )

        bus = threading.Thread(target=meter_on_the_bus)
        bus.start()
        with client:
            assert client.request(request) == answer
            bus.join()
            with pytest.raises(MeterNotAnswering, match="serial:"):
                client.request(request, timeout_s=0.2)


def test_serial_port_that_cannot_be_opened() -> None:
    pytest.importorskip("serial")
    with pytest.raises(LinkError, match="/dev/does-not-exist"):
        Dlt645Client.serial("/dev/does-not-exist")


# ---------------------------------------------------------------------------- interop


def test_our_client_reads_the_independent_dlt645_meter_simulator() -> None:
    dlt645 = pytest.importorskip("dlt645")
    meter = dlt645.MeterServerService.new_tcp_server("127.0.0.1", 0, timeout=2)
    meter.set_address(METER)
    assert meter.set_00(ENERGY_IMPORT, 1234.56)
    assert meter.server.start()
    try:
        with Dlt645Client.tcp("127.0.0.1", meter.server.port) as client:
            # energy XXXXXX.XX BCD, low byte first: 1234.56 -> 56 34 12 00
            assert client.read(METER, ENERGY_IMPORT) == bytes.fromhex("56341200")
            reply = client.request(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS))
            assert reply.control == 0x93 and reply.address == METER and reply.data == METER
    finally:
        meter.server.stop()


def test_independent_dlt645_client_reads_our_server() -> None:
    dlt645 = pytest.importorskip("dlt645")
    with running_server() as server:
        client = dlt645.MeterClientService.new_tcp_client("127.0.0.1", server.port, timeout=2)
        try:
            item = client.read_address()
            # its address strings are the wire bytes in wire order (a quirk of that package)
            assert item is not None and item.value == METER.hex()
            energy = client.read_00(ENERGY_IMPORT)
            assert energy is not None and energy.value == pytest.approx(1234.56)
        finally:
            client.disconnect()
