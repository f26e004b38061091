"""The fleet's plan, drawn before any twin runs: invariants that must hold for every seed and
size (hypothesis), and the load a meter is given keeping the energy the customer uses."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from meterseal.fleet.grid import TAIL_US
from meterseal.fleet.loads import H, hourly_load, metered_steps
from meterseal.fleet.plan import FleetSpec, local_midnight, plan_fleet
from meterseal.sim.metering import EnergyTruth

specs = st.builds(
    FleetSpec,
    meters=st.integers(1, 260),
    days=st.integers(1, 40),
    seed=st.integers(0, 2**40),
    start=st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 1, 1)).map(
        lambda d: local_midnight(d.year, d.month, d.day)),
    thieves=st.floats(0.0, 1.0),
)


@settings(max_examples=40, deadline=None)
@given(specs)
def test_a_plan_is_a_consistent_service_area(spec: FleetSpec) -> None:
    plan = plan_fleet(spec)
    assert [m.index for m in plan.meters] == list(range(spec.meters))
    assert sum(f.count for f in plan.feeders) == spec.meters and all(f.count for f in plan.feeders)
    assert len({m.address for m in plan.meters}) == spec.meters
    assert sum(m.theft is not None for m in plan.meters) == round(spec.thieves * spec.meters + 1e-9)
    end = spec.duration_us
    for m in plan.meters:
        prev = -1
        for o in m.outages:  # disjoint, over before the snapshot
            assert prev <= o.at_us and o.for_us > 0 and o.end_us <= end - TAIL_US
            prev = o.end_us
        spans = [s for s in m.spans if s.scope == "feeder"]
        assert spans == [s for s in plan.feeder_spans if s.feeder == m.feeder]
        prev = -1
        for op in m.openings:  # disjoint, whole seconds, closed before the end
            assert prev < op.open_us < op.close_us < end and op.open_us % 1_000_000 == 0
            prev = op.close_us
        thief_ops = [op for op in m.openings if op.actor == "thief"]
        assert bool(thief_ops) == (m.theft is not None)
        if m.theft is not None:
            assert m.theft.start_us == thief_ops[0].close_us
            assert 0.3 <= m.theft.bypass_fraction <= 0.8
    ids = plan.order_ids()
    assert len(ids) == len(plan.work_orders) == sum(
        op.actor == "staff" for m in plan.meters for op in m.openings)
    for w in plan.work_orders:
        v = w.visit
        assert v.window[0] <= v.opening.open_us < v.opening.close_us <= v.window[1]
    assert [w.order_id for w in plan.work_orders] == sorted(w.order_id for w in plan.work_orders)


@settings(max_examples=15, deadline=None)
@given(specs)
def test_the_same_spec_draws_the_same_plan(spec: FleetSpec) -> None:
    assert plan_fleet(spec) == plan_fleet(spec)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 72), st.floats(0.0, 1.0), st.data())
def test_the_meter_sees_the_load_less_the_bypass(hours: int, fraction: float,
                                                  data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    load = np.round(rng.uniform(0, 5000, hours), 1)
    pv = np.round(np.where(rng.random(hours) < 0.3, rng.uniform(0, 4000, hours), 0.0), 1)
    theft = data.draw(st.integers(0, hours * H - 1))
    steps = metered_steps(load, pv, theft, fraction)
    assert [s.at_us for s in steps] == sorted({s.at_us for s in steps})
    got_imp, got_exp = EnergyTruth.of_loads(steps, []).mwh(hours * H)
    want_imp = want_exp = 0.0
    for h in range(hours):  # each hour: the load before the theft, then less the bypass
        a, b = h * H, (h + 1) * H
        cut = min(max(theft, a), b)
        for share, ld in (((cut - a) / H, load[h]), ((b - cut) / H, load[h] * (1 - fraction))):
            want_imp += share * max(ld - pv[h], 0.0)
            want_exp += share * max(pv[h] - ld, 0.0)
    # Steps are rounded to 0.1 W (0.1 Wh an hour), the integral floored to the mWh.
    assert abs(got_imp / 1000 - want_imp) <= 0.1 * hours + 0.01
    assert abs(got_exp / 1000 - want_exp) <= 0.1 * hours + 0.01


def test_loads_are_the_types_levels_at_a_seasons_scale() -> None:
    spec = FleetSpec(400, 28, 9, local_midnight(2026, 4, 1), 0.0)
    plan = plan_fleet(spec)
    per_type: dict[str, list[float]] = {}
    for m in plan.meters:
        load, pv = hourly_load(spec.seed, m.customer, spec.start, spec.days)
        assert load.min() >= 0 and load.max() <= 20_000 and pv.min() >= 0
        per_type.setdefault(m.customer.kind, []).append(float(load.sum()) / 1000 / spec.days)
    medians = {k: float(np.median(v)) for k, v in per_type.items()}
    assert 3 < medians["household"] < 12 < medians["shop"] < 50 < medians["small workshop"] < 120
    assert len(per_type["household"]) > len(per_type["shop"]) > len(per_type["small workshop"])


def test_most_thieves_choose_the_dark_and_close_before_mains_returns() -> None:
    spec = FleetSpec(600, 60, 3, local_midnight(2026, 1, 1), 1.0)
    plan = plan_fleet(spec)
    firsts = [next(op for op in m.openings if op.actor == "thief") for m in plan.meters]
    dark = []
    for m, op in zip(plan.meters, firsts, strict=True):
        around = [o for o in m.outages if o.at_us <= op.open_us < o.end_us]
        if around:
            dark.append(op.close_us < around[0].end_us)
    assert len(dark) > 0.5 * len(firsts)  # most: 70 % wait for one, where one comes
    assert sum(dark) > 0.95 * len(dark)  # those who chose it finish in it
