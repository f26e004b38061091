"""Could the hardware observe a state of the cover switch? From the board's physical log only.

Owns the question I2 rests on: given an interval in which the switch held one state (an opening,
or the closed gap between two), was the MCU watching long enough, in a way its sampling could
catch, and did it live on to write what it saw? At the edge of what sampling can catch the
answer is "not surely", so either outcome is accepted there. It never looks at records.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from meterseal.sim.runlog import RunLog
from meterseal.verify.oracle.tolerances import Tolerances

UNKEEPABLE_CAUSE = ("seen, but no NVM write could run on the backup, and retained RAM lost its "
                    "supply before mains returned")


@dataclass(slots=True)
class BoardTimeline:
    """The board's log indexed for interval questions (each answered by bisection, so judging
    stays linear in the run's length): powered spells, outages, boots and periodic timers."""

    alive: list[tuple[int, int]]
    alive_starts: list[int]
    outages: list[tuple[int, int]]
    outage_starts: list[int]
    boots: list[int]
    alive_end_at_boot: dict[int, int]
    periodic: dict[int, tuple[list[int], list[tuple[int, int, int]]]] = field(
        default_factory=dict)  # period -> (starts, (start, period, stop)) sorted by start
    unwritable: list[int] = field(default_factory=list)  # on backup, no NVM write possible
    retained_lost: list[int] = field(default_factory=list)  # retained RAM lost its supply

    @classmethod
    def of(cls, log: RunLog) -> BoardTimeline:
        alive = sorted(log.alive)
        outages = sorted((o.from_us, o.to_us) for o in log.outages)
        periodic: dict[int, list[tuple[int, int, int]]] = {}
        for entry in log.periodic:
            periodic.setdefault(entry[1], []).append(entry)
        return cls(alive, [s for s, _e in alive], outages, [a for a, _b in outages],
                   sorted(log.boots), {s: e for s, e in alive},
                   {p: ([x[0] for x in sorted(v)], sorted(v)) for p, v in periodic.items()},
                   sorted(log.unwritable), sorted(log.retained_lost))


def observable(
    a: int, b: int | None, log: BoardTimeline, tol: Tolerances, end: int
) -> tuple[bool, str]:
    """Is the switch's state between a and b (None: to the end) surely observable, and why (or
    why not)?"""
    close = end if b is None else b
    overlaps = _alive_overlaps(a, close, log)
    seen = _seen_while_alive(overlaps, log, tol)
    # The earliest a debounce can accept a change: its first agreeing sample and as many more.
    accept_us = tol.debounce_us - tol.sample_us
    if seen is not None and not _lost_with_retained_ram(a + accept_us, log, tol):
        return True, seen
    ups = _power_ups_still_so(a, close, log, tol)
    if any(not _lost_with_retained_ram(tb + accept_us, log, tol) for tb in ups):
        return True, "still so at power-up"
    if seen is not None or ups:
        return False, UNKEEPABLE_CAUSE
    if not overlaps:
        return False, "came and went while the MCU was off"
    if _seen_but_died(a, close, overlaps, log, tol):
        return False, "seen, but the MCU stopped before it could write it"
    longest = max(hi - lo for lo, hi, _e in overlaps)
    if longest < tol.debounce_us:
        return False, "shorter than the debounce while watched"
    if tol.polling:
        return False, "no poll landed inside it"
    return False, "at the limit of what sampling can catch"


def _seen_while_alive(
    overlaps: list[tuple[int, int, int]], log: BoardTimeline, tol: Tolerances
) -> str | None:
    """How a watching MCU surely saw the state, or None."""
    need = tol.need_us
    for lo, hi, alive_end in overlaps:
        # The MCU must also live on long enough to write what it saw.
        hi_seen = min(hi, alive_end - tol.write_room_us)
        # On mains the switch is sampled every few ms; on backup as the wake mode has it. A
        # debounce begun on backup goes on across a restore, so backup parts reach to hi.
        for seg_lo, seg_hi, on_mains in _segments(lo, hi, log):
            if on_mains:
                if min(seg_hi, hi_seen) - seg_lo >= need + tol.sample_us:
                    return "seen while watching"
            elif tol.polling:
                if _poll_tick_inside(seg_lo + tol.bounce_us, min(seg_hi, hi_seen - need), log,
                                     tol.poll_us):
                    return "polled while watching"
            elif tol.pulsed:
                if hi_seen - seg_lo >= need + tol.bias_period_us:
                    return "sampled while watching"
            elif hi_seen - seg_lo >= need:
                return "seen while watching"
    return None


