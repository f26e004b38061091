"""A server a flood can't stall (issue 13, item 6): structured floods — runs of 68 bytes,
valid-looking headers with bad checksums, pipelined reads never read, idle sockets from one
address, a byte now and then to stay alive — against the decoders and the shared TCP transport
of both faces. Behaviour only: the reader is answered, the flood is dropped, the decoder's steps
stay linear. The CPU and latency figures are benchmarks/floods.py's."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from meterseal.protocols.dlt645.frame import (
    Frame,
    FrameDecoder,
    FrameError,
    decode,
    encode,
    read_request,
)
from meterseal.protocols.dlt698 import frame as f698
from meterseal.protocols.tcpserve import TURN_BYTES
from tests.test_dlt645_transport import (
    COVER_COUNT,
    METER,
    VALUES,
    _assert_closed,
    _connect,
    _read_reply,
    running_server,
)

GOOD = encode(read_request(METER, COVER_COUNT))
BAD_CS = GOOD[:-2] + bytes(((GOOD[-2] + 1) & 0xFF,)) + GOOD[-1:]
# a header that claims 200 bytes, all of them there, with a wrong checksum
LONG_BAD = bytes.fromhex("68 010000000000 68 11") + bytes((200,)) + bytes(200) + b"\x00\x16"


def _feed(decoder, data: bytes, chunk: int = TURN_BYTES) -> list:
    out = []
    for i in range(0, len(data), chunk):
        out += decoder.feed(data[i : i + chunk])
    return out


@pytest.mark.parametrize("flood", [b"\x68", BAD_CS, LONG_BAD, b"\xfe"],
                         ids=["68-run", "bad-checksum", "long-bad-checksum", "FE-run"])
def test_decode_steps_are_linear_in_chunks_not_in_bytes(flood):
    # 1 MB, then zeros longer than any frame (so no chance frame made of the flood's bytes can
    # reach into the good one), then the good frame
    data = flood * ((1 << 20) // len(flood)) + bytes(300)
    decoder = FrameDecoder()
    items = _feed(decoder, data + GOOD)
    chunks = -(-len(data + GOOD) // TURN_BYTES)
    # a few Python-level steps per chunk, whatever the bytes: no step (nor error) per byte
    assert decoder.steps <= 4 * chunks + 4
    assert sum(isinstance(i, FrameError) for i in items) <= chunks + 1
    assert items[-1] == read_request(METER, COVER_COUNT)  # and the frame after it is found
    assert decoder.buffered_bytes == 0


def test_a_68_run_is_rejected_candidate_by_candidate_but_counted_not_listed():
    decoder = FrameDecoder()
    items = decoder.feed(b"\x68" * 10_000)
    assert len(items) == 1 and isinstance(items[0], FrameError)
    assert decoder.rejected >= 10_000 - 300 and decoder.garbage_bytes == 0


def _plain_rules(stream: bytes) -> list[Frame]:
    """The frames of ``stream`` by the rules alone, one candidate at a time (the reference the
    vectorised resynchronisation must agree with)."""
    out, pos = [], 0
    while True:
        pos = stream.find(b"\x68", pos)
        if pos < 0 or len(stream) - pos < 12:
            return out
        length = stream[pos + 9]
        end = pos + 12 + length
        if (stream[pos + 7] == 0x68 and length <= 200 and end <= len(stream)
                and sum(stream[pos : end - 2]) & 0xFF == stream[end - 2]
                and stream[end - 1] == 0x16):
            out.append(decode(stream[pos:end]))
            pos = end
        else:
            pos += 1


@pytest.mark.parametrize("seed", range(4))
def test_the_vectorised_resync_finds_every_frame_the_plain_rules_find(seed):
    """Frames hidden in structured noise (68 runs, partial headers, bad checksums)."""
    import random

    rnd = random.Random(seed)
    pieces = []
    for n in range(300):
        kind = rnd.randrange(5)
        if kind == 0:
            pieces.append(encode(read_request(METER, 0x03300D00 + n % 11), rnd.randrange(5)))
        elif kind == 1:
            pieces.append(b"\x68" * rnd.randrange(1, 300))
        elif kind == 2:
            pieces.append(BAD_CS[: rnd.randrange(1, len(BAD_CS) + 1)])
        elif kind == 3:
            pieces.append(LONG_BAD[: rnd.randrange(1, len(LONG_BAD) + 1)])
        else:
            pieces.append(bytes(rnd.choice(b"\x16\x68\x00\x11") for _ in range(40)))
    stream = b"".join(pieces)
    got = [i for i in _feed(FrameDecoder(), stream, rnd.choice([1, 7, 64, 4096])) if
           isinstance(i, Frame)]
    want = _plain_rules(stream)
    assert len(want) > 30 and got == want


def test_the_698_decoder_keeps_floods_linear_too():
    decoder = f698.FrameDecoder()
    assert decoder.feed(b"\x68" * 200_000) == []
    assert decoder.buffered_bytes < 3 and decoder.dropped < 10
    sa = f698.ServerAddress(bytes.fromhex("010000000000"), f698.AddressType.SINGLE)
    good = f698.encode(f698.Frame(0x43, sa, 0x10, bytes.fromhex("0501000040010200")))
    bad = good[:-3] + bytes((good[-3] ^ 1,)) + good[-2:]
    assert decoder.feed(bad * 5000 + good) == [f698.decode(good)]
    assert decoder.dropped <= 5000 * 2 + 10


# ------------------------------------------------------------------------------------- TCP


def _flood(server, data: bytes, stop: threading.Event) -> socket.socket:
    sock = _connect(server)

    def pump() -> None:
        sent = 0
        try:
            while sent < len(data) and not stop.is_set():
                sent += sock.send(data[sent : sent + 65536])
        except OSError:
            pass

    threading.Thread(target=pump, daemon=True).start()
    return sock


@pytest.mark.parametrize("flood", [b"\x68" * (4 << 20), BAD_CS * ((2 << 20) // len(BAD_CS))],
                         ids=["68-run", "bad-checksum"])
def test_a_reader_is_answered_while_another_client_floods(flood):
    stop = threading.Event()
    with running_server() as server:
        flooder = _flood(server, flood, stop)
        try:
            for _ in range(5):
                with _connect(server) as reader:
                    reader.sendall(GOOD)
                    assert _read_reply(reader, 10).data[4:] == VALUES[COVER_COUNT]
            # the flood was worked off in bounded turns, not in one callback
            assert server.turns >= 5
        finally:
            stop.set()
            flooder.close()


def test_a_client_that_never_reads_its_answers_is_dropped_and_others_are_served():
    stop = threading.Event()
    with running_server(write_timeout_s=0.5) as server:
        pipeliner = socket.socket()
        pipeliner.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        pipeliner.connect(("127.0.0.1", server.port))
        try:
            pipeliner.sendall(GOOD * 20_000)  # 320 kB of reads, never reading an answer
        except OSError:
            pass
        with _connect(server) as reader:
            reader.sendall(GOOD)
            assert _read_reply(reader, 10).data[4:] == VALUES[COVER_COUNT]
        deadline = time.monotonic() + 20
        while server.client_count > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.client_count == 0  # the pipeliner was dropped
        stop.set()
        pipeliner.close()


def test_connections_from_one_address_are_capped_below_the_total():
    with running_server(max_clients=12, max_clients_per_peer=8) as server:
        hogs = []
        for _ in range(11):  # more than the server holds, all from 127.0.0.1
            hogs.append(_connect(server))
        deadline = time.monotonic() + 10
        while server.client_count < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.client_count == 8
        reader = socket.socket()
        reader.bind(("127.0.0.2", 0))  # another address
        reader.settimeout(5)
        reader.connect(("127.0.0.1", server.port))
        reader.sendall(GOOD)
        assert _read_reply(reader, 10).data[4:] == VALUES[COVER_COUNT]
        reader.close()
        for sock in hogs:
            sock.close()


def test_idle_time_counts_from_the_last_valid_frame_not_the_last_byte():
    with running_server(idle_timeout_s=0.5) as server:
        sock = _connect(server)
        sock.sendall(GOOD)
        _read_reply(sock)
        for _ in range(15):  # a stray byte every 0.1 s does not keep it alive
            try:
                sock.sendall(b"\xfe")
            except OSError:
                break
            time.sleep(0.1)
        _assert_closed(sock)
        sock.close()


def test_the_server_serves_on_uvloop():
    """uvloop's transports are not asyncio.Transport instances: nothing may assume they are."""
    import asyncio

    import uvloop

    from meterseal.protocols.dlt645.tcp import Dlt645TcpServer
    from tests.test_dlt645_transport import EchoSession

    loop = uvloop.new_event_loop()
    server = Dlt645TcpServer(EchoSession, "127.0.0.1", 0)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(5)
        with _connect(server) as sock:
            for _ in range(3):
                sock.sendall(GOOD)
                assert _read_reply(sock).data[4:] == VALUES[COVER_COUNT]
        stop = threading.Event()
        flooder = _flood(server, b"\x68" * (1 << 20), stop)
        with _connect(server) as reader:
            reader.sendall(GOOD)
            assert _read_reply(reader, 10).data[4:] == VALUES[COVER_COUNT]
        stop.set()
        flooder.close()
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
