"""DL/T 698.45 link layer: the FCS of RFC 1662, the address rules, link segments, scrambling, and
the streaming decoder's recovery — linear in the bytes, a good frame after a damaged one never
lost, no object kept per rejected byte."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterseal.protocols.dlt698.errors import CodecError, InvalidField
from meterseal.protocols.dlt698.frame import (
    BAD_END,
    BAD_FCS,
    BAD_HCS,
    BAD_LENGTH,
    SCRAMBLE_BIT,
    AddressType,
    Frame,
    FrameDecoder,
    Segment,
    SegmentType,
    ServerAddress,
    address_matches,
    decode,
    encode,
    fcs16,
    split_apdu,
)
from tests import dlt698_strategies as s

METER = ServerAddress.of("202603010042")
READ_ADDRESS = Frame(0x43, METER, 0x10, bytes.fromhex("0501004001020000"))


def test_fcs16_is_rfc1662s() -> None:
    assert fcs16(b"123456789") == 0x906E  # the check value of CRC-16/X-25
    assert fcs16(b"") == 0x0000


def test_a_frame_as_the_peer_and_the_field_write_it() -> None:
    # the request an independent encoder (PyPI dlt698) writes for GET 4001 0200
    assert encode(READ_ADDRESS).hex(" ") == (
        "68 17 00 43 05 42 00 01 03 26 20 10 16 41 05 01 00 40 01 02 00 00 ed 03 16"
    )
    assert METER.address == bytes.fromhex("420001032620")  # lowest byte first
    assert METER.digits == "202603010042"


def test_address_rules() -> None:
    me = METER.address
    assert address_matches(METER, me)
    assert not address_matches(ServerAddress.of("202603010043"), me)
    assert address_matches(ServerAddress(b"\xaa" * 6, AddressType.WILDCARD), me)
    assert address_matches(ServerAddress(b"\xaa" * 6), me)  # as test benches send it
    assert address_matches(ServerAddress.of("20260301004A", AddressType.WILDCARD), me)
    assert address_matches(ServerAddress(b"\xaa", AddressType.BROADCAST), me)
    assert not address_matches(ServerAddress(me, AddressType.GROUP), me)
    assert not address_matches(ServerAddress(me, AddressType.SINGLE, 1), me)  # logical 1
    assert not address_matches(ServerAddress(me[:5]), me)


def test_bad_fields_are_refused_when_built() -> None:
    with pytest.raises(InvalidField):
        ServerAddress(b"")
    with pytest.raises(InvalidField):
        ServerAddress(b"\x01", logical=4)
    with pytest.raises(InvalidField):
        ServerAddress.of("2026X3010042")
    with pytest.raises(InvalidField):
        Frame(0x100, METER)
    with pytest.raises(InvalidField):
        Segment(5, SegmentType.ACK, b"x")
    with pytest.raises(InvalidField):
        encode(READ_ADDRESS, preamble=5)


def test_segments_split_and_number_an_apdu() -> None:
    segs = split_apdu(bytes(range(25)), 10)
    assert [(g.sequence, g.type, len(g.data)) for g in segs] == [
        (0, SegmentType.FIRST, 10), (1, SegmentType.MIDDLE, 10), (2, SegmentType.LAST, 5),
    ]
    assert b"".join(g.data for g in segs) == bytes(range(25))
    assert Segment(5, SegmentType.LAST, b"\x01\x02").to_bytes() == bytes.fromhex("05400102")
    with pytest.raises(CodecError):
        Segment.from_bytes(b"\x05\x30")  # reserved bits 12-13


def test_scrambled_user_data_is_unscrambled() -> None:
    frame = Frame(0x43 | SCRAMBLE_BIT, METER, 0x10, b"\x05\x01\x00")
    raw = encode(frame)
    assert b"\x38\x34\x33" in raw  # +33h on the wire
    assert decode(raw) == frame


def test_decoder_takes_a_stream_cut_anywhere() -> None:
    raw = encode(READ_ADDRESS, preamble=4) * 3
    for cut in (1, 2, 3, 7, 13):
        decoder = FrameDecoder()
        got = []
        for i in range(0, len(raw), cut):
            got += decoder.feed(raw[i : i + cut])
        assert got == [READ_ADDRESS] * 3 and decoder.garbage_bytes == 0
        assert decoder.buffered_bytes == 0


def test_damage_is_dropped_and_the_next_good_frame_found() -> None:
    good = encode(READ_ADDRESS)
    bad_hcs = bytearray(good)
    bad_hcs[12] ^= 0xFF
    bad_fcs = bytearray(good)
    bad_fcs[-3] ^= 0xFF
    bad_end = bytearray(good)
    bad_end[-1] = 0x17
    long_l = b"\x68\x01\x20" + good[3:]  # L = 8193, one past the limit
    decoder = FrameDecoder()
    stream = b"junk" + bytes(bad_hcs) + good + bytes(bad_fcs) + good + bytes(bad_end) + long_l
    frames = decoder.feed(stream + good)
    assert frames == [READ_ADDRESS] * 3
    assert decoder.errors[BAD_HCS] >= 1 and decoder.errors[BAD_FCS] >= 1
    assert decoder.errors[BAD_END] >= 1 and decoder.errors[BAD_LENGTH] >= 1
    assert decoder.garbage_bytes > 0


def test_a_claimed_length_past_the_limit_does_not_make_it_wait() -> None:
    decoder = FrameDecoder(max_frame_length=512)
    head = bytearray(encode(Frame(0x43, METER, 0x10, bytes(600)))[:20])
    assert decoder.feed(bytes(head)) == [] and decoder.buffered_bytes == 0


def _time_feed(data: bytes) -> float:
    decoder = FrameDecoder()
    t0 = time.perf_counter()
    for i in range(0, len(data), 4096):
        decoder.feed(data[i : i + 4096])
    dt = time.perf_counter() - t0
    assert decoder.buffered_bytes < 64
    assert len(decoder.errors) <= 5  # counters by reason, never one object per byte
    return dt


def _best_of_3(data: bytes) -> float:
    """The fastest of three feeds: a busy machine only ever makes one slower."""
    return min(_time_feed(data) for _ in range(3))


def test_resynchronisation_is_linear_a_run_of_68_costs_like_a_run_of_fe() -> None:
    n = 200_000
    fe, sixty_eight = _best_of_3(b"\xfe" * n), _best_of_3(b"\x68" * n)
    rand = _best_of_3(random.Random(698).randbytes(n))
    # 68s are skipped in C, as FE are: both a few milliseconds for 200 kB
    assert sixty_eight < 20 * fe + 0.05, (fe, sixty_eight)
    assert rand < 20 * fe + 0.05, (fe, rand)
    # candidates that pass the length's first check cost Python time each, but linearly:
    # doubling the input at most about doubles the time
    one = _best_of_3(b"\x68\x10\x00" * (n // 3))
    assert _best_of_3(b"\x68\x10\x00" * (2 * n // 3)) < 3 * one + 0.2


@settings(max_examples=200, deadline=None)
@given(s.frames, st.binary(max_size=40), st.integers(0, 30))
def test_a_frame_survives_any_garbage_before_it(frame: Frame, junk: bytes, cut: int) -> None:
    raw = junk + encode(frame, 2)
    decoder = FrameDecoder()
    got = decoder.feed(raw[:cut]) + decoder.feed(raw[cut:])
    assert got[-1:] == [frame]


def test_flush_drops_a_half_frame() -> None:
    decoder = FrameDecoder()
    decoder.feed(encode(READ_ADDRESS)[:10])
    assert decoder.buffered_bytes == 10
    assert decoder.flush() == 10 and decoder.buffered_bytes == 0
    assert decoder.last_error == "truncated"


def test_junk_claiming_a_long_frame_does_not_swallow_the_frame_behind_it() -> None:
    """Found by the property above: `68 00 01` claims a 256-byte frame whose header would take
    in the good frame after it; with nothing more on the line the good frame must still come
    out, and the junk is counted."""
    frame = Frame(0, ServerAddress(b"\x00"), 0, b"")
    decoder = FrameDecoder()
    assert decoder.feed(b"\x68\x00\x01" + encode(frame, 2)) == [frame]
    assert decoder.errors == {"superseded": 1} and decoder.buffered_bytes == 0
    # A candidate whose own header is complete is never dropped for what its body holds: a
    # real frame may carry another frame's bytes.
    inner = encode(frame, 0)
    outer = Frame(0x43, ServerAddress(b"\x01\x02\x03\x04\x05\x06"), 0x10, inner)
    raw = encode(outer, 0)
    assert decoder.feed(raw[:-1]) == [] and decoder.feed(raw[-1:]) == [outer]
