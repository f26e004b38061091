"""Daily energy: the freezes a meter took since the newest one the store holds, as rows.

Owns the reading plan of a meter's daily freezes, incremental by freeze time: the store's
watermark is the newest ``frozen_at`` it holds for the meter; only freezes taken after it are
read. Our meters say the newest freeze's time in their totals answer (`04 80 FF 00`), so a meter
with nothing new costs nothing more; new ones come through our extended freezes (seq, time
quality, time and both energies in one answer: `04 80 06 nn`, or the block of all 62,
`04 80 06 FF`, when 4 or more are wanted). Any other meter is asked the standard way: the
freeze times `05 06 00 nn`, newest first, with the energies of each new one (`05 06 01 nn`,
`05 06 02 nn`), until one is not new; and the newest time once more at the end — a midnight that
passed while it was being read would have shifted what `nn` means, so then nothing is taken this
time (the next collection takes it).

A meter freezes once a day, so a new freeze less than a day after the watermark is the oldest
new one: the reading stops there without asking for the next.

A freeze closes a day: the row's ``day`` is the local date twelve hours before the freeze time
(a midnight freeze closes the day before; a meter that freezes at 23:59 closes that day).

Must not know: SQL, sockets, the firmware.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Final, TypeVar

from meterseal.headend.harvest import DailyEnergyRow
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.catalog import (
    FREEZES,
    DataItem,
    ExtendedFreeze,
    ExtendedFreezeBlock,
    FreezeEnergy,
    FreezeTime,
    Value,
)
from meterseal.protocols.dlt645.values import MS_PER_DAY, civil

__all__ = ["BLOCK_FROM", "DailyReader"]

V = TypeVar("V", bound=Value)
Get = Callable[[DataItem, type[V], int], Awaitable[V]]
BLOCK_FROM: Final = 4  # this many freezes wanted or more: one block (6 frames) beats singles
_HALF_DAY_MS: Final = MS_PER_DAY // 2
_EPOCH: Final = datetime(2000, 1, 1)


class DailyReader:
    """The new daily freezes of one meter. ``get(item, cls, n)`` reads and decodes the n-th DI
    of a catalogue row; ``block()`` reads and decodes `04 80 06 FF`."""

    def __init__(self, get: Get, block: Callable[[], Awaitable[ExtendedFreezeBlock]],
                 utc_offset_h: float, through: datetime | None) -> None:
        self._get = get
        self._block = block
        self._tz = timezone(timedelta(hours=utc_offset_h))
        # The watermark as the meter's local ms (None: the store holds no freeze of it).
        self._through_ms = None if through is None else (
            (through.astimezone(self._tz).replace(tzinfo=None) - _EPOCH)
            // timedelta(milliseconds=1))

    def _new(self, time_ms: int | None) -> bool:
        return time_ms is not None and (self._through_ms is None or time_ms > self._through_ms)

    def _last_new(self, time_ms: int) -> bool:
        """Whether a new freeze at ``time_ms`` is the oldest new one: a meter freezes once a
        day, so the one before it is at least a day older."""
        return self._through_ms is not None and time_ms - MS_PER_DAY <= self._through_ms

    def _wanted(self, newest_ms: int) -> int:
        """How many freezes are likely new: one a day since the watermark (all when none)."""
        if self._through_ms is None:
            return FREEZES
        return max(1, min(FREEZES, (newest_ms - self._through_ms) // MS_PER_DAY))

    def _row(self, time_ms: int, import_units: int, export_units: int) -> DailyEnergyRow:
        frozen = civil(time_ms).replace(tzinfo=self._tz)
        return DailyEnergyRow(civil(time_ms - _HALF_DAY_MS).date().isoformat(),
                              import_units / 100, export_units / 100,
                              frozen.isoformat(timespec="seconds"))

    async def ours(self, newest: FreezeTime | None) -> list[DailyEnergyRow]:
        """Through our extended freezes; ``newest``: what the totals answer said (None: ask)."""
        if newest is None:
            newest = await self._get(cat.FREEZE_TIME, FreezeTime, 1)
        if not self._new(newest.time_ms):
            return []
        assert newest.time_ms is not None
        wanted = self._wanted(newest.time_ms)
        if wanted >= BLOCK_FROM:
            found = [f for f in (await self._block()).freezes if self._new(f.time_ms)]
        else:
            found = []
            for n in range(1, FREEZES + 1):
                ext = await self._get(cat.MFR_FREEZE, ExtendedFreeze, n)
                if ext.time_ms is None or not self._new(ext.time_ms):
                    break
                found.append(ext)
                if self._last_new(ext.time_ms):
                    break
        return [self._row(f.time_ms, f.import_0p01kwh, f.export_0p01kwh)
                for f in found if f.time_ms is not None]

    async def standard(self) -> list[DailyEnergyRow]:
        """Through the standard freeze identifiers (any maker's meter)."""
        first = await self._get(cat.FREEZE_TIME, FreezeTime, 1)
        rows = []
        when = first
        for n in range(1, FREEZES + 1):
            if n > 1:
                when = await self._get(cat.FREEZE_TIME, FreezeTime, n)
            if not self._new(when.time_ms):
                break
            assert when.time_ms is not None
            imp = await self._get(cat.FREEZE_IMPORT, FreezeEnergy, n)
            exp = await self._get(cat.FREEZE_EXPORT, FreezeEnergy, n)
            rows.append(self._row(when.time_ms, imp.total_0p01kwh, exp.total_0p01kwh))
            if self._last_new(when.time_ms):
                break
        if rows and await self._get(cat.FREEZE_TIME, FreezeTime, 1) != first:
            return []  # a freeze came while we read: the numbering moved under us
        return rows
