"""The journal's records as plain classes, and their DL/T 645 wire bytes.

Owns what a record holds, the range each field may take (check), how the two halves of a record
merge, and the 60/12/14-byte standard records (cover open, power down, event clear). It does not
know how a record is laid out in a page (pagecodec.py), where pages live (layout.py), how they
are written or recovered (journal.py, image.py), nor any frame or DI of the protocols.

Times are local epoch ms (u48), energies in 0.01 kWh units (u48), SavedState energies in mWh.
"""

from meterseal.firmware.bcd import NO_TIME6, bcd_energy4, bcd_time6
from meterseal.firmware.caltime import MS_LIMIT
from meterseal.firmware.compat import const

EXACT = const(0)
DEFERRED = const(1)
BOUNDED = const(2)
UNSYNCED = const(3)
QUALITY_NAMES = ("exact", "deferred", "bounded", "unsynced")

# Record energies are register units of 0.01 kWh; the saved state keeps mWh.
MWH_PER_UNIT = const(10000)

# SavedState.flags bits
FLAG_IN_OUTAGE = const(1)
FLAG_WATCH_ENDED = const(2)
FLAG_RTC_VALID = const(4)
FLAG_TERMINAL_OPEN = const(8)  # the terminal cover, as last journalled, is open

U8 = 0xFF
U32 = 0xFFFFFFFF
U48 = 0xFFFFFFFFFFFF

_ZERO_ENERGY4 = b"\x00\x00\x00\x00"
_ZERO_REACTIVE = b"\x00" * 16


def _need(ok, what):
    if not ok:
        raise ValueError(what)


# The field checks raise themselves rather than through _need: every page written and read is
# checked field by field, and the extra call per field showed in the twin's profile.
def _int(v, hi, what):
    # bool is an int subclass; a flag passed for a number is a caller bug worth catching.
    if not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= hi):
        raise ValueError(what)


def _time(v, what):
    if not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MS_LIMIT):
        raise ValueError(what)


def _quality(q, what):
    if not (isinstance(q, int) and not isinstance(q, bool) and 0 <= q <= UNSYNCED):
        raise ValueError(what)


class _Record:
    __slots__ = ()
    _FIELDS = ()  # each record's fields in logical order, for ==, repr and as_tuple

    def __eq__(self, other):
        if type(other) is not type(self):
            return False
        for name in self._FIELDS:
            if getattr(self, name) != getattr(other, name):
                return False
        return True

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        parts = []
        for name in self._FIELDS:
            parts.append(name + "=" + repr(getattr(self, name)))
        return type(self).__name__ + "(" + ", ".join(parts) + ")"

    def as_tuple(self):
        return tuple(getattr(self, name) for name in self._FIELDS)


class CoverClose(_Record):
    """The close half of a cover-open record (its own page, written once)."""

    _FIELDS = ("seq", "close_quality", "closed_ms", "import_after", "export_after")
    __slots__ = _FIELDS

    def __init__(self, seq, close_quality, closed_ms, import_after, export_after):
        self.seq = seq
        self.close_quality = close_quality
        self.closed_ms = closed_ms
        self.import_after = import_after
        self.export_after = export_after

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _quality(self.close_quality, "close_quality")
        _time(self.closed_ms, "closed_ms")
        _int(self.import_after, U48, "import_after")
        _int(self.export_after, U48, "export_after")


class CoverOpen(_Record):
    """One cover-open record: the open half, merged with its close half once that exists."""

    _FIELDS = (
        "seq",
        "quality",
        "opened_ms",
        "not_before_ms",
        "not_after_ms",
        "import_before",
        "export_before",
        "closed",
        "close_quality",
        "closed_ms",
        "import_after",
        "export_after",
    )
    __slots__ = _FIELDS

    def __init__(
        self,
        seq,
        quality,
        opened_ms,
        not_before_ms=0,
        not_after_ms=0,
        import_before=0,
        export_before=0,
    ):
        self.seq = seq
        self.quality = quality
        self.opened_ms = opened_ms
        self.not_before_ms = not_before_ms
        self.not_after_ms = not_after_ms
        self.import_before = import_before
        self.export_before = export_before
        self.closed = False
        self.close_quality = 0
        self.closed_ms = 0
        self.import_after = 0
        self.export_after = 0

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _quality(self.quality, "quality")
        _time(self.opened_ms, "opened_ms")
        _time(self.not_before_ms, "not_before_ms")
        _time(self.not_after_ms, "not_after_ms")
        if self.quality == BOUNDED:
            _need(self.not_before_ms <= self.not_after_ms, "not_before_ms > not_after_ms")
        else:
            _need(self.not_before_ms == 0 and self.not_after_ms == 0, "bounds only for BOUNDED")
        _int(self.import_before, U48, "import_before")
        _int(self.export_before, U48, "export_before")

    def close_half(self):
        """The close half as its own record, or None while open."""
        if not self.closed:
            return None
        return CoverClose(
            self.seq, self.close_quality, self.closed_ms, self.import_after, self.export_after
        )

    def copy(self):
        c = CoverOpen(
            self.seq,
            self.quality,
            self.opened_ms,
            self.not_before_ms,
            self.not_after_ms,
            self.import_before,
            self.export_before,
        )
        c.closed = self.closed
        c.close_quality = self.close_quality
        c.closed_ms = self.closed_ms
        c.import_after = self.import_after
        c.export_after = self.export_after
        return c

    def with_close(self, close):
        """A copy closed by `close` (a CoverClose of the same seq)."""
        if close.seq != self.seq:
            raise ValueError("close half of another record")
        c = self.copy()
        c.closed = True
        c.close_quality = close.close_quality
        c.closed_ms = close.closed_ms
        c.import_after = close.import_after
        c.export_after = close.export_after
        return c

    def standard_bytes(self):
        """The 60-byte DL/T 645 meter-cover-open record, data field as on the wire before +33h."""
        out = bytearray(bcd_time6(self.opened_ms))
        out.extend(bcd_time6(self.closed_ms) if self.closed else NO_TIME6)
        out.extend(bcd_energy4(self.import_before))
        out.extend(bcd_energy4(self.export_before))
        out.extend(_ZERO_REACTIVE)
        if self.closed:
            out.extend(bcd_energy4(self.import_after))
            out.extend(bcd_energy4(self.export_after))
        else:
            out.extend(_ZERO_ENERGY4)
            out.extend(_ZERO_ENERGY4)
        out.extend(_ZERO_REACTIVE)
        return bytes(out)


