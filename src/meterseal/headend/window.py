"""Which records of a log a collection must read, and where the watermark goes afterwards.

A meter keeps the latest RING records of each log and counts all of them (the all-time seq).
Given what the store holds (a :class:`Mark`) and the log's total now, the window is the newest
records to ask for: everything above the watermark, and the record still open at the last
collection (its close half may have come since). New records that already left the ring are
lost to the head-end and counted, never silently skipped.

Pure functions; must not know links, frames or SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meterseal.headend.harvest import Mark
from meterseal.protocols.dlt645.catalog import RING


@dataclass(frozen=True, slots=True)
class Window:
    total: int  # the log's all-time total now
    first: int  # the lowest seq this collection wants
    count: int  # how many of the latest records to read (0..RING)
    lost: int  # new records that left the ring before anyone read them

    @property
    def oldest_in_ring(self) -> int:
        return max(1, self.total - RING + 1)

    def seq_of(self, n: int) -> int:
        """The seq of the n-th latest record (n = 1 is the newest)."""
        return self.total - n + 1


def window(mark: Mark, total: int) -> Window:
    first = mark.seq + 1 if mark.open_seq is None else min(mark.seq + 1, mark.open_seq)
    if total < first:
        return Window(total, first, 0, 0)
    oldest = max(1, total - RING + 1)
    lost = max(0, min(total, oldest - 1) - mark.seq)
    return Window(total, first, total - max(first, oldest) + 1, lost)


def advance(mark: Mark, win: Window, closed_by_seq: Mapping[int, bool], base: int) -> Mark:
    """The watermark after reading ``closed_by_seq`` (seq -> closed?) in ``win``: up to the
    highest seq below which nothing wanted is missing, so that a record the meter filed
    between our reading its total and its ring is read next time rather than skipped."""
    s = max(win.first, win.oldest_in_ring)
    while s <= win.total and s in closed_by_seq:
        s += 1
    top = max(mark.seq, s - 1)
    still_open = [q for q, closed in closed_by_seq.items() if not closed and q <= top]
    return Mark(top, min(still_open) if still_open else None, base)
