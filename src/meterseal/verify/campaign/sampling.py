"""How a campaign draws its values: the time units, log-uniform and weighted picks.

Owns the primitives every part of the generator (the board, the timelines, the adversaries)
draws with, so each spreads its values the same way: "log-uniform a–b" evenly over the
decades, integers in µs or floats to four significant digits (they read back from TOML
exactly); and the gap kept between two cover operations.

Must not know: what is drawn (boards.py, generate.py, adversaries.py).
"""

from __future__ import annotations

import math
import random

MS = 1_000
S = 1_000_000
MIN = 60 * S
H = 60 * MIN
DAY = 24 * H

GAP_US = 10 * MS  # between two cover operations, and the shortest one: twice the bounce


def log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def pick(rng: random.Random, options: tuple, weights: tuple[float, ...]):  # type: ignore[no-untyped-def, type-arg]
    return rng.choices(options, weights=weights)[0]


def log_uniform_f(rng: random.Random, lo: float, hi: float) -> float:
    """Log-uniform in [lo, hi], to four significant digits (reads back from TOML exactly)."""
    return float(f"{math.exp(rng.uniform(math.log(lo), math.log(hi))):.4g}")