class PowerDownEnd(_Record):
    """The end half of a power-down record (its own page, written once)."""

    _FIELDS = ("seq", "end_ms", "end_quality")
    __slots__ = _FIELDS

    def __init__(self, seq, end_ms, end_quality):
        self.seq = seq
        self.end_ms = end_ms
        self.end_quality = end_quality

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _time(self.end_ms, "end_ms")
        _quality(self.end_quality, "end_quality")


class PowerDown(_Record):
    """One power-down record: the start half, merged with its end half once that exists."""

    _FIELDS = ("seq", "start_ms", "start_quality", "end_ms", "end_quality", "ended")
    __slots__ = _FIELDS

    def __init__(self, seq, start_ms, start_quality):
        self.seq = seq
        self.start_ms = start_ms
        self.start_quality = start_quality
        self.end_ms = 0
        self.end_quality = 0
        self.ended = False

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _time(self.start_ms, "start_ms")
        _quality(self.start_quality, "start_quality")

    def end_half(self):
        if not self.ended:
            return None
        return PowerDownEnd(self.seq, self.end_ms, self.end_quality)

    def with_end(self, end):
        if end.seq != self.seq:
            raise ValueError("end half of another record")
        c = PowerDown(self.seq, self.start_ms, self.start_quality)
        c.end_ms = end.end_ms
        c.end_quality = end.end_quality
        c.ended = True
        return c

    def standard_bytes(self):
        """The 12-byte DL/T 645 power-down record: start time6 then end time6 (zero while open)."""
        return bcd_time6(self.start_ms) + (bcd_time6(self.end_ms) if self.ended else NO_TIME6)


class SavedState(_Record):
    """Volatile state saved to NVM so that a dead MCU can reconcile at power-up."""

    _FIELDS = (
        "gen",
        "import_mwh",
        "export_mwh",
        "cover_closed",
        "known_ms",
        "power_down_ms",
        "flags",
        "pd_seq",
    )
    __slots__ = _FIELDS

    def __init__(
        self,
        gen=0,
        import_mwh=0,
        export_mwh=0,
        cover_closed=1,
        known_ms=0,
        power_down_ms=0,
        flags=0,
        pd_seq=0,
    ):
        self.gen = gen
        self.import_mwh = import_mwh
        self.export_mwh = export_mwh
        self.cover_closed = cover_closed
        self.known_ms = known_ms
        self.power_down_ms = power_down_ms
        self.flags = flags
        self.pd_seq = pd_seq

    def check(self):
        _int(self.gen, U32, "gen")
        _int(self.import_mwh, U48, "import_mwh")
        _int(self.export_mwh, U48, "export_mwh")
        _int(self.cover_closed, 1, "cover_closed")
        _time(self.known_ms, "known_ms")
        _time(self.power_down_ms, "power_down_ms")
        _int(self.flags, U8, "flags")
        _int(self.pd_seq, U32, "pd_seq")

    def copy(self):
        return SavedState(
            self.gen,
            self.import_mwh,
            self.export_mwh,
            self.cover_closed,
            self.known_ms,
            self.power_down_ms,
            self.flags,
            self.pd_seq,
        )


# ReportStatus.flags bits
REPORT_ON_BACKUP = const(1)  # the sends went out on the backup supply
REPORT_CUT_SHORT = const(2)  # fewer sends than planned: the supply could not afford the rest
REPORT_NOT_SENT = const(4)  # nothing went out (not affordable, or no supply for the module)


