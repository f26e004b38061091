"""DL/T 645-2007 link frames: the typed frame, its wire encoding and a streaming decoder.

Owns: the frame layout (FE preamble, 68, address, 68, control, length, data +33h, checksum,
16), the control byte's bits, function codes and error bits, the address rules (BCD, lowest
byte first, broadcast 99×6, wildcard AA), data identifiers as 4 bytes DI0 first, and the
recovery rules for a damaged byte stream.

Must not know: what a data identifier means, the meter's data model or its records, sessions,
passwords, sockets, serial ports or time. Bytes in, frames out; the caller owns all I/O.

Wire layout of one frame (lengths in bytes)::

    FE×0..4 | 68 | address 6 | 68 | control 1 | L 1 | data L (each byte +33h) | CS 1 | 16

CS is the sum mod 256 of every byte from the first 68 to the end of the data; L is at most 200.
A :class:`Frame` holds the data *plain* (after −33h), so what a session reads is what the
standard's tables list.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Final

import numpy as np

from meterseal.protocols.dlt645.errors import Dlt645Error, InvalidFrameField

START: Final = 0x68
END: Final = 0x16
PREAMBLE_BYTE: Final = 0xFE
DATA_OFFSET: Final = 0x33
MAX_PREAMBLE: Final = 4
MAX_DATA_LENGTH: Final = 200
ADDRESS_LENGTH: Final = 6
HEADER_LENGTH: Final = 10  # 68, address, 68, control, L
OVERHEAD: Final = HEADER_LENGTH + 2  # + checksum, end
MAX_FRAME_LENGTH: Final = OVERHEAD + MAX_DATA_LENGTH
_PAD: Final = OVERHEAD + 0xFF + 2  # room past the end for the longest length a byte can claim

# The +33h / -33h data transform as byte tables (bytes.translate runs it in C).
_ADD33: Final = bytes((b + DATA_OFFSET) & 0xFF for b in range(256))
_SUB33: Final = bytes((b - DATA_OFFSET) & 0xFF for b in range(256))

BROADCAST_ADDRESS: Final = b"\x99" * ADDRESS_LENGTH
WILDCARD_BYTE: Final = 0xAA
WILDCARD_ADDRESS: Final = bytes([WILDCARD_BYTE]) * ADDRESS_LENGTH

REPLY_BIT: Final = 0x80
ABNORMAL_BIT: Final = 0x40
FOLLOW_UP_BIT: Final = 0x20
FUNCTION_MASK: Final = 0x1F


class FunctionCode(IntEnum):
    """Bits 4..0 of the control byte."""

    BROADCAST_TIME = 0x08
    READ = 0x11
    READ_FOLLOW_UP = 0x12
    READ_ADDRESS = 0x13
    WRITE = 0x14
    WRITE_ADDRESS = 0x15
    FREEZE = 0x16
    CHANGE_BAUD_RATE = 0x17
    CHANGE_PASSWORD = 0x18
    CLEAR_MAX_DEMAND = 0x19
    METER_CLEAR = 0x1A
    EVENT_CLEAR = 0x1B
    RELAY_CONTROL = 0x1C


class ErrorCode(IntFlag):
    """Bits of the one error byte an abnormal reply carries (they may be combined)."""

    OTHER = 0x01
    NO_SUCH_DATA = 0x02
    NOT_AUTHORISED = 0x04  # wrong password or too low a password level
    BAUD_RATE_NOT_CHANGEABLE = 0x08
    YEAR_ZONES_EXCEEDED = 0x10
    DAY_PERIODS_EXCEEDED = 0x20
    TARIFFS_EXCEEDED = 0x40


# --------------------------------------------------------------------------------------------
# errors


class FrameError(Dlt645Error):
    """A damaged frame found in a byte stream; the decoder dropped it and resynchronised.

    ``raw`` holds the rejected bytes as far as they were examined (from its first 68).
    """

    reason = "damaged frame"

    def __init__(self, raw: bytes | bytearray, detail: str = "") -> None:
        self.raw = bytes(raw)
        self.detail = detail
        message = f"{self.reason}: {detail}" if detail else self.reason
        if self.raw:
            more = "…" if len(self.raw) > 16 else ""
            message += f" (dropped {_hex(self.raw[:16])}{more})"
        super().__init__(message)

    def __reduce__(self) -> tuple[type[FrameError], tuple[bytes, str]]:
        return (type(self), (self.raw, self.detail))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, FrameError) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash((type(self), self.raw))


class BadSecondStart(FrameError):
    reason = "second 68h missing after the address; the sender's framing is broken"


class BadLength(FrameError):
    reason = f"data length over {MAX_DATA_LENGTH}; the frame is corrupt or not DL/T 645"


class BadChecksum(FrameError):
    reason = "checksum mismatch; the line is noisy or the sender computes it wrongly"


class BadEnd(FrameError):
    reason = "end byte 16h missing; the frame is corrupt or its length byte is wrong"


class Truncated(FrameError):
    reason = "frame cut short; the sender stopped mid-frame"


class NotOneFrame(FrameError):
    reason = "expected exactly one frame"


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


# --------------------------------------------------------------------------------------------
# the frame


@dataclass(frozen=True, slots=True)
class Frame:
    """One DL/T 645 frame: address in wire order (lowest byte first), control, plain data."""

    address: bytes
    control: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.address, bytes):
            object.__setattr__(self, "address", bytes(self.address))
        if not isinstance(self.data, bytes):
            object.__setattr__(self, "data", bytes(self.data))
        if len(self.address) != ADDRESS_LENGTH:
            raise InvalidFrameField(
                f"address must be {ADDRESS_LENGTH} bytes in wire order, got {len(self.address)}"
            )
        if not 0 <= self.control <= 0xFF:
            raise InvalidFrameField(f"control byte must be 0..255, got {self.control}")
        if len(self.data) > MAX_DATA_LENGTH:
            raise InvalidFrameField(
                f"data is {len(self.data)} bytes; DL/T 645 allows at most {MAX_DATA_LENGTH}:"
                " split it into follow-up frames"
            )

    @property
    def function_code(self) -> int:
        """Bits 4..0 of the control byte (compare with :class:`FunctionCode`)."""
        return self.control & FUNCTION_MASK

    @property
    def is_reply(self) -> bool:
        """Bit 7: the frame comes from a meter."""
        return bool(self.control & REPLY_BIT)

    @property
    def is_abnormal(self) -> bool:
        """Bit 6: the meter refused the request; the data is one error byte."""
        return bool(self.control & ABNORMAL_BIT)

    @property
    def has_follow_up(self) -> bool:
        """Bit 5: more frames follow (read them with function 12)."""
        return bool(self.control & FOLLOW_UP_BIT)

    @property
    def error(self) -> ErrorCode | None:
        """The error bits of an abnormal reply, else None."""
        if not (self.is_reply and self.is_abnormal) or not self.data:
            return None
        return ErrorCode(self.data[0] & 0x7F)

    def __repr__(self) -> str:
        return (
            f"Frame(address={address_to_string(self.address)!r}, control=0x{self.control:02X},"
            f" data={_hex(self.data)!r})"
        )


def encode(frame: Frame, preamble: int = 0) -> bytes:
    """The frame's wire bytes, led by ``preamble`` (0..4) wake-up FE bytes."""
    if not 0 <= preamble <= MAX_PREAMBLE:
        raise InvalidFrameField(f"preamble must be 0..{MAX_PREAMBLE} FE bytes, got {preamble}")
    head = b"\x68" + frame.address + bytes((START, frame.control, len(frame.data)))
    data = frame.data.translate(_ADD33)
    checksum = (sum(head) + sum(data)) & 0xFF
    return b"\xfe" * preamble + head + data + bytes((checksum, END))


