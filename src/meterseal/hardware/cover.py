"""The cover key switch's contact bounce: the edges one true transition produces at the pin.

Must not know about debouncing (the firmware's job), the pull-up's current (parts.py) or the
kernel's queue: it only turns one true transition into the pin's edges.
"""

from __future__ import annotations

import random

__all__ = ["MAX_BOUNCES", "bounce_edges"]

MAX_BOUNCES = 3
"""A true transition bounces back and forth 1 to this many times (pairs of extra edges)."""


def bounce_edges(
    t_us: int, level: int, bounce_s: float, rng: random.Random
) -> list[tuple[int, int]]:
    """The pin edges ``(time_us, level)`` a true transition to ``level`` at ``t_us`` produces.

    The first edge is at ``t_us`` to ``level``; then 1…MAX_BOUNCES pairs of (back to the old
    level, to ``level`` again) at distinct, increasing instants within ``bounce_s``, so the last
    edge is to ``level`` at or before ``t_us + bounce_s``. ``level`` is 0 or 1. With
    ``bounce_s`` under 2 µs there is room for no bounce: one edge. Deterministic for a seeded
    ``rng``.
    """
    if level not in (0, 1):
        raise ValueError(f"pin level must be 0 or 1, got {level!r}")
    if bounce_s < 0.0:
        raise ValueError(f"bounce time must be >= 0 s, got {bounce_s!r}")
    bounce_us = int(bounce_s * 1_000_000)
    pairs = min(rng.randint(1, MAX_BOUNCES), bounce_us // 2)
    edges = [(t_us, level)]
    if pairs == 0:
        return edges
    offsets = sorted(rng.sample(range(1, bounce_us + 1), 2 * pairs))
    other = 1 - level
    for i, offset in enumerate(offsets):
        edges.append((t_us + offset, other if i % 2 == 0 else level))
    return edges
