"""Adversarial timings of campaign scenarios: an edge or a cut at a state boundary.

**Adversarial timings** (50 % of scenarios), at the state boundaries where recorders break; the
operation lands at the boundary ± a few ms (uniform, µs resolution):

=================  ==========================================================================
kind               where
=================  ==========================================================================
power-fail-window  an edge inside the power-fail window of an outage: at the comparator trip
                   (``bulk_holdup_s·(1 − power_fail_v/rail_v)`` after mains loss) ± 3 ms, at the
                   end of the bulk hold-up (the MCU leaves the rail) ± 3 ms, or anywhere in
                   −5 ms … hold-up + 5 ms (20 %)
restore-debounce   an edge within the debounce of a restore: from −10 ms to debounce + two
                   samples + bounce + 5 ms before mains returns, or up to one debounce after
                   (25 %)
brownout           an edge at the instant the MCU's supply crossed its brown-out level (15 %)
watch-end          an edge at the instant the firmware stopped watching (15 %)
nvm-write-cut      a power cut inside an NVM page write (15 %)
nvm-write-cover    a cover edge inside an NVM page write (10 %)
=================  ==========================================================================

Where the boundary's instant is not known from the profile (brown-out, watch end, NVM writes),
the generator runs the scenario once without the adversarial operation (the *probe*) and reads
the instants from the kernel's log: ``outages[].brownout_us / watch_until_us`` and the NVM
snapshots' times minus ``nvm.page_write_time_s``. Everything before the boundary is the same in
the probe and the final scenario (the simulation is causal and the operations before it draw the
same switch bounce), so the operation lands where it was aimed. The edge is an opening when the
cover is closed there (then open for a drawn length), or the closing of the operation in
progress. For brownout and watch-end a multi-day outage (2–8 d) is appended so the backup can run
out; if the probe shows no such instant, or the edge cannot be placed clear of another operation,
the scenario falls back to the next kind that applies, and to ``random`` in the end (``kind``
records what was done). If the probe itself raises, the base scenario is kept unchanged with
kind ``probe-raised``: its run raises too, and the campaign reports it like any failure.

Must not know: how the base scenario was drawn (generate.py, boards.py); it judges nothing.
"""

from __future__ import annotations

import math
import random

from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import CoverOp, Fault, Outage, Scenario
from meterseal.verify.campaign.sampling import DAY, GAP_US, MIN, MS, H, S, log_uniform, pick

JITTER_US = 5 * MS

ADVERSARIAL_KINDS = (
    "power-fail-window",
    "restore-debounce",
    "brownout",
    "watch-end",
    "nvm-write-cut",
    "nvm-write-cover",
)
ADVERSARIAL_WEIGHTS = (0.20, 0.25, 0.15, 0.15, 0.15, 0.10)
FALLBACK = {  # what to try when a kind cannot be placed
    "brownout": "watch-end",
    "watch-end": "restore-debounce",
    "nvm-write-cut": "power-fail-window",
    "nvm-write-cover": "nvm-write-cut",
    "power-fail-window": "restore-debounce",
    "restore-debounce": "random",
}


def _edge_at(covers: list[CoverOp], t: int, length: int | None,
             duration_us: int) -> list[CoverOp] | None:
    """The cover operations with a true edge at ``t``: an opening (open ``length``, None = for
    good) where the cover is closed, else the closing of the operation in progress. Operations
    before ``t`` are kept as they are; later ones are dropped where they would collide. None when
    ``t`` is within GAP_US of another edge."""
    if not 0 <= t < duration_us:
        return None
    for i, op in enumerate(covers):
        close = op.close_us if op.close_us is not None else math.inf
        if op.open_us - GAP_US < t < close + GAP_US:
            if t - op.open_us < GAP_US or abs(close - t) < GAP_US:
                return None
            return [*covers[:i], CoverOp(op.open_us, t)]  # close the one in progress at t
    before = [op for op in covers if op.open_us < t]
    new_close = None if length is None or t + length >= duration_us else t + length
    out = [*before, CoverOp(t, new_close)]
    if new_close is not None:
        out += [op for op in covers if op.open_us >= new_close + GAP_US]
    return out


def _adversarial_length(rng: random.Random, debounce_us: int) -> int | None:
    cls = pick(rng, (0, 1, 2, 3, 4), (0.20, 0.20, 0.25, 0.20, 0.15))
    if cls == 0:
        return rng.randint(GAP_US, 100 * MS)
    if cls == 1:
        return max(GAP_US, debounce_us + rng.randint(-10 * MS, 10 * MS))
    if cls == 2:
        return log_uniform(rng, 100 * MS, 10 * MIN)
    if cls == 3:
        return log_uniform(rng, 10 * MIN, 2 * DAY)
    return None


