"""The meter's authority journal: every change of its clock, and its wrong-key lockout, in NVM.

Owns NVM pages 164..187 and what they hold:

    pages 164..174  time-setting log, slots 0..10 (an authorised time set, one page each)
    pages 175..185  broadcast-time log, slots 0..10 (an accepted broadcast time, one page each)
    pages 186, 187  the lockout counter, copies A and B (alternating; the higher gen wins)

and the rules of the lockout: wrong passwords and failed security checks are counted; after
`max_tries` the meter refuses every password and key until `period_s` seconds of its own
running (a monotonic count that no clock setting moves) have passed since the lock; the count
and what remains of the period live in NVM, so a restart does not reset them. Time spent
powered between the last write of the counter and a restart is not subtracted: a lock is never
shorter than stated, only sometimes longer.

The clock changes are evidence of how far a record's time can be trusted, so on a meter with
the record chain each takes its place in it (AuthJournal's `chain`, the record journal's
Journal.chained): its page carries the chain trailer before the CRC, and it decodes either way.

Same rules as journal.py: one page per operation, a record N only overwrites N - 11, a page is
tag | little-endian fields | CRC-32, and anything that does not decode is skipped. The journal
hands out (addr, data) writes and learns of them only when told they committed. It knows
nothing of frames, DIs, sessions or the HAL. Runs under MicroPython.
"""

from meterseal.firmware.caltime import MS_PER_DAY, civil_from_days, ms_from_civil
from meterseal.firmware.compat import const
from meterseal.firmware.crc import crc32, page_crc_ok
from meterseal.firmware.layout import ERASED_PAGE, PAGE_SIZE, RING, SLOTS, TRAILER_SIZE

TIME_SET_BASE_PAGE = const(164)
BROADCAST_BASE_PAGE = const(175)
LOCKOUT_PAGE_A = const(186)
LOCKOUT_PAGE_B = const(187)

TAG_TIME_SET = const(0x7A)
TAG_BROADCAST = const(0x7B)
TAG_LOCKOUT = const(0x7C)

KIND_TIME_SET = const(0)
KIND_BROADCAST = const(1)

_U32 = 0xFFFFFFFF
_U48 = 0xFFFFFFFFFFFF
_HALF = 0x80000000


class ClockChange:
    """One accepted change of the meter's clock: who (operator code, 4 bytes as a little-endian
    int; 0 for a broadcast), the clock before (and whether it was valid) and after, and the
    broadcast-time total when it happened (so a reader knows whether broadcasts moved the clock
    after the latest authorised set)."""

    __slots__ = ("after_ms", "before_ms", "before_valid", "broadcasts", "kind", "operator", "seq")
    FIELDS = (
        ("seq", 4),
        ("operator", 4),
        ("before_ms", 6),
        ("after_ms", 6),
        ("before_valid", 1),
        ("broadcasts", 4),
    )

    def __init__(self, kind, seq, operator, before_ms, after_ms, before_valid=1, broadcasts=0):
        self.kind = kind
        self.seq = seq
        self.operator = operator
        self.before_ms = before_ms
        self.after_ms = after_ms
        self.before_valid = before_valid
        self.broadcasts = broadcasts

    def check(self):
        _need(self.kind in (KIND_TIME_SET, KIND_BROADCAST), "kind")
        _int(self.seq, _U32, "seq")
        _need(self.seq >= 1, "seq starts at 1")
        _int(self.operator, _U32, "operator")
        _int(self.before_ms, _U48, "before_ms")
        _int(self.after_ms, _U48, "after_ms")
        _int(self.before_valid, 1, "before_valid")
        _int(self.broadcasts, _U32, "broadcasts")

    def as_tuple(self):
        out = [self.kind]
        for field in self.FIELDS:
            out.append(getattr(self, field[0]))
        return tuple(out)

    def __eq__(self, other):
        return isinstance(other, ClockChange) and other.as_tuple() == self.as_tuple()

    def __repr__(self):
        return "ClockChange" + repr(self.as_tuple())


