"""The fit of (R_leak, R_d, C_d) to a datasheet's two leakage figures (redistribution_fit.py).

The referee is the model itself run as the maker's bench does it: apply V to the discharged
part through the test's resistor and the ESR, read the current at 30 min and at 72 h.
"""

from __future__ import annotations

import math

import pytest

from meterseal.hardware import rc2
from meterseal.hardware.redistribution_fit import (
    FitError,
    LeakageFigure,
    apparent_leakage_a,
    fit_redistribution,
)

H = 3600.0
EARLY = LeakageFigure(0.5 * H, 0.5e-3, 5.5)  # Nichicon's class figure for 1 F at 5.5 V
LATE = LeakageFigure(72 * H, 12e-6, 5.5, kind="nominal")


def _bench_current(c, esr, fit, fig):
    """The source current of the bench circuit, read off rc2 directly (not the fit module)."""
    r_series = fig.series_ohm + esr
    n = rc2.node(c, fit.leakage_ohm, 0.0, fit.redistribution_f, fit.redistribution_ohm,
                 fig.voltage_v, r_series)
    v, _ = rc2.state_after(n, 0.0, 0.0, fig.time_s)
    return (fig.voltage_v - v) / r_series


@pytest.mark.parametrize(("c", "esr", "early", "late"), [
    (1.0, 30.0, EARLY, LATE),  # a KW-like coin cell
    (0.22, 75.0, LeakageFigure(0.5 * H, 0.11e-3, 5.5), LeakageFigure(72 * H, 4.3e-6, 5.5)),
    (1.0, 30.0, EARLY, LeakageFigure(24 * H, 20e-6, 5.0, series_ohm=100.0)),  # other V, resistor
    (1.0, 0.5, LeakageFigure(0.5 * H, 1.5e-3, 5.0, series_ohm=1000.0), LATE),  # 1 kΩ bench
])
def test_the_fitted_part_reproduces_both_figures(c, esr, early, late):
    fit = fit_redistribution(c, esr, early, late)
    assert fit.redistribution_f > 0.0
    # The third condition: the branch's time constant is the early figure's time.
    assert fit.redistribution_ohm * fit.redistribution_f == pytest.approx(early.time_s, rel=1e-9)
    for fig in (early, late):
        assert _bench_current(c, esr, fit, fig) == pytest.approx(fig.current_a, rel=1e-6)
        assert apparent_leakage_a(c, esr, fit.leakage_ohm, fit.redistribution_f,
                                  fit.redistribution_ohm, fig) == pytest.approx(fig.current_a,
                                                                                rel=1e-6)


def test_stiff_source_limit_is_the_closed_form():
    # With a tiny ESR: I(t) = V/R_leak + (V/R_d)·e^(−t/τ_d), τ_d = 1800 s. At 72 h the branch
    # is gone (e^−144): R_leak = V/I_72. At 30 min: V/R_d = (I_30 − I_72)·e, C_d = τ_d/R_d.
    fit = fit_redistribution(1.0, 1e-3, EARLY, LATE)
    assert fit.leakage_ohm == pytest.approx(5.5 / 12e-6, rel=1e-5)
    r_d = 5.5 / ((0.5e-3 - 12e-6) * math.e)
    assert fit.redistribution_ohm == pytest.approx(r_d, rel=1e-5)
    assert fit.redistribution_f == pytest.approx(1800.0 / r_d, rel=1e-5)


def test_the_fit_is_the_smallest_branch_for_the_early_figure():
    # Any other τ_d explaining the same early share ΔI needs C_d = τ·ΔI·e^(t/τ)/V > the fit's.
    fit = fit_redistribution(1.0, 1e-3, EARLY, LATE)
    delta_i = 0.5e-3 - 12e-6
    for tau in (600.0, 1200.0, 2400.0, 7200.0):
        other = tau * delta_i * math.exp(1800.0 / tau) / 5.5
        assert other > fit.redistribution_f


def test_figures_a_branch_cannot_explain_are_refused():
    with pytest.raises(FitError, match="below the early one"):
        fit_redistribution(1.0, 30.0, EARLY, LeakageFigure(72 * H, 1e-3, 5.5))
    with pytest.raises(FitError, match="before the late one"):
        fit_redistribution(1.0, 30.0, LATE, EARLY)
    with pytest.raises(FitError, match="still charging"):
        # 1 F through 10 kΩ is far from charged after 1 h: it draws more than 1 µA by itself.
        fit_redistribution(1.0, 0.5, LeakageFigure(600.0, 1e-3, 5.0, series_ohm=10_000.0),
                           LeakageFigure(3600.0, 1e-6, 5.0, series_ohm=10_000.0))
    with pytest.raises(FitError, match="series resistance"):
        apparent_leakage_a(1.0, 0.0, 1e6, 0.0, 0.0, EARLY)


def test_an_early_figure_the_main_capacitance_explains_needs_no_branch():
    # Through 1 kΩ, 1 F still draws 5.5 mA·e^(−1.8) ≈ 0.91 mA at 30 min by charging alone:
    # a 0.5 mA figure then needs no branch at all.
    fit = fit_redistribution(1.0, 0.5, LeakageFigure(0.5 * H, 0.5e-3, 5.5, series_ohm=1000.0),
                             LATE)
    assert (fit.redistribution_f, fit.redistribution_ohm) == (0.0, 0.0)
    assert fit.leakage_ohm == pytest.approx(5.5 / 12e-6, rel=1e-4)
