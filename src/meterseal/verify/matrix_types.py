"""The matrix's vocabulary: a case, what is expected of each true opening, and the time base.

Shared by the matrix modules (matrix.py, matrix_field.py); holds shapes and constants only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from meterseal.sim.scenario import Scenario, parse_duration

START = datetime.fromisoformat("2026-03-01T08:00:00+08:00")


def d(text: str) -> int:
    return parse_duration(text, "matrix")


@dataclass(frozen=True, slots=True)
class Expect:
    status: str  # recorded | undetectable
    quality: str | None = None  # exact | deferred | bounded | unsynced (when recorded)


@dataclass(frozen=True, slots=True)
class Case:
    key: str
    title: str
    why: str
    scenario: Scenario
    expect: tuple[Expect, ...]


EXACT = Expect("recorded", "exact")
DEFERRED = Expect("recorded", "deferred")
BOUNDED = Expect("recorded", "bounded")
UNSYNCED = Expect("recorded", "unsynced")
UNDETECTABLE = Expect("undetectable")
