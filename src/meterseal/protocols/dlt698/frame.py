"""DL/T 698.45 link frames: the typed frame, its wire encoding, link segments and a streaming
decoder.

Owns: the frame layout, the control byte's bits, the server address (SA) with its type, logical
address and BCD digits, the client address (CA), the header and frame check sequences (the
FCS-16 of RFC 1662), scrambling (+33h), the link-segment header, and the recovery rules for a
damaged byte stream.

Must not know: what an APDU means, the meter's data, sessions, sockets, serial ports or time.

Wire layout of one frame (lengths in bytes)::

    FE×0..4 | 68 | L 2 | C 1 | SA 1+n | CA 1 | HCS 2 | user data | FCS 2 | 16

L (low byte first) counts every byte between 68 and 16; its bits 14-15 must be zero here (bit 14
would count in kilobytes, which no meter of ours sends). HCS covers L..CA, FCS covers L..user
data, both sent low byte first. The SA flag byte holds the address type (bits 7-6: single,
wildcard, group, broadcast), the logical address (bits 5-4, 0..3) and the address length − 1
(bits 3-0). (A later reading of the standard makes bit 5 an "extended logical address follows"
flag; the PyPI ``dlt698`` package encodes logical 2 and 3 in bits 5-4 as here. A meter at
logical address 0, as ours, reads the same under both: docs/dlt698.md.) The address is BCD,
lowest byte first, as DL/T 645's. With the segment bit (C bit 5) the user data starts with a
2-byte segment header (sequence bits 0-11, type bits 14-15, low byte first).
"""

from __future__ import annotations

import binascii
import functools
import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from meterseal.protocols.dlt698.errors import CodecError, InvalidField

START: Final = 0x68
END: Final = 0x16
PREAMBLE_BYTE: Final = 0xFE
MAX_PREAMBLE: Final = 4
SCRAMBLE: Final = 0x33

DIR_BIT: Final = 0x80  # 1: from the server (meter)
PRM_BIT: Final = 0x40  # 1: the client started this exchange; 0: the server did (reports, login)
SEGMENT_BIT: Final = 0x20
SCRAMBLE_BIT: Final = 0x08
FUNCTION_MASK: Final = 0x07
FUNCTION_LINK: Final = 1  # link management: login, heartbeat, logout
FUNCTION_USER_DATA: Final = 3

MAX_ADDRESS_LENGTH: Final = 16
# A frame we accept is at most this long (L); a meter negotiates far less (1024 by default).
MAX_FRAME_LENGTH: Final = 8192
_L_MASK: Final = 0x3FFF

_ADD33: Final = bytes((b + SCRAMBLE) & 0xFF for b in range(256))
_SUB33: Final = bytes((b - SCRAMBLE) & 0xFF for b in range(256))
# The FCS of RFC 1662 is CRC-16/X-25 (reflected 0x1021, init and xorout FFFF). binascii's
# crc_hqx runs the unreflected 0x1021 in C; feeding it bit-reversed bytes and reversing its
# result gives the reflected CRC at C speed.
_REVERSE: Final = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def fcs16(data: bytes | bytearray | memoryview) -> int:
    """The FCS-16 of RFC 1662 (PPP) over ``data``; sent low byte first."""
    crc = binascii.crc_hqx(bytes(data).translate(_REVERSE), 0xFFFF)
    return (_REVERSE[crc & 0xFF] << 8 | _REVERSE[crc >> 8]) ^ 0xFFFF


class AddressType(IntEnum):
    SINGLE = 0
    WILDCARD = 1
    GROUP = 2
    BROADCAST = 3


