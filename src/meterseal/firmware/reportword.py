"""The standard active-report path's words: the mode word, the status word and what resets it.

Owns NVM pages 500 and 501 (two copies of one report page, alternating; the valid copy with the
newer gen wins) and what they hold: the active-report mode word (8 bytes, a bit per event type
whose report is enabled) and, per event type, the all-time total the head-end has acknowledged
by resetting its status bit. Owns the rules that turn those and the journal's totals into the
status word: a status bit is set once the journal holds an event of its type newer than the
acknowledged total (so it is set the moment the record commits, on mains or on backup, at no
extra page write), only while its report is enabled, and stays set until a reset.

A power-down's report is held back, as field meters do, unless the meter had at least an hour of
supply before it: the hour is measured from the previous power-down's end to this one's start.

Same page rules as journal.py and authlog.py: tag | little-endian fields | CRC-32, anything that
does not decode is no page. It knows nothing of frames, DIs, sessions or the HAL, and hands out
(addr, data) writes it learns of only when told they committed. Runs under MicroPython.

The bit numbers are the State Grid single-phase meter's (docs/dlt645.md gives the sources); the
two words number events differently past bit 15: the 64-bit mode word has one 16-bit group for
the phase events, the 96-bit status word one per phase, so the power-down is bit 37 of the mode
word and bit 69 of the status word. They live here only.
"""

from meterseal.firmware.compat import const
from meterseal.firmware.crc import crc32
from meterseal.firmware.layout import PAGE_SIZE

REPORT_PAGE_A = const(500)
REPORT_PAGE_B = const(501)
TAG_REPORT_WORD = const(0x5A)

MODE_BYTES = const(8)
STATUS_BYTES = const(12)

# The same in both words.
BIT_COVER_OPEN = const(10)
BIT_TERMINAL_COVER_OPEN = const(11)
MODE_BIT_POWER_DOWN = const(37)
STATUS_BIT_POWER_DOWN = const(69)

# Run-status word 7 (04 00 05 07): set while the cover is open, also in low power.
RUN7_COVER_OPEN = const(8)
RUN7_TERMINAL_COVER_OPEN = const(9)

# A power-down is reported only after this much supply before it (field rule).
REPORT_SUPPLY_MS = const(3600000)

DEFAULT_MODE = (1 << BIT_COVER_OPEN) | (1 << BIT_TERMINAL_COVER_OPEN) | (1 << MODE_BIT_POWER_DOWN)

_U32 = 0xFFFFFFFF
_HALF = 0x80000000
_FIELDS = (("gen", 4), ("mode", MODE_BYTES), ("cover_acked", 4), ("pd_acked", 4))
PAGE_LEN = const(1 + 4 + 8 + 4 + 4 + 4)


class ReportWord:
    """The report page: its gen, the mode word (an int of 64 bits), and the all-time cover-open
    and power-down totals acknowledged by the latest reset."""

    __slots__ = ("cover_acked", "gen", "mode", "pd_acked")

    def __init__(self, gen=0, mode=DEFAULT_MODE, cover_acked=0, pd_acked=0):
        self.gen = gen
        self.mode = mode
        self.cover_acked = cover_acked
        self.pd_acked = pd_acked

    def check(self):
        for name, width in _FIELDS:
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0 or v >> (8 * width):
                raise ValueError(name + " out of range")

    def copy(self):
        return ReportWord(self.gen, self.mode, self.cover_acked, self.pd_acked)

    def as_tuple(self):
        return (self.gen, self.mode, self.cover_acked, self.pd_acked)

    def __eq__(self, other):
        return type(other) is ReportWord and other.as_tuple() == self.as_tuple()

    def __repr__(self):
        return "ReportWord" + repr(self.as_tuple())


def report_addr(copy):
    return (REPORT_PAGE_A + copy) * PAGE_SIZE


def encode_page(word):
    word.check()
    buf = bytearray((TAG_REPORT_WORD,))
    for name, width in _FIELDS:
        buf.extend(getattr(word, name).to_bytes(width, "little"))
    buf.extend(crc32(buf).to_bytes(4, "little"))
    return bytes(buf)


