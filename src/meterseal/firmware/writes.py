"""The recorder's queue of page writes: one small class per kind of write it decides on.

A Write is queued when the recorder decides on it, issued (its addr and data set) when the NVM is
free and the budget allows, and is the recorder's `writing` until the NVM reports it done. This
module holds the shapes only; the recorder decides when each is made and how it is encoded.
MicroPython-safe: plain classes with __slots__.
"""

from meterseal.firmware.pending import COVER
from meterseal.firmware.pending import OPEN as KIND_OPEN
from meterseal.firmware.records import BOUNDED, UNSYNCED, CoverOpen

# Kinds of queued page write, and the class that carries each.
W_OPEN = 0  # EntryWrite: an opening seen while alive
W_CLOSE = 1  # EntryWrite: a closing seen while alive
W_STATE = 2  # StateWrite
W_PD_START = 3  # PowerDownWrite
W_PD_END = 4  # PowerDownWrite
W_OPEN_REC = 5  # RecordWrite: a reconciled opening, written from its record directly
W_CLOSE_REC = 6  # CloseWrite: a reconciled closing
W_REPORT = 7  # ReportWrite: a record's report status
W_FREEZE = 8  # FreezeWrite: a daily freeze
W_SEAL = 9  # SealWrite: the MAC of a record written without one, on mains



class Write:
    """A page write the recorder has decided on. addr and data are set when it is issued; from
    then until the NVM reports it done it is the recorder's `writing`."""

    __slots__ = ("addr", "data", "kind")

    def __init__(self, kind):
        self.kind = kind
        self.addr = 0
        self.data = None


class EntryWrite(Write):
    """An opening or closing seen while alive: its PendingEntry leaves retained RAM on commit."""

    __slots__ = ("entry", "quality")

    def __init__(self, entry, quality):
        super().__init__(W_OPEN if entry.kind == KIND_OPEN else W_CLOSE)
        self.entry = entry
        self.quality = quality


class RecordWrite(Write):
    """A reconciled opening: the record is complete (quality, bounds) when queued; channel says
    whose log it joins (pending.COVER or pending.TERMINAL)."""

    __slots__ = ("channel", "record")

    def __init__(self, record, channel=COVER):
        super().__init__(W_OPEN_REC)
        self.record = record
        self.channel = channel


class CloseWrite(Write):
    """A reconciled closing of the open record seq."""

    __slots__ = ("channel", "export_units", "import_units", "quality", "seq", "time_ms")

    def __init__(self, seq, time_ms, quality, import_units, export_units, channel=COVER):
        super().__init__(W_CLOSE_REC)
        self.channel = channel
        self.seq = seq
        self.time_ms = time_ms
        self.quality = quality
        self.import_units = import_units
        self.export_units = export_units


class PowerDownWrite(Write):
    """The start (W_PD_START) or end (W_PD_END) half of power-down record seq."""

    __slots__ = ("quality", "seq", "time_ms")

    def __init__(self, kind, seq, time_ms, quality):
        super().__init__(kind)
        self.seq = seq
        self.time_ms = time_ms
        self.quality = quality


class StateWrite(Write):
    """The saved state, built from the recorder as it stands when the write is issued."""

    __slots__ = ("rtc_valid",)

    def __init__(self, rtc_valid):
        super().__init__(W_STATE)
        self.rtc_valid = rtc_valid


class ReportWrite(Write):
    """Whether cover-open record seq's active report went out (sends, REPORT_* flags); of a
    terminal-cover record with channel pending.TERMINAL."""

    __slots__ = ("channel", "flags", "sends", "seq", "time_ms")

    def __init__(self, seq, sends, flags, time_ms, channel=COVER):
        super().__init__(W_REPORT)
        self.channel = channel
        self.seq = seq
        self.sends = sends
        self.flags = flags
        self.time_ms = time_ms


class FreezeWrite(Write):
    """A daily freeze (a DailyFreeze whose seq the journal assigns when it is issued)."""

    __slots__ = ("record",)

    def __init__(self, record):
        super().__init__(W_FREEZE)
        self.record = record


class SealWrite(Write):
    """The seal of the oldest record page that waits for its MAC (the journal picks it)."""

    __slots__ = ()

    def __init__(self):
        super().__init__(W_SEAL)


def carries(item, entry):
    return isinstance(item, EntryWrite) and item.entry is entry


def reconciled_write(level, now, valid, imp, exp, seq, known_ms, channel):
    """The write of a change a power-up's reconciliation found on one switch: record seq opened
    (level 0), bounded by [known_ms, now] when the clock is valid, or the closing of record seq
    (level 1). Unsynced without a valid clock."""
    quality = BOUNDED if valid else UNSYNCED
    if level == 0:
        rec = CoverOpen(seq, quality, now)
        if valid:
            rec.not_before_ms = known_ms
            rec.not_after_ms = now
        rec.import_before = imp
        rec.export_before = exp
        return RecordWrite(rec, channel)
    return CloseWrite(seq, now, quality, imp, exp, channel)
