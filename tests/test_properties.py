"""Random timelines through the whole twin: every invariant I1–I6 must hold on every one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from meterseal.verify.result import simulate
from tests.strategies import timelines

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


def _check(sc) -> None:  # type: ignore[no-untyped-def]
    out = simulate(sc, trace=False)
    j = out.judgment
    assert j.passed, {k: v for k, v in j.problems.items() if v}
    assert len(j.verdicts) == len(sc.cover)
    assert j.undetectable == sum(v.status == "undetectable" for v in j.verdicts)


@settings(max_examples=500, **_COMMON)
@given(timelines())
def test_invariants_hold_on_random_timelines(sc) -> None:  # type: ignore[no-untyped-def]
    _check(sc)


@pytest.mark.slow
@settings(max_examples=20_000, **_COMMON)
@given(timelines(max_outages=8, max_covers=8))
def test_invariants_hold_on_many_random_timelines(sc) -> None:  # type: ignore[no-untyped-def]
    _check(sc)
