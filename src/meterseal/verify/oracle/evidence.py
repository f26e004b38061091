"""The evidence of one run: what the meter recorded, when, and which true opening each record is.

Owns the facts every check reads, built once from (scenario, RunLog): the NVM's history decoded,
every cover-open record ever committed with the instant each half first appeared, the matching of
records to true openings, which openings the hardware could not tell apart, and a verdict per
opening (recorded, undetectable with a cause, or missed). It reads records only by decoding the
kernel's log of NVM writes and retained RAM, never the firmware's objects, and it judges nothing:
the checks (checks.py) turn these facts into problems.

Matching, in two passes. First each record, in the order the meter made them, takes the true
opening it dates within tolerance (the rank in ``_strict_rank``). Then a record left over is
attributed to the opening nearest its claim among those that would otherwise be missed (surely
observable, unrecorded, and before the record was committed): the meter surely saw that opening
and wrote this record for it, so the record is real and its time is not, which is I3's (time
honesty) to judge, and the opening is not missed. A record left over after that is false (I1),
and an opening nobody could observe stays undetectable: a record is never explained by an
opening the meter could not have seen.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from meterseal.firmware.image import Index, decode_image
from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.pagemap import (
    GROUP_COVER,
    GROUP_FREEZE,
    GROUP_POWER_DOWN,
    GROUP_REPORT,
    GROUP_TERMINAL,
    page_group,
)
from meterseal.firmware.pending import COVER, TERMINAL, PendingEntry, decode_pending
from meterseal.firmware.pending import OPEN as PENDING_OPEN
from meterseal.firmware.records import BOUNDED, DEFERRED, EXACT, CoverOpen
from meterseal.firmware.report import REPORT_COVER_OPEN, REPORT_TERMINAL_COVER_OPEN
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario
from meterseal.verify.oracle.observe import BoardTimeline, observable
from meterseal.verify.oracle.tolerances import CLOCK_ROUNDING_US, Tolerances, tolerances

Rank = float | int | tuple[int, int]
HELD_CAUSE = ("the switch was held pressed while the cover was off: nothing electrical can see "
              "that")
NO_SWITCH_CAUSE = ("the board has no terminal-cover switch (terminal_cover.present = false): "
                   "nothing can see the terminal cover")
# What the checks call a channel's records, and the active-report kind that claims them.
CHANNEL_NAMES = {COVER: "cover", TERMINAL: "terminal cover"}
REPORT_KINDS = {COVER: REPORT_COVER_OPEN, TERMINAL: REPORT_TERMINAL_COVER_OPEN}
# page_group of a write's address, asked of every write at every replay: the addresses are a
# chip's, so the answers are few and kept.
group_of_addr: Callable[[int], str | None] = functools.lru_cache(maxsize=None)(page_group)
# A run of at most this many page writes keeps its replayed history for the checks that walk it
# again: its snapshots share every list a write left alone, so they cost little then. A longer
# run is replayed at each walk, its memory that of one image.
KEEP_HISTORY_WRITES = 10_000



@dataclass(frozen=True, slots=True)
class Verdict:
    truth: int
    status: str  # recorded | undetectable | missed
    record: int | None
    time_error_s: float | None
    cause: str | None = None


@dataclass(slots=True)
class Evidence:
    sc: Scenario
    log: RunLog
    tol: Tolerances
    truths: list[tuple[int, int | None]]  # (opened, closed) of each true operation, µs
    held: list[bool]  # the switch held pressed through that operation: the pin never moved
    final: MeterImage
    records: dict[int, CoverOpen]  # every record ever committed, by seq (first form of each half)
    commit_us: dict[int, int]  # when each record's open half first appeared in the NVM
    close_commit_us: dict[int, int]
    rec_truth: dict[int, int] = field(default_factory=dict)  # seq -> truth, in seq order
    unmatched: list[int] = field(default_factory=list)  # seqs of records no opening explains
    group_of: dict[int, list[int]] = field(default_factory=dict)  # truths not told apart
    verdicts: list[Verdict] = field(default_factory=list)
    pending_closes: set[int] = field(default_factory=set)  # closings the run ended before writing
    # (t, cover total, power-down total) at each snapshot of the history where either changed
    # (from 0, 0): the history's totals, for I4, without replaying it again.
    totals: list[tuple[int, int, int]] = field(default_factory=list)
    kept: list[tuple[int, MeterImage]] | None = None  # the history, when short (above)
    # Whose switch and records these are: the meter cover's (COVER) or the terminal cover's. The
    # checks are the same for both; each judges its own truth against its own log.
    channel: int = COVER
    board: BoardTimeline = field(init=False)
    opens: list[int] = field(init=False)  # the true openings' instants, in order

    noise: list[tuple[int, int]] = field(init=False)  # false excursions of the pin (glitches)
    noise_us: int = field(init=False)  # the longest lateness glitches can cause anywhere

    def __post_init__(self) -> None:
        self.board = BoardTimeline.of(self.log)
        self.opens = [o for o, _c in self.truths]
        # Glitch faults are injected on the meter cover's pin only.
        self.noise = sorted(g for f in self.sc.faults for g in f.glitches()
                            if self.channel == COVER)
        self.noise_us = max((self.late_us(a) for a, _b in self.noise), default=0)

    def late_us(self, t: int) -> int:
        """How late glitches around a true transition at t can make its stamp: the debouncer
        restarts at every false sample, so a change is accepted only a debounce after the
        last glitch that overlaps it (and dated by the first sample of that last run)."""
        need = self.tol.need_us
        ends = [b for a, b in self.noise if a <= t + need and b >= t - self.tol.sample_us]
        return max(0, max(ends) - t + self.tol.sample_us) if ends else 0

    def stamp_us(self, t: int) -> int:
        """How far a seen change's stamp may be from the true instant t, the clock aside."""
        return self.tol.stamp_us + self.late_us(t)

    @property
    def end_us(self) -> int:
        return self.sc.duration_us

    def true_us(self, local_ms: int) -> int:
        """The simulation instant a meter time stands for, had its clock never drifted."""
        return (local_ms - self.log.start_local_ms) * 1000

    def rtc_invalid_at(self, t_us: int) -> bool:
        return any(a <= t_us <= b for a, b in self.log.rtc_invalid)

    def rtc_stopped_before(self, t_us: int) -> bool:
        """The clock had already lost its time at ``t_us``: a reading at that instant is not
        valid (a clock stopping at ``t_us`` itself was read before it stopped, as the kernel
        orders the events of one instant)."""
        return any(a < t_us <= b for a, b in self.log.rtc_invalid)

    def observable(self, a: int, b: int | None) -> tuple[bool, str]:
        return observable(a, b, self.board, self.tol, self.end_us)

    def history(self) -> Iterator[tuple[int, MeterImage]]:
        """The NVM after every write or tear, decoded: replayed page by page from the run's
        write log each time it is walked (memory stays that of one image), unless kept."""
        if self.kept is not None:
            return iter(self.kept)
        if self.channel == COVER:
            return replay(self.log.writes)
        return (terminal_view(img) for img in replay(self.log.writes))

    @property
    def report_kind(self) -> int:
        return REPORT_KINDS[self.channel]

    def closes_seen(self, seq: int) -> list[int]:
        """True closings a record's close half may stand for: of its opening and the openings
        merged with it, before the close half was committed."""
        return self.closes_from(self.rec_truth[seq], self.close_commit_us.get(seq, self.end_us))

    def closes_from(self, i: int, until_us: int) -> list[int]:
        """The true closings of opening i and the openings grouped after it, up to until_us."""
        return [c for k in self.group_of[i] if k >= i
                for c in [self.truths[k][1]] if c is not None and c <= until_us]


