"""The network: feeders (each with its concentrator, the bus gateway its meters sit on) and the
outages that hit a whole feeder or one meter.

Meters sit on feeders in blocks of consecutive addresses (about METERS_PER_FEEDER each, ±40 %).
A feeder's outages come as a Poisson process: many short ones (a recloser's trip, a fuse
swap: 20 s–30 min, about one every 8 days) and some long ones (a fault to find and repair:
1–12 h, and one in five 12 h–3 days; about one every 30 days). Each meter also has outages of
its own (its service drop, its fuse: 30 min–36 h, about one every 120 days). Lengths are
log-uniform. Every outage ends at least TAIL_US before the fleet's snapshot, so each meter is on
mains, its records written, when its image is taken. A meter's scenario gets the union of its
feeder's outages and its own (overlaps merged); the truth keeps them apart.

Must not know: customers, meters' hardware, files.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from meterseal.fleet.streams import log_uniform, stream
from meterseal.sim.scenario import Outage

__all__ = [
    "METERS_PER_FEEDER",
    "TAIL_US",
    "Feeder",
    "Span",
    "feeder_outages",
    "feeders",
    "merged",
    "meter_outages",
]

S: Final = 1_000_000
MIN: Final = 60 * S
H: Final = 60 * MIN
DAY: Final = 24 * H
METERS_PER_FEEDER: Final = 100
TAIL_US: Final = 1 * H
GAP_US: Final = 10 * MIN  # at least this between two outages of one feeder (or one meter)

# (mean days between, shortest, longest) of each kind of outage.
_SHORT: Final = (8.0, 20 * S, 30 * MIN)
_LONG: Final = (30.0, 1 * H, 12 * H)
_VERY_LONG_SHARE: Final = 0.2
_VERY_LONG: Final = (12 * H, 3 * DAY)
_METER: Final = (120.0, 30 * MIN, 36 * H)


@dataclass(frozen=True, slots=True)
class Feeder:
    name: str  # F001, …
    gateway: str  # its concentrator: gw-001, …
    first: int  # the index of its first meter
    count: int


@dataclass(frozen=True, slots=True)
class Span:
    """One outage as the truth keeps it: a feeder's (address empty) or one meter's."""

    scope: str  # "feeder" | "meter"
    feeder: str
    address: str
    start_us: int
    end_us: int


def feeders(seed: int, meters: int) -> tuple[Feeder, ...]:
    """The feeders of a service area of ``meters`` meters, in address order."""
    n = max(1, round(meters / METERS_PER_FEEDER))
    rng = stream(seed, "feeders")
    weights = [rng.uniform(0.6, 1.4) for _ in range(n)]
    total = sum(weights)
    # Cumulative bounds; with about 100 meters a feeder (n is at least 1 below 150 meters) and
    # weights within ×2.3 of each other, no feeder comes out empty.
    bounds = [0, *(round(meters * sum(weights[: k + 1]) / total) for k in range(n - 1)), meters]
    return tuple(Feeder(f"F{k + 1:03d}", f"gw-{k + 1:03d}", bounds[k], bounds[k + 1] - bounds[k])
                 for k in range(n))


def _poisson(rng: random.Random, duration_us: int, kinds: list[tuple[float, int, int, float]],
             ) -> list[tuple[int, int]]:
    """Outages from a Poisson process of the given kinds (mean days between, shortest, longest,
    share of them that are 'very long'), never overlapping, all ending TAIL_US before the end."""
    rate = sum(1 / k[0] for k in kinds) / DAY  # per µs
    weights = [1 / k[0] for k in kinds]
    out: list[tuple[int, int]] = []
    t = 0
    while True:
        t += round(rng.expovariate(rate) / S) * S  # whole seconds, as the truth prints them
        if t >= duration_us - TAIL_US:
            return out
        _mean, lo, hi, very = rng.choices(kinds, weights=weights)[0]
        if rng.random() < very:
            lo, hi = _VERY_LONG
        length = round(log_uniform(rng, lo, hi) / S) * S
        if t + length > duration_us - TAIL_US:
            continue  # it would still be running at the snapshot: a later, shorter one may fit
        out.append((t, t + length))
        t += length + GAP_US


def feeder_outages(seed: int, feeder: Feeder, duration_us: int) -> tuple[Span, ...]:
    rng = stream(seed, f"feeder-outages/{feeder.name}")
    kinds = [(_SHORT[0], _SHORT[1], _SHORT[2], 0.0),
             (_LONG[0], _LONG[1], _LONG[2], _VERY_LONG_SHARE)]
    return tuple(Span("feeder", feeder.name, "", a, b)
                 for a, b in _poisson(rng, duration_us, kinds))


def meter_outages(seed: int, index: int, feeder: str, address: str,
                  duration_us: int) -> tuple[Span, ...]:
    rng = stream(seed, f"meter-outages/{index}")
    return tuple(Span("meter", feeder, address, a, b)
                 for a, b in _poisson(rng, duration_us, [(*_METER, 0.0)]))


def merged(spans: Iterable[Span]) -> tuple[Outage, ...]:
    """The mains-off intervals a meter lives through: its spans' union, in time order."""
    out: list[list[int]] = []
    for s in sorted(spans, key=lambda s: (s.start_us, s.end_us)):
        if out and s.start_us <= out[-1][1]:
            out[-1][1] = max(out[-1][1], s.end_us)
        else:
            out.append([s.start_us, s.end_us])
    return tuple(Outage(a, b - a) for a, b in out)