def decode(raw: bytes) -> Frame:
    """Exactly one frame (FE preamble allowed) from ``raw``, else the :class:`FrameError` found."""
    decoder = FrameDecoder()
    items = decoder.feed(raw) + decoder.flush()
    frames = [item for item in items if isinstance(item, Frame)]
    errors = [item for item in items if isinstance(item, FrameError)]
    if errors:
        raise errors[0]
    if len(frames) != 1 or decoder.garbage_bytes:
        raise NotOneFrame(
            raw, f"found {len(frames)} frames and {decoder.garbage_bytes} stray bytes"
        )
    return frames[0]


# --------------------------------------------------------------------------------------------
# streaming decoder


class FrameDecoder:
    """Turns a byte stream cut anywhere into frames and errors, with bounded memory and time
    linear in the bytes received, whatever they are.

    Rules: FE preambles and any byte before a 68 are skipped (counted in ``garbage_bytes``
    unless FE). From a 68 the decoder checks, as soon as the bytes are there: the second 68,
    the length (≤ ``max_data_length``, judged on arrival of the length byte, so a false length
    cannot make it wait for 255 bytes), the checksum and the end byte. A candidate failing any
    check yields one :class:`FrameError` and the search resumes at the byte after its first
    68 — never after its claimed length, which may be the damaged part — so a good frame that
    follows a damaged one is never lost.

    Resynchronisation is one vectorised pass (numpy) over what follows a failed candidate: every
    68 in it is judged at once (second 68, length, checksum from prefix sums, end byte), and the
    decoder jumps to the first one that is a frame or may still become one. A run of 68 bytes
    or of valid-looking headers with bad checksums therefore costs what a run of FE costs, and
    the candidates a run rejects are counted in ``rejected``, not reported one by one: a run
    yields the one error that started it. ``steps`` counts the decoder's Python-level steps
    (one per frame or error examined, one per resynchronisation). Between calls the decoder
    keeps at most one incomplete frame (< :data:`MAX_FRAME_LENGTH` bytes), whatever it was fed.
    """

    __slots__ = ("_buffer", "_max_data_length", "garbage_bytes", "rejected", "steps")

    def __init__(self, max_data_length: int = MAX_DATA_LENGTH) -> None:
        if not 0 <= max_data_length <= 0xFF:
            raise InvalidFrameField(f"max_data_length must be 0..255, got {max_data_length}")
        self._max_data_length = max_data_length
        self._buffer = bytearray()
        self.garbage_bytes = 0
        self.rejected = 0
        self.steps = 0

    @property
    def buffered_bytes(self) -> int:
        """Bytes of an incomplete frame held for the next feed."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        """Frames and errors completed by ``data``, in stream order."""
        buffer = self._buffer
        buffer.extend(data)
        out: list[Frame | FrameError] = []
        pos = 0
        size = len(buffer)
        while pos < size:
            if buffer[pos] != START:
                nxt = buffer.find(START, pos)
                end = size if nxt < 0 else nxt
                self.garbage_bytes += (end - pos) - buffer.count(PREAMBLE_BYTE, pos, end)
                pos = end
                continue
            self.steps += 1
            result = self._examine(buffer, pos, size)
            if result is None:  # incomplete: keep from this 68 on
                break
            item, consumed = result
            out.append(item)
            if isinstance(item, Frame):
                pos += consumed
                continue
            self.rejected += 1
            pos = self._resync(buffer, pos + 1, size)
        del buffer[:pos]
        return out

    def _resync(self, buffer: bytearray, start: int, size: int) -> int:
        """The first position from ``start`` where a frame may begin — a 68 that passes every
        check its bytes allow so far — or ``size``; the candidates passed over are counted."""
        self.steps += 1
        n = size - start
        if n <= 0:
            return size
        b = np.zeros(n + _PAD, dtype=np.uint8)  # zeros past the end: bytes not yet arrived
        b[:n] = np.frombuffer(buffer, dtype=np.uint8, count=n, offset=start)
        sums = np.zeros(n + _PAD + 1, dtype=np.uint8)  # prefix sums mod 256: sums[k] = Σ b[:k]
        np.cumsum(b, dtype=np.uint8, out=sums[1:])
        bulk = max(0, n - _PAD)  # candidates whose every byte has arrived, judged by slices
        found = self._first_sound(b, sums, bulk)
        if found < 0:
            found = self._first_possible(b, sums, bulk, n)
        end = size if found < 0 else start + found
        self._skipped(buffer, start, end)
        return end

    def _first_sound(self, b: np.ndarray, sums: np.ndarray, m: int) -> int:
        """The first of positions 0..m-1 (all bytes there) that holds a sound frame, or -1."""
        if m == 0:
            return -1
        length = b[9 : m + 9]
        cand = np.flatnonzero(
            (b[:m] == START) & (b[7 : m + 7] == START) & (length <= self._max_data_length)
        )
        if cand.size == 0:
            return -1
        cs_at = cand + HEADER_LENGTH + length[cand]
        sound = (b[cs_at] == sums[cs_at] - sums[cand]) & (b[cs_at + 1] == END)
        hits = np.flatnonzero(sound)
        return int(cand[hits[0]]) if hits.size else -1

    def _first_possible(self, b: np.ndarray, sums: np.ndarray, m: int, n: int) -> int:
        """The first of positions m..n-1 that is a frame or may still become one, or -1."""
        idx = m + np.flatnonzero(b[m:n] == START)
        if idx.size == 0:
            return -1
        avail = n - idx
        length = b[idx + 9].astype(np.intp)
        cs_at = idx + HEADER_LENGTH + length
        judged = avail >= HEADER_LENGTH
        complete = judged & (avail >= OVERHEAD + length)
        sound = (b[cs_at] == sums[cs_at] - sums[idx]) & (b[cs_at + 1] == END)
        ok = (avail < 8) | (b[idx + 7] == START)
        ok &= ~judged | (length <= self._max_data_length)
        ok &= ~complete | sound
        hits = np.flatnonzero(ok)
        return int(idx[hits[0]]) if hits.size else -1

    def _skipped(self, buffer: bytearray, start: int, end: int) -> None:
        """Bytes start..end-1 were passed over: their 68s were rejected candidates."""
        starts = buffer.count(START, start, end)
        self.rejected += starts
        self.garbage_bytes += (end - start) - buffer.count(PREAMBLE_BYTE, start, end) - starts

    def flush(self) -> list[FrameError]:
        """Drop an incomplete frame (e.g. after a silent gap on a serial line); report it."""
        if not self._buffer:
            return []
        raw = bytes(self._buffer)
        self._buffer.clear()
        return [Truncated(raw, f"{len(raw)} bytes")]

    def _examine(
        self, buffer: bytearray, pos: int, size: int
    ) -> tuple[Frame | FrameError, int] | None:
        """Judge the candidate at ``buffer[pos] == 68``: (item, bytes consumed) or None."""
        available = size - pos
        if available < 8:
            return None
        if buffer[pos + 7] != START:
            return BadSecondStart(buffer[pos : pos + 8]), 1
        if available < HEADER_LENGTH:
            return None
        length = buffer[pos + 9]
        if length > self._max_data_length:
            return BadLength(buffer[pos : pos + HEADER_LENGTH], f"L={length}"), 1
        total = OVERHEAD + length
        if available < total:
            return None
        cs_at = pos + HEADER_LENGTH + length
        checksum = sum(buffer[pos:cs_at]) & 0xFF
        if buffer[cs_at] != checksum:
            return BadChecksum(
                buffer[pos : pos + total], f"got {buffer[cs_at]:02X}, computed {checksum:02X}"
            ), 1
        if buffer[cs_at + 1] != END:
            return BadEnd(buffer[pos : pos + total], f"got {buffer[cs_at + 1]:02X}"), 1
        frame = Frame(
            address=bytes(buffer[pos + 1 : pos + 7]),
            control=buffer[pos + 8],
            data=bytes(buffer[pos + HEADER_LENGTH : cs_at]).translate(_SUB33),
        )
        return frame, total


# --------------------------------------------------------------------------------------------
# addresses


def address_from_string(digits: str) -> bytes:
    """12 BCD digits as printed on the meter ("000000000001") -> 6 bytes, lowest byte first.

    A pair "AA" stands for one wildcard byte.
    """
    text = digits.strip()
    if len(text) != 2 * ADDRESS_LENGTH:
        raise InvalidFrameField(
            f"address {digits!r} must have {2 * ADDRESS_LENGTH} digits, as printed on the meter"
        )
    out = bytearray()
    for i in range(0, len(text), 2):
        pair = text[i : i + 2]
        if pair.upper() == "AA":
            out.append(WILDCARD_BYTE)
        elif pair.isdecimal() and pair.isascii():
            out.append(int(pair, 16))
        else:
            raise InvalidFrameField(
                f"address {digits!r} has {pair!r}: use decimal digits (or AA for a wildcard byte)"
            )
    out.reverse()
    return bytes(out)


def address_to_string(address: bytes) -> str:
    """6 bytes in wire order -> the 12-digit string as printed on the meter."""
    if len(address) != ADDRESS_LENGTH:
        raise InvalidFrameField(
            f"address must be {ADDRESS_LENGTH} bytes in wire order, got {len(address)}"
        )
    return bytes(reversed(address)).hex().upper()


def is_broadcast(address: bytes) -> bool:
    """The 99×6 broadcast address (time setting, freeze): every meter acts, none answers."""
    return bytes(address) == BROADCAST_ADDRESS


def address_matches(frame_addr: bytes, meter_addr: bytes) -> bool:
    """Whether a request addressed to ``frame_addr`` is for the meter at ``meter_addr``.

    Each AA byte of ``frame_addr`` matches any byte (the standard uses them from the high end
    for abbreviated addressing, and AA×6 for "whoever is on the line"; any position is
    accepted here). The broadcast address is *not* a match: test it with :func:`is_broadcast`.
    """
    if len(frame_addr) != ADDRESS_LENGTH or len(meter_addr) != ADDRESS_LENGTH:
        return False
    return all(f in (m, WILDCARD_BYTE) for f, m in zip(frame_addr, meter_addr, strict=True))


# --------------------------------------------------------------------------------------------
# data identifiers


def di_to_bytes(di: int) -> bytes:
    """A data identifier written DI3 DI2 DI1 DI0 (0x03300D01) -> wire order DI0 first."""
    if not 0 <= di <= 0xFFFFFFFF:
        raise InvalidFrameField(f"data identifier must fit 4 bytes, got {di:#x}")
    return struct.pack("<I", di)


def di_from_bytes(data: bytes) -> int:
    """4 bytes DI0 first -> the identifier as written DI3 DI2 DI1 DI0 (0x03300D01)."""
    if len(data) != 4:
        raise InvalidFrameField(f"a data identifier is 4 bytes, got {len(data)}")
    return int(struct.unpack("<I", bytes(data))[0])


# --------------------------------------------------------------------------------------------
# building requests and replies


def read_request(address: bytes, di: int) -> Frame:
    """A read (11) of one data identifier from the meter at ``address``."""
    return Frame(address, FunctionCode.READ, di_to_bytes(di))


def normal_reply(
    request: Frame, meter_address: bytes, data: bytes = b"", *, follow_up: bool = False
) -> Frame:
    """The meter's normal answer (bit 7) to ``request``, sent from its own address."""
    control = REPLY_BIT | request.function_code | (FOLLOW_UP_BIT if follow_up else 0)
    return Frame(meter_address, control, data)


def abnormal_reply(request: Frame, meter_address: bytes, error: int) -> Frame:
    """The meter's refusal (bits 7 and 6) of ``request``, carrying one error byte."""
    if not 0 < error <= 0x7F:
        raise InvalidFrameField(f"error byte must be 1..0x7F (ErrorCode bits), got {error:#x}")
    return Frame(meter_address, REPLY_BIT | ABNORMAL_BIT | request.function_code, bytes([error]))