WILDCARD_NIBBLE: Final = 0xA


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """The SA field: ``address`` in wire order (lowest byte first), 1..16 bytes."""

    address: bytes
    type: AddressType = AddressType.SINGLE
    logical: int = 0  # 0..3

    def __post_init__(self) -> None:
        if not isinstance(self.address, bytes):
            object.__setattr__(self, "address", bytes(self.address))
        if not 1 <= len(self.address) <= MAX_ADDRESS_LENGTH:
            raise InvalidField(
                f"a server address is 1..{MAX_ADDRESS_LENGTH} bytes, got {len(self.address)}"
            )
        if not 0 <= self.logical <= 3:
            raise InvalidField(f"logical address must be 0..3, got {self.logical}")
        object.__setattr__(self, "type", AddressType(self.type))

    def to_bytes(self) -> bytes:
        return bytes((self.type << 6 | self.logical << 4 | len(self.address) - 1,)) + self.address

    @classmethod
    def from_bytes(cls, data: bytes) -> ServerAddress:
        if not data:
            raise CodecError("server address: no flag byte")
        flag = data[0]
        size = (flag & 0x0F) + 1
        if len(data) != 1 + size:
            raise CodecError(f"server address: the flag says {size} bytes, got {len(data) - 1}")
        return cls(bytes(data[1:]), AddressType(flag >> 6), (flag >> 4) & 3)

    @property
    def digits(self) -> str:
        """The address as printed on the meter (highest byte first), e.g. "202603010042"."""
        return self.address[::-1].hex().upper()

    @classmethod
    def of(cls, digits: str, kind: AddressType = AddressType.SINGLE) -> ServerAddress:
        """From digits as printed on the meter ("202603010042"; A stands for a wildcard
        nibble, an odd count is padded with F as meters do)."""
        text = digits.strip().upper()
        if not text or any(c not in "0123456789AF" for c in text):
            raise InvalidField(
                f"address {digits!r}: use decimal digits (A for a wildcard digit), as printed"
            )
        if len(text) % 2:
            text += "F"
        if len(text) > 2 * MAX_ADDRESS_LENGTH:
            raise InvalidField(f"address {digits!r} is longer than {MAX_ADDRESS_LENGTH} bytes")
        return cls(bytes.fromhex(text)[::-1], kind)


BROADCAST_SERVER: Final = ServerAddress(b"\xaa", AddressType.BROADCAST)


def address_matches(sa: ServerAddress, meter: bytes, logical: int = 0) -> bool:
    """Whether a frame addressed to ``sa`` is for the meter whose address is ``meter`` (wire
    order) at logical address ``logical``.

    Broadcast matches every meter. A single or wildcard address matches when every nibble equals
    the meter's or is A (the wildcard digit): head-ends and test benches in the field send AA×6
    with the single type as well as with the wildcard type, so both are accepted. Group addresses
    are not ours: no match.
    """
    if sa.logical != logical:
        return False
    if sa.type == AddressType.BROADCAST:
        return True
    if sa.type == AddressType.GROUP or len(sa.address) != len(meter):
        return False
    if sa.address == meter:
        return True
    for want, have in zip(sa.address, meter, strict=True):
        hi, lo = want >> 4, want & 0x0F
        if (hi != WILDCARD_NIBBLE and hi != have >> 4) or (
            lo != WILDCARD_NIBBLE and lo != have & 0x0F
        ):
            return False
    return True


# --------------------------------------------------------------------------------------------
# link segments


class SegmentType(IntEnum):
    FIRST = 0
    LAST = 1
    ACK = 2
    MIDDLE = 3


MAX_SEGMENT_SEQUENCE: Final = 0x0FFF