def _lost_with_retained_ram(t: int, log: BoardTimeline, tol: Tolerances) -> bool:
    """Could nothing on the board have kept what the MCU saw at t (at the earliest)? Earlier in
    the same outage (or at t) the MCU was awake on backup and no NVM write could run on any
    route; with mains off nothing charges the backup, so none could run at t or after, and only
    retained RAM could hold it; and retained RAM lost its supply after t, before mains returned
    or before the writes that wait for mains could be made: within the room a seen change is
    given to reach the NVM (a power cut just after mains' return, on a board whose retained RAM
    has no battery domain, takes what still waits there)."""
    j = bisect.bisect_right(log.outage_starts, t) - 1
    if j < 0 or not log.outages[j][0] <= t < log.outages[j][1]:
        return False
    since, mains_back = log.outages[j]
    i = bisect.bisect_right(log.unwritable, t) - 1
    if i < 0 or log.unwritable[i] < since:
        return False
    k = bisect.bisect_right(log.retained_lost, t)
    return k < len(log.retained_lost) and (
        log.retained_lost[k] <= mains_back + tol.write_room_us)


def _power_ups_still_so(a: int, close: int, log: BoardTimeline, tol: Tolerances) -> list[int]:
    """The power-ups at which the state was still there, long enough to be debounced by the
    reconciliation, with the MCU living on to write it (none: never so)."""
    boots = log.boots
    done_after = tol.need_us + tol.sample_us
    out = []
    i = bisect.bisect_left(boots, a)
    while i < len(boots) and boots[i] + done_after <= close:
        tb = boots[i]
        if log.alive_end_at_boot.get(tb, tb) >= tb + done_after + tol.write_room_us:
            out.append(tb)
        i += 1
    return out


def _seen_but_died(a: int, close: int, overlaps: list[tuple[int, int, int]],
                   log: BoardTimeline, tol: Tolerances) -> bool:
    """Was the state long enough under a watching or just-booted MCU to be debounced, but the
    MCU's powered spell ended inside the room a write needs?"""
    for lo, hi, alive_end in overlaps:
        if hi - lo >= tol.need_us and alive_end - tol.write_room_us < hi:
            return True
    i = bisect.bisect_left(log.boots, a)
    return i < len(log.boots) and log.boots[i] + tol.need_us + tol.sample_us <= close


def _alive_overlaps(a: int, b: int, log: BoardTimeline) -> list[tuple[int, int, int]]:
    """Parts of [a, b] with the MCU powered: (from, to, when that powered spell ended)."""
    out = []
    i = max(0, bisect.bisect_right(log.alive_starts, a) - 1)
    while i < len(log.alive) and log.alive[i][0] < b:
        s, e = log.alive[i]
        lo, hi = max(a, s), min(b, e)
        if hi > lo:
            out.append((lo, hi, e))
        i += 1
    return out


def _segments(lo: int, hi: int, log: BoardTimeline) -> list[tuple[int, int, bool]]:
    """[lo, hi] cut at outage boundaries: (start, end, mains present)."""
    outages = log.outages
    j = max(0, bisect.bisect_right(log.outage_starts, lo) - 1)
    near = []
    while j < len(outages) and outages[j][0] < hi:
        near.append(outages[j])
        j += 1
    cuts = sorted({lo, hi, *(t for o in near for t in o if lo < t < hi)})
    return [(x, y, not any(o[0] <= x < o[1] for o in near))
            for x, y in itertools.pairwise(cuts)]


def _poll_tick_inside(lo: int, hi: int, log: BoardTimeline, period_us: int) -> bool:
    """Did a polling tick fire in [lo, hi]? From the periodic timers the board actually ran."""
    if lo > hi or period_us not in log.periodic:
        return False
    starts, entries = log.periodic[period_us]
    k = bisect.bisect_right(starts, hi) - 1
    while k >= 0:
        t0, period, stop = entries[k]
        if stop >= lo:
            a, b = max(lo, t0), min(hi, stop)
            if a <= b and t0 + -(-(a - t0) // period) * period <= b:
                return True
        elif t0 < lo - 2 * period:
            # The spells of one timer do not overlap: one that ended before lo and began well
            # before it has only earlier ones behind it.
            break
        k -= 1
    return False
