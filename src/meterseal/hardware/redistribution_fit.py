"""Fitting the redistribution branch (rc2.py) to a supercapacitor datasheet's leakage figures.

Owns the apparent leakage of the model — the current a source must supply to hold a discharged
part at V, read ``t`` after the voltage is applied — and the fit of (R_leak, R_d, C_d) to two such
figures. Makers state the figure at one or two instants: after 30 min of charging (Nichicon,
KEMET FC "current (30 minutes value)", Korchip), after 24 h (Forecon) or 72 h (Eaton PB). The
test circuit puts a protective resistor between the source and the part (IEC 62391-1: 1 kΩ or
less; Korchip: 100 Ω for 0.47 F, 1 kΩ for 1 F); the part's own ESR is in series with it, so
``series_ohm`` below is that resistor and the ESR is added. Without a resistor stated, a stiff
source (the ESR alone) is assumed.

Three unknowns, two figures. The third condition: **the branch's time constant equals the early
figure's time**, τ_d = R_d·C_d = t_early. Why: with a stiff source the apparent leakage is
I(t) = V/R_leak + (V/R_d)·e^(−t/τ_d). The early figure fixes the branch's share at t_early,
ΔI = (V/R_d)·e^(−t_early/τ_d); the charge the branch then holds when full is C_d·V =
τ_d·ΔI·e^(t_early/τ_d), which is smallest at τ_d = t_early. So the fit is the smallest
redistribution capacity consistent with the early figure. A larger, slower branch would explain
the figure too; it would make the sag after a short charge deeper and a long-charged part hold
more. With τ_d = 30 min the branch has spent itself by 72 h (e^(−144)), so the late figure is
then the steady leakage V/R_leak. With a series resistor the same condition is solved through the
full model (the main capacitance's own charging current then counts in the early figure, as it
does on the maker's bench).

Makers' early figures are maxima (Nichicon "0.5·C mA", NEC TOKIN/KEMET "max. current at 30
minutes", Forecon "MAX"); Eaton's 72-h figure is "nominal". The fit takes the figures as given;
the catalogue says which kind each one is, so a fit to a maximum is a worst-case branch.

Must not know profiles or the catalogue: figures in, resistances and a capacitance out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from meterseal.hardware import rc2

__all__ = ["FitError", "LeakageFigure", "Redistribution", "apparent_leakage_a",
           "fit_redistribution"]


class FitError(ValueError):
    """Two figures that no branch of this model can reproduce; the message says why."""


@dataclass(frozen=True, slots=True)
class LeakageFigure:
    """A maker's leakage figure: ``current_a`` drawn ``time_s`` after ``voltage_v`` was applied
    to the discharged part through ``series_ohm`` (the test's protective resistor; the part's
    ESR is added to it). ``kind`` is "maximum", "nominal" or "typical", as the maker states it."""

    time_s: float
    current_a: float
    voltage_v: float
    series_ohm: float = 0.0
    kind: str = "maximum"
    source: str = ""


@dataclass(frozen=True, slots=True)
class Redistribution:
    """A fitted part: leakage across the main C, and the slow branch (0 F: none needed)."""

    leakage_ohm: float
    redistribution_ohm: float
    redistribution_f: float


def apparent_leakage_a(capacitance_f: float, esr_ohm: float, leakage_ohm: float,
                       redistribution_f: float, redistribution_ohm: float,
                       figure: LeakageFigure) -> float:
    """The current the model draws ``figure.time_s`` after ``figure.voltage_v`` is applied to the
    discharged part through ``figure.series_ohm`` + ESR: (V − v(t))/R_series."""
    r_series = figure.series_ohm + esr_ohm
    if not r_series > 0.0:
        raise FitError("the leakage test needs some series resistance (the part's ESR or the "
                       "test's resistor) to define its current")
    n = rc2.node(capacitance_f, leakage_ohm, 0.0, redistribution_f, redistribution_ohm,
                 figure.voltage_v, r_series)
    v, _ = rc2.state_after(n, 0.0, 0.0, figure.time_s)
    return (figure.voltage_v - v) / r_series


def _increasing_root(fun: Callable[[float], float], lo: float, hi: float) -> float:
    """The x in [lo, hi] where an increasing ``fun`` crosses 0 (fun(lo) ≤ 0 < fun(hi)), by
    bisection to a relative 1e-13."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if fun(mid) > 0.0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


def _expand(fun: Callable[[float], float], start: float) -> float:
    """A value where the increasing ``fun`` is positive, doubling from ``start``."""
    x = start
    for _ in range(200):
        if fun(x) > 0.0:
            return x
        x *= 2.0
    raise FitError("no branch large enough explains the early leakage figure")


def fit_redistribution(capacitance_f: float, esr_ohm: float, early: LeakageFigure,
                       late: LeakageFigure) -> Redistribution:
    """(R_leak, R_d, C_d) that reproduce both figures with τ_d = early.time_s (module docstring).

    FitError when the figures contradict the model: the late figure is not later or not lower
    than the early one, or is below what charging the main capacitance alone draws by then.
    """
    if not 0.0 < early.time_s < late.time_s:
        raise FitError(f"the early figure ({early.time_s:g} s) must come before the late one "
                       f"({late.time_s:g} s)")
    g_early = early.current_a / early.voltage_v
    g_late = late.current_a / late.voltage_v
    if not 0.0 < g_late < g_early:
        raise FitError(f"the late leakage ({late.current_a:g} A at {late.voltage_v:g} V) must be "
                       f"positive and below the early one ({early.current_a:g} A at "
                       f"{early.voltage_v:g} V)")
    tau_d = early.time_s

    def current(fig: LeakageFigure, g_leak: float, g_d: float) -> float:
        r_leak = math.inf if g_leak == 0.0 else 1.0 / g_leak
        if g_d == 0.0:
            return apparent_leakage_a(capacitance_f, esr_ohm, r_leak, 0.0, 0.0, fig)
        return apparent_leakage_a(capacitance_f, esr_ohm, r_leak, tau_d * g_d, 1.0 / g_d, fig)

    def leak_for(g_d: float) -> float:
        """The leakage conductance that makes the late figure come out, for this branch."""

        def miss(g_leak: float) -> float:
            return current(late, g_leak, g_d) - late.current_a

        if miss(0.0) > 0.0:
            raise FitError(
                f"at {late.time_s:g} s the model already draws more than {late.current_a:g} A "
                "without any leakage (the main capacitance is still charging through the test's "
                "series resistance): the figures need a different test circuit"
            )
        return _increasing_root(miss, 0.0, _expand(miss, g_late))

    def early_miss(g_d: float) -> float:
        return current(early, leak_for(g_d), g_d) - early.current_a

    if early_miss(0.0) >= 0.0:  # the main capacitance and the leakage explain it alone
        return Redistribution(leakage_ohm=1.0 / leak_for(0.0), redistribution_ohm=0.0,
                              redistribution_f=0.0)
    g_d = _increasing_root(early_miss, 0.0, _expand(early_miss, g_early))
    return Redistribution(leakage_ohm=1.0 / leak_for(g_d), redistribution_ohm=1.0 / g_d,
                          redistribution_f=tau_d * g_d)