@dataclass(frozen=True, slots=True)
class Segment:
    """The user data of a frame whose segment bit is set: a 2-byte header and a piece of APDU
    (none in an acknowledgement)."""

    sequence: int
    type: SegmentType
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.sequence <= MAX_SEGMENT_SEQUENCE:
            raise InvalidField(f"segment sequence must be 0..4095, got {self.sequence}")
        object.__setattr__(self, "type", SegmentType(self.type))
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))
        if (self.type == SegmentType.ACK) == bool(self.data):
            raise InvalidField("an acknowledgement carries no data; every other segment does")

    def to_bytes(self) -> bytes:
        return struct.pack("<H", self.sequence | self.type << 14) + self.data

    @classmethod
    def from_bytes(cls, data: bytes) -> Segment:
        if len(data) < 2:
            raise CodecError(f"segment header needs 2 bytes, got {len(data)}")
        head = data[0] | data[1] << 8
        if head & 0x3000:
            raise CodecError(f"segment header {head:04X} sets reserved bits 12-13")
        try:
            return cls(head & MAX_SEGMENT_SEQUENCE, SegmentType(head >> 14), bytes(data[2:]))
        except InvalidField as exc:
            raise CodecError(f"segment: {exc}") from None


def split_apdu(apdu: bytes, size: int) -> list[Segment]:
    """``apdu`` cut into link segments of at most ``size`` data bytes each (first, middle…,
    last), numbered from 0."""
    if size < 1:
        raise InvalidField(f"segment size must be positive, got {size}")
    pieces = [apdu[i : i + size] for i in range(0, len(apdu), size)] or [b""]
    if len(pieces) - 1 > MAX_SEGMENT_SEQUENCE:
        raise InvalidField(f"{len(apdu)} bytes need more than 4096 segments of {size}")
    last = len(pieces) - 1
    return [
        Segment(
            i,
            SegmentType.FIRST if i == 0 else SegmentType.LAST if i == last else SegmentType.MIDDLE,
            piece,
        )
        for i, piece in enumerate(pieces)
    ]


# --------------------------------------------------------------------------------------------
# the frame


@dataclass(frozen=True, slots=True)
class Frame:
    """One DL/T 698.45 frame. ``data`` is the user data as sent, unscrambled: an APDU, or a
    segment header and a piece of one when the segment bit is set."""

    control: int
    server: ServerAddress
    client: int = 0
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.control <= 0xFF:
            raise InvalidField(f"control byte must be 0..255, got {self.control}")
        if not 0 <= self.client <= 0xFF:
            raise InvalidField(f"client address must be 0..255, got {self.client}")
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))

    @property
    def from_server(self) -> bool:
        return bool(self.control & DIR_BIT)

    @property
    def client_started(self) -> bool:
        return bool(self.control & PRM_BIT)

    @property
    def segmented(self) -> bool:
        return bool(self.control & SEGMENT_BIT)

    @property
    def scrambled(self) -> bool:
        return bool(self.control & SCRAMBLE_BIT)

    @property
    def function(self) -> int:
        return self.control & FUNCTION_MASK

    def segment(self) -> Segment:
        """The segment this frame carries (CodecError if it carries none)."""
        if not self.segmented:
            raise CodecError("the frame's segment bit is not set")
        return Segment.from_bytes(self.data)


def encode(frame: Frame, preamble: int = 0) -> bytes:
    """The frame's wire bytes, led by ``preamble`` (0..4) FE bytes."""
    if not 0 <= preamble <= MAX_PREAMBLE:
        raise InvalidField(f"preamble must be 0..{MAX_PREAMBLE} FE bytes, got {preamble}")
    sa = frame.server.to_bytes()
    data = frame.data.translate(_ADD33) if frame.control & SCRAMBLE_BIT else frame.data
    length = 2 + 1 + len(sa) + 1 + 2 + len(data) + 2
    if length > MAX_FRAME_LENGTH:
        raise InvalidField(f"a frame of {length} bytes is over {MAX_FRAME_LENGTH}: segment it")
    head = struct.pack("<HB", length, frame.control) + sa + bytes((frame.client,))
    head += struct.pack("<H", fcs16(head))
    body = head + data
    return b"\xfe" * preamble + b"\x68" + body + struct.pack("<H", fcs16(body)) + b"\x16"


def frame_overhead(server: ServerAddress) -> int:
    """Bytes a frame to or from ``server`` adds around its user data (68 and 16 included)."""
    return 1 + 2 + 1 + len(server.to_bytes()) + 1 + 2 + 2 + 1