def replay(writes: Iterable[tuple[int, int, bytes]]) -> Iterator[tuple[int, MeterImage]]:
    """(t, the NVM's records) after each write of a run, from an erased chip: each write changes
    only its own page, so indexing that page alone equals decoding the whole image again; and
    only the part of the image that page belongs to is rebuilt (the rest is shared with the
    image before — read it, never change it). The daily freezes are left out."""
    ix = Index()
    img = ix.image()
    for t, addr, data in writes:
        group = group_of_addr(addr)
        if group == GROUP_FREEZE:
            # No invariant reads the freezes (the run result takes them from the final image),
            # and a meter writes one every midnight: not replayed.
            continue
        ix.put(addr, data)
        img = MeterImage(
            img.cover_total, img.cover, img.power_down_total, img.power_down, img.state,
            img.clear_total, img.clears, img.cover_base, img.power_down_base, img.reports,
            img.freeze_total, img.freezes, img.terminal_cover_total, img.terminal_cover,
            img.terminal_cover_base, img.terminal_reports)
        if group == GROUP_TERMINAL:
            img.terminal_cover_total, img.terminal_cover = ix.terminal_total(), ix.terminals()
            img.terminal_reports = ix.terminal_report_statuses()
        elif group == GROUP_COVER:
            img.cover_total, img.cover = ix.cover_total(), ix.covers()
            img.reports = ix.report_statuses()
        elif group == GROUP_REPORT:
            img.reports = ix.report_statuses()
        elif group == GROUP_POWER_DOWN:
            img.power_down_total, img.power_down = ix.power_down_total(), ix.power_downs()
        elif group is not None:
            img.state = ix.state()
            img.clear_total, img.clears = ix.clear_total(), ix.event_clears()
            img.cover_base, img.power_down_base = ix.baselines()
            img.terminal_cover_base = ix.terminal_baseline()
        yield t, img


