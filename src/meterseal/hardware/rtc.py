"""The real-time clock: a local-time millisecond counter with drift, that stops without supply.

The model. The RTC counts local standard time in ms since 2000-01-01T00:00 (local standard
time, no daylight saving, as meters keep it). While it runs, its count advances at
(1 + drift_ppm·1e-6) × true time. When its supply falls below ``rtc.min_voltage_v`` the kernel
calls ``stop``: the count freezes and the oscillator-stop flag is raised (``valid`` False).
``start`` runs on from the frozen count, still invalid, until the firmware ``set``s it.

Must not know about the supply voltage itself (the kernel decides when to stop and start it),
nor about the firmware's use of the time. Time arguments are integer µs of simulation time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

__all__ = ["Rtc", "datetime_from_local_ms", "local_ms_from_datetime"]

_MS = timedelta(milliseconds=1)


def _local_epoch(utc_offset_h: float) -> datetime:
    return datetime(2000, 1, 1, tzinfo=timezone(timedelta(hours=utc_offset_h)))


def local_ms_from_datetime(when: datetime, utc_offset_h: float) -> int:
    """Ms since 2000-01-01T00:00 local standard time (UTC + ``utc_offset_h``) of an aware
    datetime, rounded down to the ms."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"time {when.isoformat()} needs a UTC offset (e.g. +08:00)")
    return (when - _local_epoch(utc_offset_h)) // _MS


def datetime_from_local_ms(local_ms: int, utc_offset_h: float) -> datetime:
    """The aware datetime (in the meter's standard-time zone) of a local ms count."""
    return _local_epoch(utc_offset_h) + timedelta(milliseconds=local_ms)


class Rtc:
    """A drifting RTC with an oscillator-stop flag. Plain class (CPython, on the kernel's path).

    Construct with the scenario start's local ms: the RTC is correct and valid at ``start_us``.
    """

    __slots__ = ("_base_frac_ms", "_base_ms", "_base_us", "_rate", "_running", "_valid")

    def __init__(self, start_local_ms: int, drift_ppm: float, start_us: int = 0) -> None:
        self._rate = 1.0 + drift_ppm * 1e-6
        self._base_ms = int(start_local_ms)
        self._base_frac_ms = 0.0
        self._base_us = int(start_us)
        self._running = True
        self._valid = True

    @classmethod
    def from_profile(
        cls, profile: Mapping[str, object], start_local_ms: int, start_us: int = 0
    ) -> Rtc:
        """An RTC with the profile's ``rtc.drift_ppm``, correct at ``start_us``."""
        return cls(start_local_ms, float(profile["rtc.drift_ppm"]), start_us)  # type: ignore[arg-type]

    @property
    def running(self) -> bool:
        """Whether the oscillator runs (its supply is up)."""
        return self._running

    @property
    def valid(self) -> bool:
        """False once the oscillator has stopped, until the time is ``set`` again."""
        return self._valid

    def _elapsed_ms(self, at_us: int) -> float:
        """Local ms (fractional) since the base count, as of ``at_us``."""
        if not self._running:
            return self._base_frac_ms
        return self._base_frac_ms + (at_us - self._base_us) * self._rate / 1000.0

    def read(self, at_us: int) -> tuple[int, bool]:
        """``(local_ms, valid)`` at simulation time ``at_us``."""
        return self._base_ms + math.floor(self._elapsed_ms(at_us)), self._valid

    def stop(self, at_us: int) -> None:
        """Supply fell below the RTC's minimum at ``at_us``: freeze the count, flag it invalid."""
        if self._running:
            elapsed_ms = self._elapsed_ms(at_us)
            whole_ms = math.floor(elapsed_ms)
            self._base_ms += whole_ms
            self._base_frac_ms = elapsed_ms - whole_ms
            self._base_us = at_us
            self._running = False
        self._valid = False

    def start(self, at_us: int) -> None:
        """The supply is back at ``at_us``: run on from the frozen count (still invalid)."""
        if not self._running:
            self._base_us = at_us
            self._running = True

    def set(self, at_us: int, local_ms: int) -> None:
        """Set the time to ``local_ms`` at ``at_us``; the RTC is valid again."""
        self._base_ms = int(local_ms)
        self._base_frac_ms = 0.0
        self._base_us = at_us
        self._valid = True

    def __repr__(self) -> str:
        return (
            f"Rtc(base_ms={self._base_ms!r}, base_us={self._base_us!r}, rate={self._rate!r}, "
            f"running={self._running!r}, valid={self._valid!r})"
        )