class ReportStatus(_Record):
    """Whether a record's active report went out: written once, when the report is done (or at
    the next restore for a report that could not go out at all)."""

    _FIELDS = ("seq", "sends", "flags", "time_ms")
    __slots__ = _FIELDS

    def __init__(self, seq, sends, flags, time_ms):
        self.seq = seq
        self.sends = sends
        self.flags = flags
        self.time_ms = time_ms

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _int(self.sends, U8, "sends")
        _int(self.flags, U8, "flags")
        _need((self.sends == 0) == bool(self.flags & REPORT_NOT_SENT), "sends vs not-sent")
        _time(self.time_ms, "time_ms")

    def sent(self):
        return self.sends > 0

    def copy(self):
        return ReportStatus(self.seq, self.sends, self.flags, self.time_ms)


class TerminalOpen(CoverOpen):
    """The open half of a terminal-cover-open record: the cover's record in a page of its own
    kind. Merged records (copy, with_close) come back as CoverOpen: the same 60-byte record."""

    __slots__ = ()


class TerminalClose(CoverClose):
    """The close half of a terminal-cover-open record."""

    __slots__ = ()


class TerminalReport(ReportStatus):
    """Whether a terminal-cover-open record's active report went out."""

    __slots__ = ()


class EventClear(_Record):
    """One event clear (DL/T 645 function 1B), written once in its own page.

    It keeps what the standard's event-clear record holds (time, operator code, the DI cleared)
    and what makes a clear leave a trace: the all-time totals when it happened and the
    baselines after it. A log's standard count is its all-time total minus its baseline, and
    only records above the baseline are shown under the standard DIs; nothing is erased. Every
    clear carries both baselines (the one it did not change copied from the clear before), so
    the newest clear alone says how every log reads.
    """

    _FIELDS = (
        "seq",
        "time_ms",
        "time_quality",
        "operator",
        "di",
        "cover_total",
        "cover_base",
        "pd_total",
        "pd_base",
        "terminal_total",
        "terminal_base",
    )
    __slots__ = _FIELDS

    def __init__(
        self,
        seq,
        time_ms,
        time_quality,
        operator,
        di,
        cover_total=0,
        cover_base=0,
        pd_total=0,
        pd_base=0,
        terminal_total=0,
        terminal_base=0,
    ):
        self.seq = seq
        self.time_ms = time_ms
        self.time_quality = time_quality
        self.operator = operator  # the 4 operator-code bytes as received, little-endian int
        self.di = di
        self.cover_total = cover_total
        self.cover_base = cover_base
        self.pd_total = pd_total
        self.pd_base = pd_base
        # The terminal cover's log likewise (0, 0 in a clear written before it had one).
        self.terminal_total = terminal_total
        self.terminal_base = terminal_base

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _time(self.time_ms, "time_ms")
        _quality(self.time_quality, "time_quality")
        _int(self.operator, U32, "operator")
        _int(self.di, U32, "di")
        _int(self.cover_total, U32, "cover_total")
        _int(self.cover_base, U32, "cover_base")
        _int(self.pd_total, U32, "pd_total")
        _int(self.pd_base, U32, "pd_base")
        _need(self.cover_base <= self.cover_total, "cover_base above cover_total")
        _need(self.pd_base <= self.pd_total, "pd_base above pd_total")
        _int(self.terminal_total, U32, "terminal_total")
        _int(self.terminal_base, U32, "terminal_base")
        _need(self.terminal_base <= self.terminal_total, "terminal_base above terminal_total")

    def copy(self):
        return EventClear(
            self.seq,
            self.time_ms,
            self.time_quality,
            self.operator,
            self.di,
            self.cover_total,
            self.cover_base,
            self.pd_total,
            self.pd_base,
            self.terminal_total,
            self.terminal_base,
        )

    def operator_bytes(self):
        """The operator code C0 C1 C2 C3 as it came on the wire."""
        return self.operator.to_bytes(4, "little")

    def standard_bytes(self):
        """The 14-byte DL/T 645 event-clear record: time6, operator code (4), DI cleared (4, DI0
        first), each as on the wire before +33h."""
        return bcd_time6(self.time_ms) + self.operator_bytes() + self.di.to_bytes(4, "little")


class DailyFreeze(_Record):
    """The energy registers frozen at a local midnight (DL/T 645's daily freeze), written once.

    time_ms is the midnight it belongs to. quality: EXACT when frozen at that midnight on mains;
    DEFERRED when made up later for a midnight the meter missed (it was off, or busy): the
    registers are then those of the moment it was made up, which equal the midnight's when no
    energy flowed in between (the meter was off); UNSYNCED when the RTC had lost its time.
    """

    _FIELDS = ("seq", "quality", "time_ms", "import_units", "export_units")
    __slots__ = _FIELDS

    def __init__(self, seq, quality, time_ms, import_units, export_units):
        self.seq = seq
        self.quality = quality
        self.time_ms = time_ms
        self.import_units = import_units
        self.export_units = export_units

    def check(self):
        _int(self.seq, U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _quality(self.quality, "quality")
        _time(self.time_ms, "time_ms")
        _int(self.import_units, U48, "import_units")
        _int(self.export_units, U48, "export_units")

    def copy(self):
        return DailyFreeze(self.seq, self.quality, self.time_ms, self.import_units,
                           self.export_units)
