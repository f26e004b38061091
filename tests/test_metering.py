"""The metering truth: energy through the meter while mains is on, indexed once."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from meterseal.sim.metering import EnergyTruth

H = 3_600_000_000


def brute_mwh(steps, outages, t):  # type: ignore[no-untyped-def]
    """Exact (rational) energy, microsecond by segment: the definition, slowly."""
    total = Fraction(0)
    edges = sorted({0, t, *(s[0] for s in steps if s[0] < t),
                    *(x for o in outages for x in o if 0 < x < t)})
    for a, b in itertools.pairwise(edges):
        w = Fraction(0)
        for at, imp, _exp in steps:
            if at <= a:
                w = Fraction(imp)
        if any(o[0] <= a < o[1] for o in outages):
            continue
        total += w * (b - a) / H
    return total * 1000


@st.composite
def cases(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 12))
    times = sorted(set(draw(st.lists(st.integers(0, 48 * H), min_size=n, max_size=n))))
    steps = [(t, float(draw(st.integers(0, 5000))), 0.0) for t in times]
    outages = []
    t = draw(st.integers(0, 10 * H))
    for _ in range(draw(st.integers(0, 4))):
        length = draw(st.integers(1, 6 * H))
        outages.append((t, t + length))
        t += length + draw(st.integers(1, 6 * H))
    return steps, outages, draw(st.integers(0, 60 * H))


@settings(max_examples=300, deadline=None)
@given(cases())
def test_energy_is_the_load_integrated_while_mains_is_on(case) -> None:  # type: ignore[no-untyped-def]
    steps, outages, t = case
    got = EnergyTruth(steps, outages).mwh(t)[0]
    exact = brute_mwh(steps, outages, t)
    # Floored mWh of a float computation: at most one unit under the exact value, never over.
    assert exact - 1 - Fraction(1, 10**6) <= got <= exact + Fraction(1, 10**6)


def test_no_energy_flows_during_an_outage_and_none_before_the_first_step() -> None:
    e = EnergyTruth([(H, 1000.0, 10.0)], [(2 * H, 5 * H)])
    assert e.mwh(H) == (0, 0)
    assert e.mwh(2 * H) == (1_000_000, 10_000)
    assert e.mwh(4 * H) == (1_000_000, 10_000)
    assert e.mwh(6 * H) == (2_000_000, 20_000)
