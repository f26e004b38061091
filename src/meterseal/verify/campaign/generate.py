"""Random campaign scenarios as a pure function of (campaign seed, index).

Owns what a campaign randomises and with which statistics. ``draw(seed, index)`` gives the same
Scenario in any process, on any worker, in any order: its random stream is seeded from a hash
of the two numbers alone, and the one simulation it may run (the probe of adversaries.py) is
deterministic. It knows the scenario and profile contracts; it judges nothing.

What is drawn (weights are probabilities; "log-uniform a–b" spreads evenly over the decades):

* **outages**: 0–6 of them (0: 5 %, 1: 30 %, 2: 25 %, 3: 15 %, 4: 10 %, 5: 8 %, 6: 7 %), each
  length from a mixture — flicker 5 ms–1 s (30 %: some end inside the PSU's bulk hold-up, so the
  MCU never leaves the rail), short 1 s–10 min (25 %), long 10 min–12 h (30 %), multi-day
  12 h–5 d (15 %) — all log-uniform; gaps between outages log-uniform 20 ms–2 d (short gaps
  find the supercapacitor part-charged). 8 % of scenarios add mains chatter: 5–50 drops of
  20–300 ms, 50–500 ms apart. 10 % of the non-adversarial ones end while the last outage is
  still running.
* **cover operations**: 0–5 (or 6 with chatter); each opening lands inside an outage (60 %), near
  an outage's start or end (±1 s, 15 %) or anywhere (25 %); open for sub-debounce 10–45 ms
  (10 %), brief 45 ms–5 s (25 %), minutes 5 s–1 h (30 %), hours to days 1 h–3 d (25 %), or for
  good (10 %, the last one only); at least 10 ms apart (twice the switch's bounce).
* **faults**: a power cut at a uniform instant in 10 % of scenarios.
* **loads**: 1–3 steps of import 0–8 kW, export 0–5 kW in 20 % of steps.
* **the start**: anywhere in 2024–2098, offset +08:00 (80 %) or UTC.

The board (boards.py) and the adversarial timings (adversaries.py) are drawn by modules of
their own; this one draws the timeline and puts the scenario together.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from meterseal.sim.scenario import CoverOp, Fault, LoadStep, Outage, Scenario
from meterseal.verify.campaign.adversaries import (
    ADVERSARIAL_KINDS,
    ADVERSARIAL_WEIGHTS,
    FALLBACK,
    Placer,
    ProbeRaised,
    long_outage,
)
from meterseal.verify.campaign.boards import draw_board, draw_boundary
from meterseal.verify.campaign.sampling import DAY, GAP_US, MIN, MS, H, S, log_uniform, pick

__all__ = ["KINDS", "PROBE_RAISED", "Drawn", "draw", "outage_stats", "scenario_rng"]

KINDS = ("random", *ADVERSARIAL_KINDS)
PROBE_RAISED = "probe-raised"  # the probe run raised: the base scenario is kept as it is

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8)))
_START_SPAN_S = (datetime(2098, 1, 1, tzinfo=_EPOCH.tzinfo) - _EPOCH) // timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Drawn:
    """One campaign scenario and how it was made (the parameters the results table shows)."""

    index: int
    seed: int
    scenario: Scenario
    kind: str  # "random" or one of ADVERSARIAL_KINDS (what was actually placed)
    battery: str  # good | weak | absent
    boundary_us: int | None  # the state boundary aimed at (None for random)
    placed_us: int | None  # where the adversarial edge or cut landed


def scenario_rng(seed: int, index: int) -> random.Random:
    """The random stream of scenario ``index`` of campaign ``seed``: a hash of both numbers only
    (never Python's salted ``hash``), so any worker draws the same scenario."""
    digest = hashlib.blake2b(f"meterseal-campaign/{seed}/{index}".encode(), digest_size=16)
    return random.Random(int.from_bytes(digest.digest(), "big"))


# --------------------------------------------------------------------------------- timelines

def _outage_length(rng: random.Random) -> int:
    cls = pick(rng, (0, 1, 2, 3), (0.30, 0.25, 0.30, 0.15))
    lo, hi = ((5 * MS, S), (S, 10 * MIN), (10 * MIN, 12 * H), (12 * H, 5 * DAY))[cls]
    return log_uniform(rng, lo, hi)


def _outages(rng: random.Random) -> list[Outage]:
    n = pick(rng, (0, 1, 2, 3, 4, 5, 6), (0.05, 0.30, 0.25, 0.15, 0.10, 0.08, 0.07))
    out: list[Outage] = []
    t = rng.randrange(0, 12 * H)
    for _ in range(n):
        length = _outage_length(rng)
        out.append(Outage(t, length))
        t += length + log_uniform(rng, 20 * MS, 2 * DAY)
    if rng.random() < 0.08:  # mains chatter
        for _ in range(rng.randint(5, 50)):
            length = rng.randint(20 * MS, 300 * MS)
            out.append(Outage(t, length))
            t += length + rng.randint(50 * MS, 500 * MS)
    return out


def _covers(rng: random.Random, outages: list[Outage], duration_us: int,
            n: int) -> list[CoverOp]:
    anchors = []
    for _ in range(n):
        where = rng.random()
        if outages and where < 0.60:
            o = rng.choice(outages)
            depth = rng.randrange(o.for_us) if rng.random() < 0.5 else log_uniform(
                rng, MS, max(MS + 1, o.for_us))
            anchors.append(o.at_us + depth)
        elif outages and where < 0.75:
            o = rng.choice(outages)
            edge = o.at_us if rng.random() < 0.5 else o.end_us
            anchors.append(max(0, edge + rng.randint(-S, S)))
        else:
            anchors.append(rng.randrange(duration_us))
    anchors.sort()
    ops: list[CoverOp] = []
    prev_close = -GAP_US
    for k, a in enumerate(anchors):
        open_us = max(a, prev_close + GAP_US)
        if open_us >= duration_us:
            break
        length = _cover_length(rng, last=k == len(anchors) - 1)
        close = None if length is None or open_us + length >= duration_us else open_us + length
        ops.append(CoverOp(open_us, close))
        if close is None:
            break
        prev_close = close
    return ops


def _cover_length(rng: random.Random, last: bool) -> int | None:
    cls = pick(rng, (0, 1, 2, 3, 4), (0.10, 0.25, 0.30, 0.25, 0.10))
    if cls == 4:
        if last:
            return None
        cls = 3
    lo, hi = ((GAP_US, 45 * MS), (45 * MS, 5 * S), (5 * S, H), (H, 3 * DAY))[cls]
    return log_uniform(rng, lo, hi)


def _loads(rng: random.Random, duration_us: int) -> tuple[LoadStep, ...]:
    ats = [0, *sorted(rng.randrange(duration_us) for _ in range(rng.randint(0, 2)))]
    steps = []
    for a in ats:
        imp = round(rng.uniform(0.0, 8000.0), 1)
        exp = round(rng.uniform(0.0, 5000.0), 1) if rng.random() < 0.2 else 0.0
        steps.append(LoadStep(a, imp, exp))
    return tuple(steps)


# ------------------------------------------------------------------------------------ draw

def draw(seed: int, index: int) -> Drawn:
    """Scenario ``index`` of campaign ``seed``: always the same one (see the module docstring)."""
    rng = scenario_rng(seed, index)
    overrides, battery = draw_board(rng)
    overrides, edge = draw_boundary(rng, overrides)
    label = f"campaign {seed} #{index}" + (f" [{edge}]" if edge else "")
    outages = _outages(rng)
    adversarial = rng.random() < 0.5
    kind = pick(rng, ADVERSARIAL_KINDS, ADVERSARIAL_WEIGHTS) if adversarial else "random"
    if kind in ("brownout", "watch-end"):
        outages = long_outage(rng, outages)
    last_end = max((o.end_us for o in outages), default=0)
    duration = last_end + log_uniform(rng, MIN, 2 * DAY)
    if outages and rng.random() < 0.1 and kind == "random":  # end while mains is still out
        last = outages[-1]
        duration = last.at_us + max(1, rng.randrange(last.for_us))
    duration = max(duration, H)
    n_cover = pick(rng, (0, 1, 2, 3, 4, 5), (0.05, 0.25, 0.25, 0.2, 0.15, 0.1))
    if len(outages) > 8:
        n_cover += 1
    covers = _covers(rng, outages, duration, n_cover)
    faults = [Fault("power-cut", rng.randrange(duration))] if rng.random() < 0.1 else []
    loads = _loads(rng, duration)
    start = _EPOCH + timedelta(seconds=rng.randrange(_START_SPAN_S))
    if rng.random() < 0.2:
        start = start.astimezone(UTC)
    sc_seed = rng.getrandbits(32)
    base = Scenario(
        name=label,
        start=start,
        duration_us=duration,
        seed=sc_seed,
        overrides=tuple(sorted(overrides.items())),
        outages=tuple(outages),
        cover=tuple(covers),
        faults=tuple(faults),
        loads=loads,
    )
    placer = Placer(rng, base)
    while kind != "random":
        try:
            placed = placer.place(kind)
        except ProbeRaised:  # keep the scenario that raises: its run raises too, and is kept
            return Drawn(index, seed, base, PROBE_RAISED, battery, None, None)
        if placed is not None:
            new_covers, new_faults, boundary, at = placed
            sc = Scenario(
                name=f"{label} ({kind})",
                start=start,
                duration_us=duration,
                seed=sc_seed,
                overrides=base.overrides,
                outages=base.outages,
                cover=tuple(new_covers),
                faults=tuple(new_faults),
                loads=loads,
            )
            return Drawn(index, seed, sc, kind, battery, boundary, at)
        kind = FALLBACK[kind]
    return Drawn(index, seed, base, "random", battery, None, None)


def outage_stats(sc: Scenario) -> tuple[int, float, float]:
    """(count, total seconds, longest seconds) of the outages that start inside the scenario."""
    lens = [o.for_us for o in sc.outages if o.at_us < sc.duration_us]
    return len(lens), sum(lens) / S, max(lens, default=0) / S

