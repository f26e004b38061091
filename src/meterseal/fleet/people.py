"""Who opens meter covers: the utility's staff on a work order, and customers who steal.

**Staff.** Each meter gets a visit now and then (about one every 500 days: inspections, seal
checks, complaints): on a working day (Monday to Saturday) between 08:30 and 16:30 local, the
cover open 5–60 minutes (log-uniform). Each visit has a work order — the utility's own record:
a technician from a small crew, a time window that covers the visit (from the whole hour before
it, less 0–2 h, to the whole hour after it, plus 0–2 h) and a reason.

**Thieves.** A thief opens the cover, fits a bypass, closes it; from the closing on a fraction
of the load (30–80 %) goes past the meter. The theft falls in the middle of the period (10–85 %,
so there is a before and an after). Most thieves wait for an outage (70 %: the dark feels safe;
one of at least 40 minutes that starts from 10 % of the period up to its last day; the cover
opened 5 minutes to 36 hours into it, log-uniform, and closed before mains returns), the others
go at night on mains (20 %, 22:00–04:00) or by day (10 %); a thief who waits for an outage that
never comes goes at night. One thief in five comes back at least three days later to adjust the
bypass, the same way. Covers stay open 8–30 minutes.

Instants are whole seconds after the fleet's start; local time is the meter's standard time.
Must not know: loads, meters' hardware, files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from meterseal.fleet.streams import log_uniform, stream
from meterseal.sim.scenario import Outage

__all__ = ["REASONS", "STAFF", "Opening", "Theft", "Visit", "thief_openings", "visits",
           "without_clashes"]

S: Final = 1_000_000
MIN: Final = 60 * S
H: Final = 60 * MIN
DAY: Final = 24 * H
VISIT_EVERY_DAYS: Final = 500.0
STAFF: Final = tuple(f"T{n:04d}" for n in (1021, 1034, 1047, 1102, 1118, 1125, 1203, 1216,
                                            1230, 1307, 1311, 1342))
REASONS: Final = ("periodic inspection", "seal check", "customer complaint", "meter accuracy test",
                  "terminal tightening", "tamper alarm follow-up")
_SAFE_GAP_US: Final = 2 * MIN  # between two openings of one meter
DARK_MIN_US: Final = 40 * MIN  # an outage a thief uses: time to open, fit, close


@dataclass(frozen=True, slots=True)
class Opening:
    """One true cover opening: from open_us to close_us (µs after the fleet's start)."""

    open_us: int
    close_us: int
    actor: str  # "staff" | "thief"


@dataclass(frozen=True, slots=True)
class Visit:
    """A staff visit: the opening and its work order's window, technician and reason."""

    opening: Opening
    staff: str
    window: tuple[int, int]
    reason: str


@dataclass(frozen=True, slots=True)
class Theft:
    start_us: int  # the bypass carries from here (the first theft opening's close)
    bypass_fraction: float


def _sec(us: float) -> int:
    return round(us / S) * S


def visits(seed: int, index: int, start: datetime, duration_us: int) -> list[Visit]:
    """The staff visits to meter ``index``, in time order."""
    rng = stream(seed, f"visits/{index}")
    out: list[Visit] = []
    days = duration_us // DAY
    t = 0.0
    while True:
        t += rng.expovariate(1 / VISIT_EVERY_DAYS)
        if t >= days:
            return out
        day = int(t)
        if (start + timedelta(days=day)).weekday() == 6:
            continue  # no visits on Sunday
        open_us = day * DAY + _sec(rng.uniform(8.5, 16.5) * H)
        close_us = open_us + _sec(log_uniform(rng, 5, 60) * MIN)
        lo = open_us // H * H - rng.randrange(0, 3) * H
        hi = -(-close_us // H) * H + rng.randrange(0, 3) * H
        if hi >= duration_us:
            return out
        out.append(Visit(Opening(open_us, close_us, "staff"), rng.choice(STAFF), (lo, hi),
                         rng.choice(REASONS)))


def _in_outage(rng: random.Random, outages: list[Outage]) -> int:
    o = rng.choice(outages)
    return o.at_us + _sec(log_uniform(rng, 5 * MIN, min(o.for_us - 35 * MIN + S, 36 * H)))


def _on_mains(rng: random.Random, lo: int, hi: int, night: bool) -> int:
    day = rng.randrange(lo // DAY, hi // DAY + 1)
    t = day * DAY + _sec((rng.uniform(22, 28) if night else rng.uniform(9, 18)) * H)
    return t if lo <= t < hi else _sec(rng.uniform(lo, hi))  # a short fleet: any hour


def _one_theft(rng: random.Random, outages: tuple[Outage, ...], lo: int, hi: int,
               dark_hi: int) -> int:
    """When a thief opens the cover: in [lo, hi), or inside an outage that starts in
    [lo, dark_hi) (one who waits for the dark waits longer)."""
    how = rng.random()
    fit = [o for o in outages if lo <= o.at_us < dark_hi and o.for_us >= DARK_MIN_US]
    if how < 0.7 and fit:
        return _in_outage(rng, fit)
    return _on_mains(rng, lo, hi, night=how < 0.9)


def thief_openings(seed: int, index: int, duration_us: int,
                   outages: tuple[Outage, ...]) -> tuple[list[Opening], Theft]:
    """A thief's openings (one or two) and the theft they start."""
    rng = stream(seed, f"thief/{index}")
    fraction = round(rng.uniform(0.3, 0.8), 2)
    lo, hi = int(duration_us * 0.10), int(duration_us * 0.85)
    dark_hi = max(hi, duration_us - DAY)
    openings = []
    while True:
        open_us = _one_theft(rng, outages, lo, hi, dark_hi)
        openings.append(Opening(open_us, open_us + _sec(rng.uniform(8, 30) * MIN), "thief"))
        lo = openings[-1].close_us + 3 * DAY
        if lo >= hi or len(openings) == 2 or rng.random() >= 0.2:
            return openings, Theft(openings[0].close_us, fraction)


def without_clashes(thief: list[Opening], staff: list[Visit]) -> tuple[list[Opening],
                                                                         list[Visit]]:
    """The openings of one meter, none overlapping or closer than two minutes (a thief's win
    over a visit, an earlier visit over a later one): all of them in time order, and the visits
    kept."""
    kept = list(thief)
    visits_kept = []
    for v in staff:
        if not _clashes(v.opening, kept):
            kept.append(v.opening)
            visits_kept.append(v)
    return sorted(kept, key=lambda o: o.open_us), visits_kept


def _clashes(op: Opening, others: list[Opening]) -> bool:
    return any(op.open_us < o.close_us + _SAFE_GAP_US and o.open_us < op.close_us + _SAFE_GAP_US
               for o in others)
