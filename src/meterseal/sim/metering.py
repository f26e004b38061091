"""The energy that truly flows through the meter: the scenario's load while mains is present.

Owns the metering truth the firmware's registers are judged against (I6): piecewise-constant
import and export power from the scenario's load steps, counted only while mains is on. It is
indexed once — the running integral at every instant where the power changes — so the energy
at any instant costs one bisection, never a re-integration from the start.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

__all__ = ["EnergyTruth"]

_US_PER_HOUR = 3.6e9


class EnergyTruth:
    """Energy through the meter from the scenario start, in whole mWh (floored)."""

    __slots__ = ("_cum", "_exp_w", "_imp_w", "_times")

    def __init__(self, steps: Sequence[tuple[int, float, float]],
                 outages: Iterable[tuple[int, int]]) -> None:
        """``steps``: (at_us, import_w, export_w), sorted by time (power holds until the next);
        ``outages``: (from_us, to_us) intervals without mains."""
        edges: dict[int, None] = {0: None}
        for at_us, _i, _e in steps:
            edges[max(0, at_us)] = None
        off = sorted((a, b) for a, b in outages if b > a)
        for a, b in off:
            edges[a] = None
            edges[b] = None
        times = sorted(edges)
        imp_w: list[float] = []
        exp_w: list[float] = []
        k = 0
        w_imp = w_exp = 0.0
        j = 0
        for t in times:
            while k < len(steps) and steps[k][0] <= t:
                w_imp, w_exp = steps[k][1], steps[k][2]
                k += 1
            while j < len(off) and off[j][1] <= t:
                j += 1
            dark = j < len(off) and off[j][0] <= t < off[j][1]
            imp_w.append(0.0 if dark else w_imp)
            exp_w.append(0.0 if dark else w_exp)
        cum = [(0.0, 0.0)]
        for i in range(1, len(times)):
            hours = (times[i] - times[i - 1]) / _US_PER_HOUR
            ci, ce = cum[-1]
            cum.append((ci + imp_w[i - 1] * hours, ce + exp_w[i - 1] * hours))
        self._times = times
        self._imp_w = imp_w
        self._exp_w = exp_w
        self._cum = cum

    def mwh(self, t_us: int) -> tuple[int, int]:
        """(import, export) energy from the start to ``t_us``, in mWh, floored."""
        if t_us <= 0:
            return 0, 0
        i = bisect.bisect_right(self._times, t_us) - 1
        hours = (t_us - self._times[i]) / _US_PER_HOUR
        ci, ce = self._cum[i]
        return (int((ci + self._imp_w[i] * hours) * 1000.0),
                int((ce + self._exp_w[i] * hours) * 1000.0))
