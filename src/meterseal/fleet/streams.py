"""Random streams of the fleet generator: one per thing drawn, named, seeded from the fleet's
seed and the thing's name alone (a hash, never Python's salted ``hash``), so a customer, a feeder
or a thief is the same whichever process draws it, in whatever order.

Must not know what the streams are used for.
"""

from __future__ import annotations

import hashlib
import math
import random

import numpy as np

__all__ = ["log_uniform", "numpy_stream", "stream"]


def _digest(seed: int, name: str) -> int:
    h = hashlib.blake2b(f"meterseal-fleet/{seed}/{name}".encode(), digest_size=16)
    return int.from_bytes(h.digest(), "big")


def stream(seed: int, name: str) -> random.Random:
    """The stream called ``name`` of fleet ``seed``."""
    return random.Random(_digest(seed, name))


def numpy_stream(seed: int, name: str) -> np.random.Generator:
    """The same, as a numpy generator (for arrays of draws: hourly noise)."""
    return np.random.Generator(np.random.PCG64(_digest(seed, name)))


def log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    """Evenly spread over the decades from ``lo`` to ``hi``."""
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))