def terminal_view(snap: tuple[int, MeterImage]) -> tuple[int, MeterImage]:
    """A snapshot with the terminal cover's log where the meter cover's is (and no power-down
    log, which the meter cover's evidence judges), so every check reads it unchanged."""
    t, img = snap
    return t, _terminal_image(img)


def _terminal_image(img: MeterImage) -> MeterImage:
    return MeterImage(
        img.terminal_cover_total, img.terminal_cover, 0, [], img.state, img.clear_total,
        img.clears, img.terminal_cover_base, 0, img.terminal_reports)


def walk_history(
    snapshots: Iterable[tuple[int, MeterImage]], known: dict[int, CoverOpen]
) -> Iterator[tuple[int, MeterImage]]:
    """Each snapshot in turn; while it is looked at, ``known`` holds the records committed before
    it (each half in the form it first appeared), and it is brought up to date after."""
    for t, img in snapshots:
        yield t, img
        for r in img.cover:
            old = known.get(r.seq)
            if old is None or (r.closed and not old.closed):
                known[r.seq] = r


def build_evidence(sc: Scenario, log: RunLog, channel: int = COVER) -> Evidence:
    """The evidence of one channel: the meter cover (COVER) or the terminal cover (TERMINAL)."""
    records: dict[int, CoverOpen] = {}
    commit_us: dict[int, int] = {}
    close_commit_us: dict[int, int] = {}
    snapshots: Iterable[tuple[int, MeterImage]] = replay(log.writes)
    final = decode_image(log.final_image)
    ops = sc.cover
    if channel == TERMINAL:
        snapshots = (terminal_view(s) for s in snapshots)
        final = _terminal_image(final)
        ops = sc.terminal_cover
    kept = None
    if len(log.writes) <= KEEP_HISTORY_WRITES:
        # replay never changes an image it has yielded (each write makes a new one): a list
        # of them is the history as a later walk would replay it.
        snapshots = kept = list(snapshots)
    totals: list[tuple[int, int, int]] = []
    last = (0, 0)
    for t, img in walk_history(snapshots, records):
        if img.cover_total != last[0] or img.power_down_total != last[1]:
            last = (img.cover_total, img.power_down_total)
            totals.append((t, *last))
        for r in img.cover:
            old = records.get(r.seq)
            if old is None:
                commit_us[r.seq] = t
            if r.closed and (old is None or not old.closed):
                close_commit_us[r.seq] = t
    tol = tolerances(sc)
    # Without a switch under it, every terminal-cover operation is as invisible as a held one.
    hidden = channel == TERMINAL and not tol.terminal_switch
    ev = Evidence(sc, log, tol, [(op.open_us, op.close_us) for op in ops],
                  [op.held or hidden for op in ops], final, records, commit_us, close_commit_us,
                  channel=channel, totals=totals, kept=kept)
    _group(ev)
    _match(ev)
    ev.verdicts = _verdicts(ev, {i: seq for seq, i in ev.rec_truth.items()})
    ev.pending_closes = _pending_closes(log, channel)
    return ev