class ProbeRaised(Exception):
    """The probe run of the base scenario raised (a finding: the base scenario is kept)."""


def _probe(sc: Scenario) -> RunLog:
    return Kernel(sc, trace=False).run()


class Placer:
    """Tries to place one adversarial kind; returns (covers, faults, boundary, placed) or None."""

    def __init__(self, rng: random.Random, base: Scenario) -> None:
        self.rng = rng
        self.base = base
        p = base.profile
        self.bulk_us = round(float(p["supply.bulk_holdup_s"]) * S)
        self.pf_us = round(self.bulk_us * (1.0 - float(p["supply.power_fail_v"])
                                           / float(p["supply.rail_v"])))
        self.debounce_us = round(float(p["cover.debounce_s"]) * S)
        self.sample_us = round(float(p["cover.sample_period_s"]) * S)
        self.bounce_us = round(float(p["cover.bounce_s"]) * S)
        self.write_us = max(1, round(float(p["nvm.page_write_time_s"]) * S))
        self._log: RunLog | None = None

    @property
    def log(self) -> RunLog:
        if self._log is None:
            try:
                self._log = _probe(self.base)
            except Exception as exc:
                raise ProbeRaised from exc
        return self._log

    def _edge(self, boundary: int, t: int):  # type: ignore[no-untyped-def]
        base = self.base
        length = _adversarial_length(self.rng, self.debounce_us)
        covers = _edge_at(list(base.cover), t, length, base.duration_us)
        if covers is None:
            return None
        return covers, list(base.faults), boundary, t

    def place(self, kind: str):  # type: ignore[no-untyped-def]
        rng = self.rng
        base = self.base
        outages = [o for o in base.outages if o.at_us < base.duration_us]
        if kind == "power-fail-window":
            if not outages:
                return None
            o = rng.choice(outages)
            how = rng.random()
            if how < 0.35:
                boundary = o.at_us + self.pf_us
                t = boundary + rng.randint(-3 * MS, 3 * MS)
            elif how < 0.7:
                boundary = o.at_us + self.bulk_us
                t = boundary + rng.randint(-3 * MS, 3 * MS)
            else:
                boundary = o.at_us
                t = boundary + rng.randint(-JITTER_US, self.bulk_us + JITTER_US)
            return self._edge(boundary, t)
        if kind == "restore-debounce":
            restored = [o for o in outages if o.end_us < base.duration_us]
            if not restored:
                return None
            o = rng.choice(restored)
            reach = self.debounce_us + 2 * self.sample_us + self.bounce_us + JITTER_US
            after = self.debounce_us if rng.random() < 0.3 else 10 * MS
            t = o.end_us - rng.randint(-after, reach)
            return self._edge(o.end_us, t)
        if kind in ("brownout", "watch-end"):
            attr = "brownout_us" if kind == "brownout" else "watch_until_us"
            instants = [getattr(ol, attr) for ol in self.log.outages]
            instants = [x for x in instants if x is not None and x < base.duration_us]
            if not instants:
                return None
            boundary = rng.choice(instants)
            return self._edge(boundary, boundary + rng.randint(-JITTER_US, JITTER_US))
        # NVM writes: every snapshot but a torn one ends a page write that began write_us before.
        torn = {f.at_us for f in base.faults}
        done = [t for t, _a, _d in self.log.writes if t not in torn and t - self.write_us > 0]
        if not done:
            return None
        if rng.random() < 0.5:  # favour writes on backup, where energy is short
            on_backup = [t for t in done if any(o.at_us <= t < o.end_us for o in outages)]
            done = on_backup or done
        end = rng.choice(done)
        t = end - rng.randint(1, self.write_us - 1 if self.write_us > 1 else 1)
        if kind == "nvm-write-cut":
            faults = sorted([*base.faults, Fault("power-cut", t)], key=lambda f: f.at_us)
            return list(base.cover), faults, end - self.write_us, t
        return self._edge(end - self.write_us, t)


def long_outage(rng: random.Random, outages: list[Outage]) -> list[Outage]:
    """Append a multi-day outage (2–8 d) after the others, so the backup can run out."""
    t = outages[-1].end_us + log_uniform(rng, 10 * MIN, 2 * DAY) if outages else rng.randrange(
        0, 12 * H)
    return [*outages, Outage(t, log_uniform(rng, 2 * DAY, 8 * DAY))]
