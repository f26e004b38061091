"""Could the hardware observe a state of the cover switch? From the board's physical log only.

Owns the question I2 rests on: given an interval in which the switch held one state (an opening,
or the closed gap between two), was the MCU watching long enough, in a way its sampling could
catch, and did it live on to write what it saw? At the edge of what sampling can catch the
answer is "not surely", so either outcome is accepted there. It never looks at records.
"""

from __future__ import annotations

import itertools

from meterseal.sim.runlog import RunLog
from meterseal.verify.oracle.tolerances import Tolerances


def observable(
    a: int, b: int | None, log: RunLog, tol: Tolerances, end: int
) -> tuple[bool, str]:
    """Is the switch's state between a and b (None: to the end) surely observable, and why (or
    why not)?"""
    close = end if b is None else b
    overlaps = _alive_overlaps(a, close, log)
    seen = _seen_while_alive(overlaps, log, tol)
    if seen is not None:
        return True, seen
    if _still_so_at_power_up(a, close, log, tol):
        return True, "still so at power-up"
    if not overlaps:
        return False, "came and went while the MCU was off"
    longest = max(hi - lo for lo, hi, _e in overlaps)
    if longest < tol.debounce_us:
        return False, "shorter than the debounce while watched"
    if tol.polling:
        return False, "no poll landed inside it"
    return False, "at the limit of what sampling can catch"


def _seen_while_alive(
    overlaps: list[tuple[int, int, int]], log: RunLog, tol: Tolerances
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


def _still_so_at_power_up(a: int, close: int, log: RunLog, tol: Tolerances) -> bool:
    """Was the state still there at a power-up, long enough to be debounced by the power-up's
    reconciliation, with the MCU living on to write it?"""
    for tb in log.boots:
        alive_end = next((e for s, e in log.alive if s == tb), tb)
        done = tb + tol.need_us + tol.sample_us
        if a <= tb and close >= done and alive_end >= done + tol.write_room_us:
            return True
    return False


def _alive_overlaps(a: int, b: int, log: RunLog) -> list[tuple[int, int, int]]:
    """Parts of [a, b] with the MCU powered: (from, to, when that powered spell ended)."""
    out = []
    for s, e in log.alive:
        lo, hi = max(a, s), min(b, e)
        if hi > lo:
            out.append((lo, hi, e))
    return out


def _segments(lo: int, hi: int, log: RunLog) -> list[tuple[int, int, bool]]:
    """[lo, hi] cut at outage boundaries: (start, end, mains present)."""
    cuts = sorted({lo, hi, *(t for o in log.outages for t in (o.from_us, o.to_us)
                             if lo < t < hi)})
    return [(a, b, not any(o.from_us <= a < o.to_us for o in log.outages))
            for a, b in itertools.pairwise(cuts)]


def _poll_tick_inside(lo: int, hi: int, log: RunLog, period_us: int) -> bool:
    """Did a polling tick fire in [lo, hi]? From the periodic timers the board actually ran."""
    for t0, period, stop in log.periodic:
        if period != period_us:
            continue
        a, b = max(lo, t0), min(hi, stop)
        if a > b:
            continue
        first = t0 + -(-(a - t0) // period) * period
        if first <= b:
            return True
    return False