# ---------------------------------------------------------------------- matching


def _match(ev: Evidence) -> None:
    matched: dict[int, int] = {}  # truth -> seq
    for seq in sorted(ev.records):
        i = _best(ev, seq, matched, _strict_rank, _window(ev, seq, matched))
        if i is None:
            ev.unmatched.append(seq)
        else:
            matched[i] = seq
    if ev.unmatched:
        missed = [v.truth for v in _verdicts(ev, matched) if v.status == "missed"]
        for seq in list(ev.unmatched):
            i = _best(ev, seq, matched, _claim_distance, missed)
            if i is not None:
                matched[i] = seq
                ev.unmatched.remove(seq)
    ev.rec_truth = {seq: i for i, seq in sorted(matched.items(), key=lambda kv: kv[1])}


RankFn = Callable[[Evidence, CoverOpen, int, int | None, int], Rank | None]


def _window(ev: Evidence, seq: int, matched: dict[int, int]) -> Iterable[int]:
    """The true openings a record can date within tolerance (the rest rank None): those near
    its claim, found by bisection; for an unsynced record, the latest one still unmatched
    before its commit."""
    rec = ev.records[seq]
    t_commit = ev.commit_us[seq]
    tol = ev.tol
    if rec.quality in (EXACT, DEFERRED):
        t = ev.true_us(rec.opened_ms)
        w = tol.stamp_us + ev.noise_us + tol.clock_us(max(t, t_commit)) + 1
        lo, hi = t - w, t + w
    elif rec.quality == BOUNDED:
        w = tol.stamp_us + ev.noise_us + tol.clock_us(t_commit) + 1
        lo, hi = ev.true_us(rec.not_before_ms) - w, ev.true_us(rec.not_after_ms) + w
    else:
        free = [i for i in range(bisect.bisect_right(ev.opens, t_commit) - 1, -1, -1)
                if i not in matched and not ev.held[i]]
        if rec.closed:
            # A closed record stands for an opening that had closed (itself or one merged with
            # it after it) before the close half was written. This is physics, so it goes
            # before the order below, which is only the likelier reading: the meter may have
            # seen a closing the oracle cannot be sure it saw, and so have filed openings the
            # oracle groups as one.
            cc = ev.close_commit_us.get(seq, ev.end_us)
            free = [i for i in free if ev.closes_from(i, cc)] or free
        # The meter files openings in the order it learns of them: one after the opening an
        # earlier record stands for, where there is one. Among those, an opening the oracle
        # cannot be sure the hardware told apart from a recorded one (the closing between them
        # was not surely observable) comes last (#37299); the meter may still have seen that
        # closing (#22273), so it is not ruled out.
        earlier = [i for i, s in matched.items() if s < seq]
        if earlier:
            floor = max(earlier)
            free = [i for i in free if i > floor] or free
        recorded = {j for i in matched for j in ev.group_of[i]}
        free = [i for i in free if i not in recorded] or free
        # No time to go by: the latest opening the hardware surely saw, else the latest. The
        # meter may have seen an opening and missed a later one it could not be sure to see
        # (#82128): that later one must not take the record from the one it saw.
        sure = next((i for i in free if ev.observable(*ev.truths[i])[0]), None)
        i = sure if sure is not None else (free[0] if free else -1)
        return range(i, i + 1) if i >= 0 else range(0)
    return range(bisect.bisect_left(ev.opens, lo), bisect.bisect_right(ev.opens, hi))