def decode(raw: bytes) -> Frame:
    """Exactly one frame (FE preamble allowed) from ``raw``, else CodecError."""
    decoder = FrameDecoder()
    frames = decoder.feed(raw)
    if len(frames) != 1 or decoder.buffered_bytes or decoder.garbage_bytes:
        reason = decoder.last_error or f"{len(frames)} frames and stray bytes"
        raise CodecError(f"not one DL/T 698.45 frame: {reason}")
    return frames[0]


# --------------------------------------------------------------------------------------------
# streaming decoder

# Why a candidate was dropped: the decoder counts these instead of keeping an error object per
# rejected byte (a stream of 68 bytes would otherwise cost one object each).
BAD_LENGTH: Final = "bad length"
BAD_HCS: Final = "bad HCS"
BAD_FCS: Final = "bad FCS"
BAD_END: Final = "bad end byte"
TRUNCATED: Final = "truncated"
SUPERSEDED: Final = "superseded"
_MIN_HEAD: Final = 1 + 2 + 1 + 1  # 68, L, C, the SA flag: enough to know the header's size


@functools.cache
def _start_pattern(high: int) -> re.Pattern[bytes]:
    """68, any byte, then a byte no greater than ``high``: L's high byte within the limit."""
    return re.compile(b"\\x68[\\x00-\\xff][\\x00-" + b"\\x%02x" % high + b"]", re.DOTALL)