class TimeSetChange(ClockChange):
    """A page of the time-setting log: the record journal's chain covers it (pagecodec.py)."""

    __slots__ = ()

    def __init__(self, seq, operator, before_ms, after_ms, before_valid=1, broadcasts=0):
        ClockChange.__init__(self, KIND_TIME_SET, seq, operator, before_ms, after_ms,
                             before_valid, broadcasts)


class BroadcastChange(ClockChange):
    """A page of the broadcast-time log, chained as TimeSetChange."""

    __slots__ = ()

    def __init__(self, seq, operator, before_ms, after_ms, before_valid=1, broadcasts=0):
        ClockChange.__init__(self, KIND_BROADCAST, seq, operator, before_ms, after_ms,
                             before_valid, broadcasts)


def clock_change(kind, seq, operator, before_ms, after_ms, before_valid=1, broadcasts=0):
    """The ClockChange of that kind, as the class its log's pages decode to."""
    cls = TimeSetChange if kind == KIND_TIME_SET else BroadcastChange
    return cls(seq, operator, before_ms, after_ms, before_valid, broadcasts)


class LockoutState:
    """The lockout counter: its generation, the wrong tries in the current window, the seconds of
    running left in that window (or in the lock), and every failure ever (never reset)."""

    __slots__ = ("failures", "gen", "remaining_s", "total")
    FIELDS = (("gen", 4), ("failures", 1), ("remaining_s", 4), ("total", 4))

    def __init__(self, gen=0, failures=0, remaining_s=0, total=0):
        self.gen = gen
        self.failures = failures
        self.remaining_s = remaining_s
        self.total = total

    def check(self):
        _int(self.gen, _U32, "gen")
        _int(self.failures, 0xFF, "failures")
        _int(self.remaining_s, _U32, "remaining_s")
        _int(self.total, _U32, "total")

    def copy(self):
        return LockoutState(self.gen, self.failures, self.remaining_s, self.total)

    def as_tuple(self):
        return (self.gen, self.failures, self.remaining_s, self.total)

    def __eq__(self, other):
        return type(other) is LockoutState and other.as_tuple() == self.as_tuple()

    def __repr__(self):
        return "LockoutState" + repr(self.as_tuple())


# --- the lockout rules (pure) ----------------------------------------------------------------


def is_locked(state, max_tries):
    """Does the meter refuse every password and key now?"""
    return state.failures >= max_tries and state.remaining_s > 0


def after_running(state, elapsed_s):
    """The state after `elapsed_s` more seconds of running (not of clock: of the meter's own
    monotonic time). A window or lock that runs out forgets its failures."""
    s = state.copy()
    if elapsed_s <= 0:
        return s
    if elapsed_s >= s.remaining_s:
        s.remaining_s = 0
        s.failures = 0
    else:
        s.remaining_s -= elapsed_s
    return s


def after_failure(state, max_tries, period_s):
    """The state after one more wrong password or failed security check. The first failure
    opens a window of `period_s`; reaching `max_tries` locks for a full `period_s` from now; a
    failure while locked is counted in the total and changes nothing else."""
    s = state.copy()
    s.total = min(_U32, s.total + 1)
    if is_locked(s, max_tries):
        return s
    if s.failures == 0 or s.remaining_s == 0:
        s.failures = 0
        s.remaining_s = period_s
    s.failures = min(0xFF, s.failures + 1)
    if s.failures >= max_tries:
        s.remaining_s = period_s
    return s


# --- the broadcast-time rules (pure) ----------------------------------------------------------

BROADCAST_WINDOW_MS = const(300000)  # 5 min: the largest step, and the guard around instants