def _best(
    ev: Evidence, seq: int, matched: dict[int, int], rank_of: RankFn, among: Iterable[int]
) -> int | None:
    """The unmatched true opening (of those in `among`) before the record's commit that ranks
    first, or None."""
    rec = ev.records[seq]
    t_commit = ev.commit_us[seq]
    cands: list[tuple[Rank, int, int]] = []
    for i in among:
        o, c = ev.truths[i]
        if i in matched or o > t_commit or ev.held[i]:
            continue
        rank = rank_of(ev, rec, o, c, t_commit)
        if rank is not None:
            cands.append((rank, o, i))
    return min(cands)[2] if cands else None


def _strict_rank(
    ev: Evidence, rec: CoverOpen, o: int, c: int | None, t_commit: int
) -> Rank | None:
    """How well the record dates opening o, or None when o is outside its tolerance."""
    tol = ev.tol
    if rec.quality in (EXACT, DEFERRED):
        err = ev.true_us(rec.opened_ms) - o
        if abs(err) > ev.stamp_us(o) + tol.clock_us(o):
            return None
        # The clock drifts steadily from the start: rank by what is left after it.
        return abs(err - tol.drift * o)
    if rec.quality == BOUNDED:
        slack = tol.clock_us(o) + ev.stamp_us(o)
        nb, na = ev.true_us(rec.not_before_ms), ev.true_us(rec.not_after_ms)
        if not nb - slack <= o <= na + slack:
            return None
        # Prefer the opening that was still open when the meter learned of it.
        still_open = c is None or c >= na - slack
        return (0 if still_open else 1, -o)
    # The clock's value means nothing, but the meter dates nothing late: the opening it saw is
    # the latest one before the record was written.
    return t_commit - o


def _claim_distance(ev: Evidence, rec: CoverOpen, o: int, _c: int | None, t_commit: int) -> int:
    """How far the record's claim is from opening o (the second pass: no tolerance)."""
    if rec.quality in (EXACT, DEFERRED):
        return abs(ev.true_us(rec.opened_ms) - o)
    if rec.quality == BOUNDED:
        nb, na = ev.true_us(rec.not_before_ms), ev.true_us(rec.not_after_ms)
        return max(nb - o, o - na, 0)
    return t_commit - o


# ---------------------------------------------------------------------- verdicts


def _group(ev: Evidence) -> None:
    """Openings the hardware cannot tell apart: a closing nobody could see merges two."""
    groups: list[list[int]] = []
    prev: int | None = None  # the last operation the switch took part in
    for i, (o, _c) in enumerate(ev.truths):
        if ev.held[i]:
            ev.group_of[i] = [i]  # invisible: it neither merges nor separates
            continue
        prev_close = ev.truths[prev][1] if prev is not None else None
        if prev_close is not None and groups and not ev.observable(prev_close, o)[0]:
            groups[-1].append(i)
        else:
            groups.append([i])
        ev.group_of[i] = groups[-1]
        prev = i