class FrameDecoder:
    """Turns a byte stream cut anywhere into frames, with bounded memory and linear time.

    Rules: FE preambles and any byte before a 68 are skipped (counted in ``garbage_bytes``
    unless FE). From a 68 the decoder checks, as soon as the bytes are there: L (at least a
    minimal frame, at most ``max_frame_length``, reserved bits clear), the server-address flag,
    the HCS over the header, then the end byte and the FCS. A candidate failing any check is
    dropped and the search resumes at the byte after its 68 — never after its claimed length,
    which may be the damaged part — so a good frame that follows a damaged one is never lost.

    Each rejection costs at most one header check (bounded) or, for a header whose HCS holds,
    one FCS over at most ``max_frame_length`` bytes; a run of 68 bytes is rejected on L as
    cheaply as a run of FE. A candidate still short of its header is dropped when a whole valid
    frame already follows inside it (``superseded``): junk that looks like the start of a long
    frame cannot swallow the good frame behind it while the line stays quiet. Rejections are
    counted in ``errors`` by reason (``last_error`` says the latest); nothing is kept per byte.
    Between calls the decoder keeps at most one incomplete frame.
    """

    __slots__ = ("_buffer", "_max", "_start", "errors", "garbage_bytes", "last_error")

    def __init__(self, max_frame_length: int = MAX_FRAME_LENGTH) -> None:
        if not 16 <= max_frame_length <= MAX_FRAME_LENGTH:
            raise InvalidField(f"max_frame_length must be 16..{MAX_FRAME_LENGTH}")
        self._max = max_frame_length
        self._start = _start_pattern(max_frame_length >> 8)
        self._buffer = bytearray()
        self.garbage_bytes = 0
        self.errors: dict[str, int] = {}
        self.last_error: str | None = None

    @property
    def buffered_bytes(self) -> int:
        """Bytes of an incomplete frame held for the next feed."""
        return len(self._buffer)

    @property
    def dropped(self) -> int:
        """Candidates rejected so far."""
        return sum(self.errors.values())

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """The frames completed by ``data``, in stream order."""
        buffer = self._buffer
        buffer += data
        out: list[Frame] = []
        pos = 0
        size = len(buffer)
        while pos < size:
            nxt = self._next_candidate(buffer, pos, size)
            if nxt != pos:
                self.garbage_bytes += (nxt - pos) - buffer.count(PREAMBLE_BYTE, pos, nxt)
                pos = nxt
                if pos >= size:
                    break
            verdict = self._examine(buffer, pos, size)
            if verdict is None and self._frame_within_header(buffer, pos, size):
                verdict = SUPERSEDED
            if verdict is None:  # incomplete: keep from this 68 on
                break
            if isinstance(verdict, str):
                self._reject(verdict)
                pos += 1
                continue
            frame, consumed = verdict
            out.append(frame)
            pos += consumed
        del buffer[:pos]
        return out

    def _frame_within_header(self, buffer: bytearray, pos: int, size: int) -> bool:
        """Whether a whole valid frame starts inside the header of the incomplete candidate at
        ``pos`` (junk such as `68 00 01` claims a long frame whose header would take in the good
        frame behind it, and the stream may have nothing more to send). A real header cannot
        hold such a frame short of its HCS and FCS both matching by chance, so the candidate is
        dropped. Bounded: the buffer is shorter than the longest header, each start judged
        once."""
        if size - pos >= _MIN_HEAD:
            head = 1 + 2 + 1 + (1 + (buffer[pos + 4] & 0x0F) + 1) + 1
            if size - pos >= head + 2:
                return False  # its header is all there and its HCS held: its body is coming
        start = pos + 1
        while True:
            start = self._next_candidate(buffer, start, size)
            if start >= size:
                return False
            if isinstance(self._examine(buffer, start, size), tuple):
                return True
            start += 1

    def _next_candidate(self, buffer: bytearray, pos: int, size: int) -> int:
        """Where the next frame may start: a 68 whose length field's high byte fits the limit
        (found by a regular expression, in C), or a 68 among the last two bytes whose length
        has not arrived; ``size`` if none. A run of 68 bytes is skipped here as fast as FE."""
        m = self._start.search(buffer, pos)
        if m is not None:
            return m.start()
        for tail in (size - 2, size - 1):  # a 68 whose length bytes are still coming
            if tail >= pos and buffer[tail] == START:
                return tail
        return size

    def flush(self) -> int:
        """Drop an incomplete frame (after a silent gap on a serial line); its length."""
        n = len(self._buffer)
        if n:
            self._buffer.clear()
            self._reject(TRUNCATED)
        return n

    def _reject(self, reason: str) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + 1
        self.last_error = reason

    def _examine(
        self, buffer: bytearray, pos: int, size: int
    ) -> tuple[Frame, int] | str | None:
        """Judge the candidate at ``buffer[pos] == 68``: (frame, bytes consumed), a rejection
        reason, or None while its bytes are still coming."""
        available = size - pos
        if available < 3:
            return None
        length = buffer[pos + 1] | buffer[pos + 2] << 8
        if length & ~_L_MASK or length > self._max or length < 10:
            return BAD_LENGTH
        if available < _MIN_HEAD:
            return None
        flag = buffer[pos + 4]
        sa_size = 1 + (flag & 0x0F) + 1
        head = 1 + 2 + 1 + sa_size + 1  # 68 .. CA
        if head + 2 + 2 + 1 > length + 2:  # the header, HCS, FCS and 16 must fit in L
            return BAD_LENGTH
        if available < head + 2:
            return None
        if fcs16(buffer[pos + 1 : pos + head]) != buffer[pos + head] | buffer[pos + head + 1] << 8:
            return BAD_HCS
        total = length + 2
        if available < total:
            return None
        if buffer[pos + total - 1] != END:
            return BAD_END
        fcs_at = pos + total - 3
        if fcs16(buffer[pos + 1 : fcs_at]) != buffer[fcs_at] | buffer[fcs_at + 1] << 8:
            return BAD_FCS
        control = buffer[pos + 3]
        data = bytes(buffer[pos + head + 2 : fcs_at])
        if control & SCRAMBLE_BIT:
            data = data.translate(_SUB33)
        frame = Frame(
            control,
            ServerAddress.from_bytes(bytes(buffer[pos + 4 : pos + 4 + sa_size])),
            buffer[pos + head - 1],
            data,
        )
        return frame, total