BC_ACCEPTED = const(0)
BC_CLOCK_INVALID = const(1)
BC_TOO_FAR = const(2)
BC_ALREADY_TODAY = const(3)
BC_NEAR_MIDNIGHT = const(4)
BC_NEAR_SETTLEMENT = const(5)
BC_REASONS = (
    "accepted",
    "the meter's clock has lost its time: only an authorised time set can fix it",
    "it differs from the meter's clock by 5 min or more",
    "a broadcast time was already accepted on this calendar day",
    "within 5 min of midnight",
    "within 5 min of a settlement instant",
)


def broadcast_verdict(now_ms, valid, target_ms, last_ms, settle_day, settle_hour):
    """BC_ACCEPTED, or why a broadcast time `target_ms` must be refused by a meter whose clock
    reads `now_ms` (`valid`: it has not lost its time), whose latest accepted broadcast set it to
    `last_ms` (None: never), and which settles on day `settle_day` (1..28) at `settle_hour`."""
    if not valid:
        return BC_CLOCK_INVALID
    if target_ms - now_ms >= BROADCAST_WINDOW_MS or now_ms - target_ms >= BROADCAST_WINDOW_MS:
        return BC_TOO_FAR
    if last_ms is not None:
        last_day = last_ms // MS_PER_DAY
        if now_ms // MS_PER_DAY == last_day or target_ms // MS_PER_DAY == last_day:
            return BC_ALREADY_TODAY
    for t in (now_ms, target_ms):
        in_day = t % MS_PER_DAY
        if in_day < BROADCAST_WINDOW_MS or MS_PER_DAY - in_day <= BROADCAST_WINDOW_MS:
            return BC_NEAR_MIDNIGHT
        if near_settlement(t, settle_day, settle_hour):
            return BC_NEAR_SETTLEMENT
    return BC_ACCEPTED