def _verdicts(ev: Evidence, matched: dict[int, int]) -> list[Verdict]:
    """A verdict per true opening, given the matching (truth -> seq): recorded, undetectable
    (with why) or missed (with why)."""
    retained = decode_pending(ev.log.final_retained)
    waiting_opens = [e for e in (retained[0] if retained else []) if e.kind == PENDING_OPEN
                     and e.channel == ev.channel and e.seq not in ev.records]
    pending_opens = [e for e in waiting_opens if e.rtc_valid]
    unsynced = _unsynced_waiting(ev, matched, [e for e in waiting_opens if not e.rtc_valid])
    waited = set(unsynced)  # openings a record waiting in retained RAM stands for
    verdicts = []
    no_switch = ev.channel == TERMINAL and not ev.tol.terminal_switch
    for i, (o, c) in enumerate(ev.truths):
        if ev.held[i] or no_switch:
            verdicts.append(Verdict(i, "undetectable", None, None,
                                    NO_SWITCH_CAUSE if no_switch else HELD_CAUSE))
            continue
        seq = matched.get(i)
        if seq is not None:
            err = _time_error_us(ev, seq, o)
            verdicts.append(Verdict(i, "recorded", seq,
                                    None if err is None else round(err / 1e6, 6)))
            continue
        if i in unsynced:
            # Seen with the clock lost: it will be written unsynced, dated by nothing.
            verdicts.append(Verdict(i, "recorded", unsynced[i].seq, None,
                                    "pending in retained RAM, unsynced: written at the next "
                                    "restore"))
            continue
        # A record waiting in retained RAM stands for its group as a written one does; a
        # closed record only for the openings its close half can still have closed.
        partner = next((k for k in ev.group_of[i]
                        if (k in matched and not _closed_before(ev, matched[k], k, i))
                        or k in waited), None)
        if partner is not None:
            verdicts.append(Verdict(i, "undetectable", None, None,
                                    f"not separable from opening {partner}: the closing "
                                    "between them was not observable"))
            continue
        waiting = _waiting_for(ev, o, pending_opens)
        if waiting is not None:
            # Seen and stamped; the run ended before the next restore could write it.
            pending_opens.remove(waiting)
            waited.add(i)
            verdicts.append(Verdict(i, "recorded", waiting.seq,
                                    round((ev.true_us(waiting.time_ms) - o) / 1e6, 6),
                                    "pending in retained RAM: written at the next restore"))
            continue
        sure, cause = ev.observable(o, c)
        verdicts.append(Verdict(i, "missed" if sure else "undetectable", None, None, cause))
    return verdicts


def _closed_before(ev: Evidence, seq: int, k: int, i: int) -> bool:
    """Does record seq (of opening k, grouped with opening i after it) claim a closing that can
    only be one before opening i? Its close half was written before any opening of the group
    from i on had closed: the meter says it saw the cover closed between k and i, so it could
    tell i apart, and i is judged on its own."""
    if i < k or not ev.records[seq].closed:
        return False
    return not ev.closes_from(i, ev.close_commit_us.get(seq, ev.end_us))


def _time_error_us(ev: Evidence, seq: int, o: int) -> int | None:
    """An exact or deferred record's opening time minus the truth's (None for others)."""
    rec = ev.records[seq]
    if rec.quality not in (EXACT, DEFERRED):
        return None
    return ev.true_us(rec.opened_ms) - o


def _pending_closes(log: RunLog, channel: int) -> set[int]:
    """Closings seen and stamped that the run ended before writing."""
    retained = decode_pending(log.final_retained)
    return {e.seq for e in (retained[0] if retained else [])
            if e.kind != PENDING_OPEN and e.channel == channel}


def _unsynced_waiting(
    ev: Evidence, matched: dict[int, int], entries: list[PendingEntry]
) -> dict[int, PendingEntry]:
    """The openings that entries seen with an invalid clock stand for (truth -> entry): as an
    unsynced record's, the latest ones still unrecorded, the newest entry the latest opening.
    Only if the clock really lost its time in the run: a meter with a valid clock has a time
    to give, and an entry without one then stands for nothing."""
    if not entries or not any(a <= ev.end_us for a, _b in ev.log.rtc_invalid):
        return {}
    free = [i for i in range(len(ev.truths) - 1, -1, -1)
            if i not in matched and not ev.held[i]
            and not any(k in matched for k in ev.group_of[i])]
    return dict(zip(free, sorted(entries, key=lambda e: -e.seq), strict=False))


def _waiting_for(ev: Evidence, o: int, pending: list[PendingEntry]) -> PendingEntry | None:
    """The opening seen and stamped in retained RAM that dates o, if any."""
    tol = ev.tol
    for e in pending:
        if abs(ev.true_us(e.time_ms) - o - tol.drift * o) <= ev.stamp_us(o) + CLOCK_ROUNDING_US:
            return e
    return None
