"""DL/T 645-2007 frame codec: round trips, streaming, recovery, byte order, helpers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterseal.protocols.dlt645.errors import InvalidFrameField
from meterseal.protocols.dlt645.frame import (
    BROADCAST_ADDRESS,
    MAX_DATA_LENGTH,
    MAX_FRAME_LENGTH,
    WILDCARD_ADDRESS,
    BadChecksum,
    BadEnd,
    BadLength,
    BadSecondStart,
    ErrorCode,
    Frame,
    FrameDecoder,
    FrameError,
    FunctionCode,
    Truncated,
    abnormal_reply,
    address_from_string,
    address_matches,
    address_to_string,
    decode,
    di_from_bytes,
    di_to_bytes,
    encode,
    is_broadcast,
    normal_reply,
    read_request,
)

METER = address_from_string("000000000001")

# Read of DI 03 30 0D 00 (meter-cover-open count) from meter 000000000001, built by hand from
# the standard's rules: address lowest byte first; DI0 first (00 0D 30 03), each data byte +33h
# (33 40 63 36); CS = 68+01+68+11+04+33+40+63+36 = 0x1F2 -> F2; end 16.
READ_COVER_COUNT = bytes.fromhex("FEFEFEFE 68 010000000000 68 11 04 33406336 F2 16")
# Its normal reply: control 91, DI echoed, count 000005 low byte first (05 00 00) -> 38 33 33;
# CS = 68+01+68+91+07+33+40+63+36+38+33+33 = 0x313 -> 13.
REPLY_COVER_COUNT = bytes.fromhex("68 010000000000 68 91 07 33406336 383333 13 16")


def _cs(body: bytes) -> int:
    return sum(body) & 0xFF


frames = st.builds(
    Frame,
    address=st.binary(min_size=6, max_size=6),
    control=st.integers(0, 255),
    data=st.binary(max_size=MAX_DATA_LENGTH),
)
preambles = st.integers(0, 4)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, start = [], 0
    for p in [*points, len(data)]:
        out.append(data[start:p])
        start = p
    return out


def _feed_all(decoder: FrameDecoder, chunks: list[bytes]) -> list[Frame | FrameError]:
    out: list[Frame | FrameError] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
        assert decoder.buffered_bytes < MAX_FRAME_LENGTH
    return out


# ---------------------------------------------------------------------------- round trips


@given(frames, preambles)
def test_round_trip(frame: Frame, preamble: int) -> None:
    assert decode(encode(frame, preamble)) == frame


@given(st.lists(st.tuples(frames, preambles), max_size=6), st.lists(st.integers(0, 5000)))
def test_stream_of_frames_in_any_chunking(pairs: list[tuple[Frame, int]], cuts: list[int]) -> None:
    stream = b"".join(encode(f, p) for f, p in pairs)
    decoder = FrameDecoder()
    assert _feed_all(decoder, _chunks(stream, cuts)) == [f for f, _ in pairs]
    assert decoder.buffered_bytes == 0
    assert decoder.garbage_bytes == 0


@given(st.lists(st.tuples(frames, preambles), min_size=1, max_size=4))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_one_byte_at_a_time(pairs: list[tuple[Frame, int]]) -> None:
    stream = b"".join(encode(f, p) for f, p in pairs)
    decoder = FrameDecoder()
    assert _feed_all(decoder, [bytes([b]) for b in stream]) == [f for f, _ in pairs]


@given(
    st.lists(
        st.tuples(st.binary(max_size=40).map(lambda g: g.replace(b"\x68", b"")), frames, preambles),
        max_size=5,
    ),
    st.binary(max_size=40).map(lambda g: g.replace(b"\x68", b"")),
    st.lists(st.integers(0, 5000)),
)
def test_garbage_between_frames_is_skipped(
    parts: list[tuple[bytes, Frame, int]], tail: bytes, cuts: list[int]
) -> None:
    stream = b"".join(g + encode(f, p) for g, f, p in parts) + tail
    decoder = FrameDecoder()
    assert _feed_all(decoder, _chunks(stream, cuts)) == [f for _, f, _ in parts]
    garbage = b"".join(g for g, _, _ in parts) + tail
    assert decoder.garbage_bytes == len(garbage) - garbage.count(0xFE)


@given(st.lists(st.binary(max_size=300), max_size=30), frames)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_input_keeps_memory_bounded_and_flush_resyncs(noise: list[bytes], frame: Frame) -> None:
    decoder = FrameDecoder()
    for chunk in noise:
        for item in decoder.feed(chunk):
            assert isinstance(item, Frame | FrameError)
        assert decoder.buffered_bytes < MAX_FRAME_LENGTH
    decoder.flush()
    assert decoder.buffered_bytes == 0
    assert decoder.feed(encode(frame, 2)) == [frame]


def test_garbage_full_of_68_bytes_then_a_frame() -> None:
    frame = read_request(METER, 0x03300D00)
    garbage = bytes.fromhex("68 68 00 68 11 22 68 FE FE 68 01 02")
    items = FrameDecoder().feed(garbage + encode(frame, 4) + garbage + encode(frame, 0))
    assert [i for i in items if isinstance(i, Frame)] == [frame, frame]
    assert all(isinstance(i, FrameError) for i in items if not isinstance(i, Frame))


# ---------------------------------------------------------------------------- byte order


def test_read_request_matches_hand_built_frame() -> None:
    frame = read_request(address_from_string("000000000001"), 0x03300D00)
    assert encode(frame, preamble=4) == READ_COVER_COUNT
    assert frame.data == bytes([0x00, 0x0D, 0x30, 0x03])
    assert decode(READ_COVER_COUNT) == Frame(METER, 0x11, bytes.fromhex("000D3003"))


def test_reply_matches_hand_built_frame() -> None:
    request = read_request(METER, 0x03300D00)
    reply = normal_reply(request, METER, di_to_bytes(0x03300D00) + bytes([0x05, 0x00, 0x00]))
    assert encode(reply) == REPLY_COVER_COUNT
    assert reply.control == 0x91 and reply.is_reply and not reply.is_abnormal


def test_read_request_matches_independent_dlt645_package() -> None:
    """Cross-check against PyPI dlt645 3.2.0 (independent code) for a read of 03 30 0D 00."""
    protocol = pytest.importorskip("dlt645.protocol.protocol")
    for digits in ("000000000001", "123456789012", "AAAAAAAAAAAA"):
        address = address_from_string(digits)
        for preamble in range(5):
            theirs = protocol.DLT645Protocol.build_frame(
                address, 0x11, struct.pack("<I", 0x03300D00), preamble_count=preamble
            )
            ours = encode(read_request(address, 0x03300D00), preamble)
            assert ours == bytes(theirs)
    assert (
        bytes(protocol.DLT645Protocol.build_frame(METER, 0x11, struct.pack("<I", 0x03300D00)))
        == READ_COVER_COUNT
    )
    # the hand-built reply, as their builder makes it
    their_reply = protocol.DLT645Protocol.build_frame(
        METER, 0x91, struct.pack("<I", 0x03300D00) + b"\x05\x00\x00", preamble_count=0
    )
    assert bytes(their_reply) == REPLY_COVER_COUNT
    # and their decoder reads our frame back the same way
    parsed = protocol.DLT645Protocol.deserialize(encode(read_request(METER, 0x03300D00), 4))
    assert bytes(parsed.addr) == METER and parsed.ctrl_code == 0x11
    assert bytes(parsed.data) == di_to_bytes(0x03300D00)


@given(frames, preambles)
def test_independent_dlt645_package_agrees_on_any_frame(frame: Frame, preamble: int) -> None:
    protocol = pytest.importorskip("dlt645.protocol.protocol")
    theirs = protocol.DLT645Protocol.build_frame(
        frame.address, frame.control, frame.data, preamble_count=preamble
    )
    assert encode(frame, preamble) == bytes(theirs)


# ---------------------------------------------------------------------------- rejections


GOOD = encode(read_request(METER, 0x03300D00))  # 68 010000000000 68 11 04 33406336 F2 16
FOLLOWING = encode(read_request(METER, 0x00010000), 2)


def _decode_stream(stream: bytes) -> list[Frame | FrameError]:
    decoder = FrameDecoder()
    return decoder.feed(stream) + decoder.flush()


def _corrupt(index: int, value: int) -> bytes:
    raw = bytearray(GOOD)
    raw[index] = value
    return bytes(raw)


def test_bad_first_start_is_not_a_frame() -> None:
    bad = _corrupt(0, 0x00)
    items = _decode_stream(bad + FOLLOWING)
    assert [i for i in items if isinstance(i, Frame)] == [decode(FOLLOWING)]
    with pytest.raises(FrameError):
        decode(bad)


def test_bad_second_start_is_rejected() -> None:
    bad = _corrupt(7, 0x67)
    items = _decode_stream(bad + FOLLOWING)
    assert isinstance(items[0], BadSecondStart)
    assert items[-1] == decode(FOLLOWING)
    assert not any(i == decode(GOOD) for i in items)
    with pytest.raises(BadSecondStart):
        decode(bad)


def test_bad_checksum_is_rejected() -> None:
    bad = _corrupt(len(GOOD) - 2, (GOOD[-2] + 1) & 0xFF)
    items = _decode_stream(bad + FOLLOWING)
    assert isinstance(items[0], BadChecksum)
    assert items[0].raw == bad
    assert [i for i in items if isinstance(i, Frame)] == [decode(FOLLOWING)]
    with pytest.raises(BadChecksum):
        decode(bad)


def test_corrupt_data_byte_fails_checksum() -> None:
    bad = _corrupt(11, GOOD[11] ^ 0x01)
    with pytest.raises(BadChecksum):
        decode(bad)


def test_bad_end_byte_is_rejected() -> None:
    bad = _corrupt(len(GOOD) - 1, 0x17)
    items = _decode_stream(bad + FOLLOWING)
    assert isinstance(items[0], BadEnd)
    assert [i for i in items if isinstance(i, Frame)] == [decode(FOLLOWING)]
    with pytest.raises(BadEnd):
        decode(bad)


def test_length_over_200_is_rejected_as_soon_as_it_arrives() -> None:
    header = bytes.fromhex("68 010000000000 68 11") + bytes([201])
    decoder = FrameDecoder()
    items = decoder.feed(header)  # no waiting for 201 more bytes
    assert len(items) == 1 and isinstance(items[0], BadLength)
    assert decoder.buffered_bytes == 3  # only the second 68 onwards, itself a new candidate
    body = bytes(range(201))
    full = header + body + bytes([_cs(header + body), 0x16])
    items = _decode_stream(full + FOLLOWING)
    assert isinstance(items[0], BadLength)
    assert [i for i in items if isinstance(i, Frame)] == [decode(FOLLOWING)]
    with pytest.raises(BadLength):
        decode(full)


def test_length_of_exactly_200_is_accepted() -> None:
    frame = Frame(METER, 0x91, bytes(200))
    assert decode(encode(frame)) == frame


def test_truncated_frame_waits_then_is_reported() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(GOOD[:-3]) == []
    assert decoder.buffered_bytes == len(GOOD) - 3
    assert decoder.flush() == [Truncated(GOOD[:-3])]
    assert decoder.buffered_bytes == 0
    assert decoder.feed(FOLLOWING) == [decode(FOLLOWING)]
    with pytest.raises(Truncated):
        decode(GOOD[:-1])


def test_truncated_frame_followed_by_a_good_one_resyncs_without_flush() -> None:
    items = FrameDecoder().feed(GOOD[:-3] + FOLLOWING + GOOD)
    assert isinstance(items[0], FrameError)
    assert [i for i in items if isinstance(i, Frame)] == [decode(FOLLOWING), decode(GOOD)]


def test_decode_wants_exactly_one_frame() -> None:
    with pytest.raises(FrameError, match="exactly one frame"):
        decode(GOOD + GOOD)
    with pytest.raises(FrameError, match="exactly one frame"):
        decode(b"\x00" + GOOD)
    with pytest.raises(FrameError, match="exactly one frame"):
        decode(b"")


def test_errors_carry_actionable_one_line_messages() -> None:
    items = _decode_stream(_corrupt(len(GOOD) - 2, 0))
    message = str(items[0])
    assert "checksum" in message and "\n" not in message


# ---------------------------------------------------------------------------- frame fields


def test_control_bits() -> None:
    frame = Frame(METER, 0xB2, b"")
    assert frame.function_code == FunctionCode.READ_FOLLOW_UP
    assert frame.is_reply and not frame.is_abnormal and frame.has_follow_up
    request = Frame(METER, 0x11)
    assert not request.is_reply and not request.has_follow_up and request.error is None


def test_replies() -> None:
    request = Frame(WILDCARD_ADDRESS, FunctionCode.READ, di_to_bytes(0x03300D01))
    ok = normal_reply(request, METER, b"\x01\x02", follow_up=True)
    assert (ok.address, ok.control, ok.data) == (METER, 0xB1, b"\x01\x02")
    refused = abnormal_reply(request, METER, ErrorCode.NO_SUCH_DATA)
    assert (refused.control, refused.data) == (0xD1, b"\x02")
    assert refused.is_abnormal and refused.error == ErrorCode.NO_SUCH_DATA
    clear = Frame(METER, FunctionCode.EVENT_CLEAR, bytes(12))
    denied = abnormal_reply(clear, METER, ErrorCode.NOT_AUTHORISED)
    assert (denied.control, denied.data) == (0xDB, b"\x04")
    with pytest.raises(InvalidFrameField):
        abnormal_reply(request, METER, 0)


def test_function_and_error_constants() -> None:
    assert FunctionCode.BROADCAST_TIME == 0x08
    assert (FunctionCode.READ, FunctionCode.READ_FOLLOW_UP, FunctionCode.READ_ADDRESS) == (
        0x11,
        0x12,
        0x13,
    )
    assert (FunctionCode.WRITE, FunctionCode.EVENT_CLEAR) == (0x14, 0x1B)
    assert (ErrorCode.OTHER, ErrorCode.NO_SUCH_DATA, ErrorCode.NOT_AUTHORISED) == (1, 2, 4)


def test_invalid_frames_cannot_be_built() -> None:
    with pytest.raises(InvalidFrameField, match="6 bytes"):
        Frame(b"\x01" * 5, 0x11)
    with pytest.raises(InvalidFrameField, match=r"0\.\.255"):
        Frame(METER, 0x100)
    with pytest.raises(InvalidFrameField, match="at most 200"):
        Frame(METER, 0x91, bytes(201))
    with pytest.raises(InvalidFrameField, match="preamble"):
        encode(Frame(METER, 0x11), preamble=5)


def test_frames_are_immutable_values() -> None:
    frame = Frame(bytearray(METER), 0x11, bytearray(b"\x01"))
    assert isinstance(frame.address, bytes) and isinstance(frame.data, bytes)
    assert frame == Frame(METER, 0x11, b"\x01") and hash(frame) == hash(Frame(METER, 0x11, b"\x01"))
    with pytest.raises(AttributeError):
        frame.control = 0x12  # type: ignore[misc]


# ---------------------------------------------------------------------------- addresses, DIs


def test_address_string_is_printed_order_wire_is_lowest_byte_first() -> None:
    assert address_from_string("123456789012") == bytes([0x12, 0x90, 0x78, 0x56, 0x34, 0x12])
    assert address_to_string(bytes([0x12, 0x90, 0x78, 0x56, 0x34, 0x12])) == "123456789012"
    assert address_from_string("999999999999") == BROADCAST_ADDRESS
    assert address_from_string("AAAAAAAAAAAA") == WILDCARD_ADDRESS
    assert address_from_string("aaaa00000001") == bytes([1, 0, 0, 0, 0xAA, 0xAA])


@given(st.lists(st.integers(0, 99), min_size=6, max_size=6))
def test_address_round_trip(pairs: list[int]) -> None:
    digits = "".join(f"{p:02d}" for p in pairs)
    assert address_to_string(address_from_string(digits)) == digits


@pytest.mark.parametrize("bad", ["00000000001", "0000000000012", "00000000000A", "0000000000-1"])
def test_bad_address_strings(bad: str) -> None:
    with pytest.raises(InvalidFrameField, match="address"):
        address_from_string(bad)


def test_address_matching() -> None:
    meter = address_from_string("123456789012")
    assert address_matches(meter, meter)
    assert address_matches(WILDCARD_ADDRESS, meter)
    assert address_matches(address_from_string("AAAA56789012"), meter)
    assert not address_matches(address_from_string("AAAA56789013"), meter)
    assert not address_matches(address_from_string("123456789013"), meter)
    assert not address_matches(BROADCAST_ADDRESS, meter)
    assert is_broadcast(BROADCAST_ADDRESS) and not is_broadcast(meter)
    assert not address_matches(b"\xaa" * 5, meter)


def test_data_identifier_byte_order() -> None:
    assert di_to_bytes(0x03300D01) == bytes([0x01, 0x0D, 0x30, 0x03])
    assert di_from_bytes(bytes([0x01, 0x0D, 0x30, 0x03])) == 0x03300D01
    assert di_to_bytes(0x03300D01) == struct.pack("<I", 0x03300D01)
    with pytest.raises(InvalidFrameField):
        di_to_bytes(1 << 32)
    with pytest.raises(InvalidFrameField):
        di_from_bytes(b"\x00\x01\x02")


@given(st.integers(0, 0xFFFFFFFF))
def test_data_identifier_round_trip(di: int) -> None:
    assert di_from_bytes(di_to_bytes(di)) == di