def decode_page(data):
    """The ReportWord in `data`, or None when erased, torn or garbage. Never raises."""
    try:
        if len(data) < PAGE_LEN or data[0] != TAG_REPORT_WORD:
            return None
        body = bytes(data[: PAGE_LEN - 4])
        if crc32(body) != int.from_bytes(bytes(data[PAGE_LEN - 4 : PAGE_LEN]), "little"):
            return None
        values = []
        pos = 1
        for _name, width in _FIELDS:
            values.append(int.from_bytes(body[pos : pos + width], "little"))
            pos += width
        return ReportWord(*values)
    except Exception:  # total by contract
        return None


def _newer(a, b):
    return a.gen != b.gen and ((a.gen - b.gen) & _U32) < _HALF


class ReportJournal:
    """Hands out the report page's writes (alternating copies). Call recover() first."""

    __slots__ = ("_next_copy", "_read", "_word")

    def __init__(self, read):
        self._read = read
        self._word = ReportWord()
        self._next_copy = 0

    def recover(self):
        a = decode_page(self._read(report_addr(0), PAGE_LEN))
        b = decode_page(self._read(report_addr(1), PAGE_LEN))
        if a is None and b is None:
            self._word, self._next_copy = ReportWord(), 0
        elif b is None or (a is not None and not _newer(b, a)):
            self._word, self._next_copy = a, 1
        else:
            self._word, self._next_copy = b, 0

    @property
    def word(self):
        return self._word.copy()

    def save(self, word):
        """The write of `word` (gen assigned in place) to the copy not written last."""
        word.gen = (self._word.gen + 1) & _U32
        return report_addr(self._next_copy), encode_page(word)

    def committed(self, addr, data):
        word = decode_page(data)
        if word is None or addr not in (report_addr(0), report_addr(1)):
            raise ValueError("not a report page for this address")
        self._word = word
        self._next_copy = 1 if addr == report_addr(0) else 0


# --- the status word (pure) -------------------------------------------------------------------


def pd_reportable(power_downs, seq):
    """Does the power-down `seq` earn a report: had the meter an hour of supply before it?
    `power_downs` the held records, newest first. Without the previous record (the first ever, or
    one that left the ring) the supply before it is not on record: it is reported."""
    this = None
    prev = None
    for rec in power_downs:
        if rec.seq == seq:
            this = rec
        elif rec.seq == seq - 1:
            prev = rec
    if this is None:
        return False
    if prev is None or not prev.ended:
        return prev is None
    return this.start_ms - prev.end_ms >= REPORT_SUPPLY_MS


def status_bits(word, cover_total, power_downs, pd_total):
    """The status word (an int of 96 bits) for the report page `word` and the journal's
    all-time totals and held power-down records (newest first)."""
    bits = 0
    mode = word.mode
    if cover_total > word.cover_acked and mode >> BIT_COVER_OPEN & 1:
        bits |= 1 << BIT_COVER_OPEN
    if mode >> MODE_BIT_POWER_DOWN & 1:
        # Older ones than the ring holds have nothing on record to judge them by.
        for seq in range(pd_total, max(word.pd_acked, pd_total - 10), -1):
            if pd_reportable(power_downs, seq):
                bits |= 1 << STATUS_BIT_POWER_DOWN
                break
    return bits


def after_reset(word, reset_bits, cover_total, pd_total):
    """The report page after a reset of the status bits set in `reset_bits`: each acknowledges
    its event type up to the all-time total now."""
    new = word.copy()
    if reset_bits >> BIT_COVER_OPEN & 1:
        new.cover_acked = cover_total
    if reset_bits >> STATUS_BIT_POWER_DOWN & 1:
        new.pd_acked = pd_total
    return new


def run_status7(cover_open, terminal_cover_open):
    """Run-status word 7 as an int of 16 bits."""
    word = 0
    if cover_open:
        word |= 1 << RUN7_COVER_OPEN
    if terminal_cover_open:
        word |= 1 << RUN7_TERMINAL_COVER_OPEN
    return word


def open_time_ms(covers, now_ms):
    """(openings summed, total ms open) over the held cover-open records: a closed one counts
    from its opening to its closing, one still open up to `now_ms`."""
    n = 0
    total = 0
    for rec in covers:
        end = rec.closed_ms if rec.closed else now_ms
        if end > rec.opened_ms:
            total += end - rec.opened_ms
        n += 1
    return n, total