def near_settlement(t_ms, settle_day, settle_hour):
    """Is t_ms within 5 min of a settlement instant (day `settle_day` of a month, at
    `settle_hour`:00)? Checks the instants of t's month and of the months either side."""
    y, m, _d = civil_from_days(t_ms // MS_PER_DAY)
    for dm in (-1, 0, 1):
        mm = m + dm
        yy = y
        if mm < 1:
            mm += 12
            yy -= 1
        elif mm > 12:
            mm -= 12
            yy += 1
        if yy < 2000 or yy > 2099:
            continue
        instant = ms_from_civil(yy, mm, settle_day, settle_hour, 0, 0)
        if -BROADCAST_WINDOW_MS < t_ms - instant < BROADCAST_WINDOW_MS:
            return True
    return False


# --- addresses --------------------------------------------------------------------------------


def time_set_addr(seq):
    return (TIME_SET_BASE_PAGE + seq % SLOTS) * PAGE_SIZE


def broadcast_addr(seq):
    return (BROADCAST_BASE_PAGE + seq % SLOTS) * PAGE_SIZE


def lockout_addr(copy):
    return (LOCKOUT_PAGE_A + copy) * PAGE_SIZE


def change_addr(kind, seq):
    return time_set_addr(seq) if kind == KIND_TIME_SET else broadcast_addr(seq)


# --- page codec ---------------------------------------------------------------------------------


def encode_page(rec):
    """Page bytes of a ClockChange or a LockoutState; ValueError when a field is out of range."""
    rec.check()
    if isinstance(rec, ClockChange):
        tag = TAG_TIME_SET if rec.kind == KIND_TIME_SET else TAG_BROADCAST
    elif type(rec) is LockoutState:
        tag = TAG_LOCKOUT
    else:
        raise ValueError("not an authority-journal record")
    buf = bytearray((tag,))
    for name, width in rec.FIELDS:
        buf.extend(getattr(rec, name).to_bytes(width, "little"))
    buf.extend(crc32(buf).to_bytes(4, "little"))
    return bytes(buf)


def page_len(tag):
    fields = LockoutState.FIELDS if tag == TAG_LOCKOUT else ClockChange.FIELDS
    n = 5
    for _name, width in fields:
        n += width
    return n


def decode_page(data):
    """The record in `data`, or None when erased, torn, garbage or inconsistent. Never raises."""
    try:
        return _decode(data)
    except Exception:  # total by contract
        return None


def _decode(data):
    if len(data) < 1 or data[0] not in (TAG_TIME_SET, TAG_BROADCAST, TAG_LOCKOUT):
        return None
    tag = data[0]
    n = page_len(tag)
    if len(data) < n:
        return None
    if tag != TAG_LOCKOUT and page_crc_ok(data, n + TRAILER_SIZE):
        pass  # a clock change chained by the record journal: its trailer sits before the CRC
    elif not page_crc_ok(data, n):
        return None
    body = bytes(data[: n - 4])
    fields = LockoutState.FIELDS if tag == TAG_LOCKOUT else ClockChange.FIELDS
    values = []
    pos = 1
    for _name, width in fields:
        values.append(int.from_bytes(body[pos : pos + width], "little"))
        pos += width
    if tag == TAG_LOCKOUT:
        rec = LockoutState(*values)
    else:
        kind = KIND_TIME_SET if tag == TAG_TIME_SET else KIND_BROADCAST
        rec = clock_change(kind, *values)
    rec.check()
    return rec


# --- the index and the journal ----------------------------------------------------------------



class AuthIndex:
    """Valid pages of the authority journal by slot."""

    __slots__ = ("broadcasts", "lockouts", "time_sets")

    def __init__(self):
        self.time_sets = [None] * SLOTS
        self.broadcasts = [None] * SLOTS
        self.lockouts = [None, None]

    def load(self, read):
        """Fill this new index from the authority journal's pages read through read(addr, n)."""
        for slot in range(SLOTS):  # a whole page: a chained one ends past page_len
            self._load_raw(time_set_addr(slot), read(time_set_addr(slot), PAGE_SIZE))
            self._load_raw(broadcast_addr(slot), read(broadcast_addr(slot), PAGE_SIZE))
        for copy in (0, 1):
            self._load_raw(lockout_addr(copy), read(lockout_addr(copy), page_len(TAG_LOCKOUT)))

    def _load_raw(self, addr, data):
        # An erased page (most of them, on a meter nobody has set the time of) indexes nothing in
        # a new index.
        if data != ERASED_PAGE[: len(data)]:
            self.put(addr, data)

    def put(self, addr, data):
        rec = decode_page(data)
        if rec is None or not self.apply(addr, rec):
            where = _locate(addr)
            if where is not None:
                getattr(self, where[0])[where[1]] = None

    def apply(self, addr, rec):
        where = _locate(addr)
        if where is None:
            return False
        name, i, tag = where
        table = getattr(self, name)
        if tag == TAG_LOCKOUT:
            if type(rec) is not LockoutState:
                return False
        elif not isinstance(rec, ClockChange) or rec.seq % SLOTS != i:
            return False
        elif (rec.kind == KIND_TIME_SET) != (tag == TAG_TIME_SET):
            return False
        table[i] = rec
        return True

    def _table(self, kind):
        return self.time_sets if kind == KIND_TIME_SET else self.broadcasts

    def total(self, kind):
        top = 0
        for rec in self._table(kind):
            if rec is not None and rec.seq > top:
                top = rec.seq
        return top

    def change(self, kind, seq):
        if seq < 1:
            return None
        rec = self._table(kind)[seq % SLOTS]
        return rec if rec is not None and rec.seq == seq else None

    def changes(self, kind):
        """The latest RING records of that kind, newest first (holes skipped)."""
        out = []
        top = self.total(kind)
        seq = top
        while seq >= 1 and seq > top - RING:
            rec = self.change(kind, seq)
            if rec is not None:
                out.append(rec)
            seq -= 1
        return out

    def latest_lockout_copy(self):
        a, b = self.lockouts
        if a is None:
            return None if b is None else 1
        if b is None:
            return 0
        newer = b.gen != a.gen and ((b.gen - a.gen) & _U32) < _HALF
        return 1 if newer else 0

    def lockout(self):
        c = self.latest_lockout_copy()
        return LockoutState() if c is None else self.lockouts[c].copy()

    def moved_by_broadcast(self):
        """Has a broadcast moved the clock since the latest authorised time set (or since the
        meter was made, if it was never set)? Then its clock is not to be trusted as exact."""
        broadcasts = self.total(KIND_BROADCAST)
        latest = self.change(KIND_TIME_SET, self.total(KIND_TIME_SET))
        return broadcasts > (0 if latest is None else latest.broadcasts)


class AuthJournal:
    """Hands out the page writes of the authority journal. Call recover() first."""

    __slots__ = ("_chain", "_gen_issued", "_index", "_issued", "_next_copy", "_read")

    def __init__(self, read, chain=None):
        # chain(addr, rec) -> (addr, page bytes): the record journal's chain (Journal.chained),
        # which gives a clock change its trailer and MAC; None writes plain pages.
        self._chain = chain
        self._read = read
        self._index = AuthIndex()
        self._issued = [0, 0]
        self._gen_issued = 0
        self._next_copy = 0

    def recover(self):
        ix = AuthIndex()
        ix.load(self._read)
        self._index = ix
        self._issued = [ix.total(KIND_TIME_SET), ix.total(KIND_BROADCAST)]
        latest = ix.latest_lockout_copy()
        if latest is None:
            self._gen_issued = 0
            self._next_copy = 0
        else:
            self._gen_issued = ix.lockouts[latest].gen
            self._next_copy = 1 - latest

    @property
    def index(self):
        return self._index

    def clock_change(self, kind, operator, before_ms, after_ms, before_valid):
        """Write of the next record of that kind (a time set or a broadcast)."""
        seq = max(self._index.total(kind), self._issued[kind]) + 1
        rec = clock_change(
            kind, seq, operator, before_ms, after_ms, 1 if before_valid else 0,
            self._index.total(KIND_BROADCAST),
        )
        addr = change_addr(kind, seq)
        if self._chain is None:
            data = encode_page(rec)
        else:
            data = self._chain(addr, rec)[1]
        self._issued[kind] = seq
        return addr, data

    def lockout(self, state):
        """Write of a new lockout state (gen assigned in place), to the copy not written last."""
        state.gen = (self._gen_issued + 1) & _U32
        data = encode_page(state)
        copy = self._next_copy
        self._gen_issued = state.gen
        self._next_copy = 1 - copy
        return lockout_addr(copy), data

    def committed(self, addr, data):
        rec = decode_page(data)
        if rec is None or not self._index.apply(addr, rec):
            raise ValueError("not an authority-journal page for this address")


def decode_auth(image):
    """The AuthIndex of a full NVM image (bytes); never raises."""
    ix = AuthIndex()
    mv = bytes(image)

    def read(addr, n):
        return mv[addr : addr + n]

    ix.load(read)
    return ix


def _locate(addr):
    """(AuthIndex attribute, index, tag) of the authority page at addr, or None."""
    if addr < 0 or addr % PAGE_SIZE:
        return None
    page = addr // PAGE_SIZE
    rel = page - TIME_SET_BASE_PAGE
    if 0 <= rel < SLOTS:
        return "time_sets", rel, TAG_TIME_SET
    rel = page - BROADCAST_BASE_PAGE
    if 0 <= rel < SLOTS:
        return "broadcasts", rel, TAG_BROADCAST
    rel = page - LOCKOUT_PAGE_A
    if 0 <= rel < 2:
        return "lockouts", rel, TAG_LOCKOUT
    return None



def _need(ok, what):
    if not ok:
        raise ValueError(what)


def _int(v, hi, what):
    _need(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= hi, what)
