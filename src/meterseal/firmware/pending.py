"""The retained-RAM block: events seen on backup power but not yet written to the NVM.

Owns the byte format of that block and nothing else: it does not know when an entry is created,
written or dropped (the recorder decides) nor how the bytes reach the RAM (the HAL's retained
port). A block that fails its magic, length or CRC-32 is garbage: decode gives None, the content
is lost, and the recorder reconciles from the NVM alone.

Layout (little-endian), at most RETAINED_SIZE = 256 bytes:
    magic "MP" (2) | entry count (1) | watch_until_ms (6) | cover_closed (1) | flags (1)
    | entries, ENTRY_SIZE = 23 bytes each | CRC-32 of all the preceding bytes (4)
Entry: kind|rtc_valid|channel bits (1: bit0 = kind, bit1 = rtc_valid, bit2 = the terminal
    cover's, not the meter cover's) | time_ms (6) | seq (4)
    | import (6) | export (6)   (energies in 0.01 kWh units)
MAX_ENTRIES = (256 - 15) // 23 = 10 entries.
"""

from meterseal.firmware.compat import const
from meterseal.firmware.crc import crc32

OPEN = const(0)
CLOSE = const(1)

COVER = const(0)  # an entry of the meter cover's log...
TERMINAL = const(1)  # ...or of the terminal cover's

RETAINED_SIZE = const(256)
_MAGIC = b"MP"
HEADER_SIZE = const(11)
ENTRY_SIZE = const(23)
CRC_SIZE = const(4)
MAX_ENTRIES = const(10)  # (RETAINED_SIZE - HEADER_SIZE - CRC_SIZE) // ENTRY_SIZE

_U32 = 0xFFFFFFFF
_U48 = 0xFFFFFFFFFFFF


class PendingEntry:
    """One event seen but not yet in the NVM: an OPEN (seq it will get) or CLOSE (seq it closes),
    of the meter cover's log or (channel TERMINAL) the terminal cover's."""

    __slots__ = ("channel", "export_units", "import_units", "kind", "rtc_valid", "seq", "time_ms")

    def __init__(self, kind, time_ms, rtc_valid, import_units, export_units, seq, channel=COVER):
        self.channel = channel
        self.kind = kind
        self.time_ms = time_ms
        self.rtc_valid = rtc_valid
        self.import_units = import_units
        self.export_units = export_units
        self.seq = seq

    def __eq__(self, other):
        return type(other) is PendingEntry and self.as_tuple() == other.as_tuple()

    def __ne__(self, other):
        return not self.__eq__(other)

    def as_tuple(self):
        return (
            self.kind,
            self.time_ms,
            self.rtc_valid,
            self.import_units,
            self.export_units,
            self.seq,
            self.channel,
        )

    def __repr__(self):
        return "PendingEntry({!r}, {!r}, {!r}, {!r}, {!r}, {!r}, {!r})".format(*self.as_tuple())


def _need(ok, what):
    if not ok:
        raise ValueError(what)


def _uint(v, hi):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= hi


def encode_pending(entries, watch_until_ms, cover_closed, flags):
    """The retained-RAM bytes for these entries (oldest first). ValueError if more than
    MAX_ENTRIES or a field is out of range."""
    _need(len(entries) <= MAX_ENTRIES, "too many pending entries")
    _need(_uint(watch_until_ms, _U48), "watch_until_ms")
    _need(cover_closed in (0, 1) and not isinstance(cover_closed, bool), "cover_closed")
    _need(_uint(flags, 0xFF), "flags")
    buf = bytearray(_MAGIC)
    buf.append(len(entries))
    buf.extend(watch_until_ms.to_bytes(6, "little"))
    buf.append(cover_closed)
    buf.append(flags)
    for e in entries:
        _need(e.kind in (OPEN, CLOSE), "entry kind")
        _need(e.channel in (COVER, TERMINAL), "entry channel")
        _need(_uint(e.time_ms, _U48), "entry time_ms")
        _need(_uint(e.seq, _U32) and e.seq >= 1, "entry seq")
        _need(_uint(e.import_units, _U48) and _uint(e.export_units, _U48), "entry energy")
        buf.append(e.kind | (2 if e.rtc_valid else 0) | (4 if e.channel == TERMINAL else 0))
        buf.extend(e.time_ms.to_bytes(6, "little"))
        buf.extend(e.seq.to_bytes(4, "little"))
        buf.extend(e.import_units.to_bytes(6, "little"))
        buf.extend(e.export_units.to_bytes(6, "little"))
    buf.extend(crc32(buf).to_bytes(4, "little"))
    return bytes(buf)


def decode_pending(b):
    """(entries, watch_until_ms, cover_closed, flags) from retained-RAM bytes (may be longer than
    the block), or None when the block is not intact. Never raises."""
    try:
        return _decode(bytes(b))
    except Exception:  # total by contract: retained RAM may hold anything after a brown-out
        return None


def _get(b, pos, width):
    return int.from_bytes(b[pos : pos + width], "little")


def _decode(b):
    if len(b) < HEADER_SIZE + CRC_SIZE or b[0:2] != _MAGIC:
        return None
    count = b[2]
    if count > MAX_ENTRIES:
        return None
    end = HEADER_SIZE + count * ENTRY_SIZE
    if len(b) < end + CRC_SIZE or crc32(b[:end]) != _get(b, end, 4):
        return None
    cover_closed = b[9]
    if cover_closed > 1:
        return None
    entries = []
    pos = HEADER_SIZE
    for _ in range(count):
        kb = b[pos]
        if kb & ~7:
            return None
        seq = _get(b, pos + 7, 4)
        if seq < 1:
            return None
        entries.append(
            PendingEntry(
                kb & 1,
                _get(b, pos + 1, 6),
                bool(kb & 2),
                _get(b, pos + 11, 6),
                _get(b, pos + 17, 6),
                seq,
                TERMINAL if kb & 4 else COVER,
            )
        )
        pos += ENTRY_SIZE
    return entries, _get(b, 3, 6), cover_closed, b[10]
