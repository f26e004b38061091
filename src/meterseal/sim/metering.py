"""The energy that truly flows through the meter: the scenario's load while mains is present.

Owns the metering truth the firmware's registers are judged against (I6): piecewise-constant
import and export power from the scenario's load steps, counted only while mains is on. It is
indexed once — the running integral of the load at every step, and of what each outage took
away — so the energy at any instant costs two bisections, never a re-integration.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

__all__ = ["EnergyTruth"]

_US_PER_HOUR = 3.6e9


class _Integral:
    """∫ power dt (Wh) of one piecewise-constant power from 0 (zero before the first step)."""

    __slots__ = ("_cum", "_times", "_watts", "zero")

    def __init__(self, times: np.ndarray, times_list: list[int], watts: np.ndarray) -> None:
        self.zero = not watts.any()
        # Looked up one instant at a time: numpy's per-call overhead on a scalar costs more than
        # the search. As Python ints and floats (the same doubles) with bisect_right, whose
        # search is numpy's searchsorted(side="right") step for step. times_list is
        # times.tolist(), shared by the integrals of one load; a zero power is never looked up.
        self._times = times_list
        self._watts: list[float] = []
        self._cum: list[float] = []
        if self.zero:
            return
        cum = np.zeros(len(times))
        if len(times) > 1:
            np.cumsum(watts[:-1] * (np.diff(times) / _US_PER_HOUR), out=cum[1:])
        self._watts = watts.tolist()
        self._cum = cum.tolist()

    def __call__(self, t_us: int) -> float:
        if self.zero:
            return 0.0
        i = bisect.bisect_right(self._times, t_us) - 1
        if i < 0:
            return 0.0
        return self._cum[i] + self._watts[i] * ((t_us - self._times[i]) / _US_PER_HOUR)


class _Dark:
    """What the outages took from one integral: the energy of the load while mains was off."""

    __slots__ = ("_cum", "_ends", "_integral", "_starts")

    def __init__(self, integral: _Integral, outages: list[tuple[int, int]]) -> None:
        self._integral = integral
        self._starts = [a for a, _ in outages]
        self._ends = [b for _, b in outages]
        self._cum = [0.0, *accumulate(integral(b) - integral(a) for a, b in outages)]

    def __call__(self, t_us: int) -> float:
        j = bisect.bisect_right(self._ends, t_us)  # outages over by t
        lost = self._cum[j]
        if j < len(self._starts) and self._starts[j] < t_us:  # t inside the next one
            lost += self._integral(t_us) - self._integral(self._starts[j])
        return lost


class EnergyTruth:
    """Energy through the meter from the scenario start, in whole mWh (floored)."""

    __slots__ = ("_dark_e", "_dark_i", "_exp", "_imp")

    def __init__(self, steps: Sequence[tuple[int, float, float]],
                 outages: Iterable[tuple[int, int]]) -> None:
        """``steps``: (at_us, import_w, export_w) sorted by time, each holding until the next;
        ``outages``: (from_us, to_us) intervals without mains, not overlapping."""
        self._build([s[0] for s in steps], [s[1] for s in steps], [s[2] for s in steps],
                    outages)

    @classmethod
    def of_loads(cls, loads: Sequence[Any], outages: Iterable[tuple[int, int]]) -> EnergyTruth:
        """From a scenario's LoadSteps (``at_us``, ``import_w``, ``export_w``), column-wise."""
        self = cls.__new__(cls)
        self._build([ld.at_us for ld in loads], [ld.import_w for ld in loads],
                    [ld.export_w for ld in loads], outages)
        return self

    def _build(self, at_us: list[int], imp_w: list[float], exp_w: list[float],
               outages: Iterable[tuple[int, int]]) -> None:
        times = np.maximum(np.array(at_us, dtype=np.int64), 0)
        times_list = times.tolist()
        self._imp = _Integral(times, times_list, np.array(imp_w, dtype=np.float64))
        self._exp = _Integral(times, times_list, np.array(exp_w, dtype=np.float64))
        off = sorted((a, b) for a, b in outages if b > a)
        self._dark_i = _Dark(self._imp, off)
        self._dark_e = _Dark(self._exp, off)

    def mwh(self, t_us: int) -> tuple[int, int]:
        """(import, export) energy from the start to ``t_us``, in mWh, floored."""
        if t_us <= 0:
            return 0, 0
        imp = self._imp(t_us) - self._dark_i(t_us)
        exp = self._exp(t_us) - self._dark_e(t_us)
        # x if x > 0.0 else 0.0 is max(0.0, x) (a zero or NaN gives 0.0), without the call.
        return (int((imp if imp > 0.0 else 0.0) * 1000.0),
                int((exp if exp > 0.0 else 0.0) * 1000.0))
