"""The service area as a plan: every meter's customer, feeder, model, battery, outages, cover
openings and theft, and the utility's work orders — all drawn before any twin runs.

``plan_fleet(spec)`` is a pure function of the spec: each thing is drawn from its own named
stream (streams.py), so a meter's plan does not depend on how many processes draw it or in what
order. Work orders are numbered in time order over the whole area. What a meter's twin does
with its plan is twin.py's.

Must not know: Dask, files, the kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from meterseal.fleet.grid import Feeder, Span, feeder_outages, feeders, merged, meter_outages
from meterseal.fleet.loads import Customer, draw_customer
from meterseal.fleet.models import MODELS, model_named
from meterseal.fleet.people import Opening, Theft, Visit, thief_openings, visits, without_clashes
from meterseal.fleet.streams import stream
from meterseal.sim.scenario import Outage

__all__ = ["UTC_OFFSET_H", "FleetSpec", "MeterPlan", "Plan", "WorkOrder", "address_of",
           "local_midnight", "plan_fleet"]

DAY_US: Final = 86_400_000_000
UTC_OFFSET_H: Final = 8.0  # the area's meters keep UTC+8 standard time
ADDRESS_PREFIX: Final = "6100"
DRIFT_PPM: Final = tuple(range(-8, 9))  # whole ppm: the profile a worker resolves is reused
_BATTERY_WEIGHTS: Final = {"healthy": 0.80, "weak": 0.10, "undervoltage": 0.06, "absent": 0.04}


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """What ``meterseal fleet`` was asked for."""

    meters: int
    days: int
    seed: int
    start: datetime  # a local midnight, with the area's offset
    thieves: float  # the share of customers who steal

    @property
    def duration_us(self) -> int:
        return self.days * DAY_US

    def at(self, t_us: int) -> datetime:
        return self.start + timedelta(microseconds=t_us)


def local_midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=timezone(timedelta(hours=UTC_OFFSET_H)))


def address_of(index: int) -> str:
    return f"{ADDRESS_PREFIX}{index + 1:08d}"


@dataclass(frozen=True, slots=True)
class WorkOrder:
    order_id: str
    address: str
    visit: Visit


@dataclass(frozen=True, slots=True)
class MeterPlan:
    """One meter's life over the period, as drawn."""

    index: int
    address: str
    customer: Customer
    feeder: str
    gateway: str
    model: str
    battery_state: str
    rtc_drift_ppm: float
    spans: tuple[Span, ...]  # its feeder's outages and its own, in time order
    outages: tuple[Outage, ...]  # mains off at this meter: the union of its spans
    openings: tuple[Opening, ...]
    theft: Theft | None

    @property
    def customer_id(self) -> str:
        return f"C{self.index + 1:07d}"

    def in_outage(self, t_us: int) -> bool:
        return any(o.at_us <= t_us < o.end_us for o in self.outages)


@dataclass(frozen=True, slots=True)
class Plan:
    spec: FleetSpec
    feeders: tuple[Feeder, ...]
    feeder_spans: tuple[Span, ...]
    meters: tuple[MeterPlan, ...]
    work_orders: tuple[WorkOrder, ...]

    def order_ids(self) -> dict[tuple[str, int], str]:
        """(address, open_us) of each staff opening -> its work order's id."""
        return {(w.address, w.visit.opening.open_us): w.order_id for w in self.work_orders}


def _thieves(spec: FleetSpec) -> frozenset[int]:
    k = min(spec.meters, math.floor(spec.thieves * spec.meters + 0.5))
    return frozenset(stream(spec.seed, "thieves").sample(range(spec.meters), k))


def _meter(spec: FleetSpec, index: int, feeder: Feeder, spans: tuple[Span, ...],
           thief: bool) -> tuple[MeterPlan, list[Visit]]:
    rng = stream(spec.seed, f"meter/{index}")
    model = rng.choices(MODELS, weights=[m.share for m in MODELS])[0]
    states = model_named(model.name).battery_states()
    battery = rng.choices(states, weights=[_BATTERY_WEIGHTS[s] for s in states])[0]
    drift = float(rng.choice(DRIFT_PPM))
    address = address_of(index)
    own = meter_outages(spec.seed, index, feeder.name, address, spec.duration_us)
    all_spans = tuple(sorted((*spans, *own), key=lambda s: (s.start_us, s.scope)))
    outages = merged(all_spans)
    theft_ops: list[Opening] = []
    theft = None
    if thief:
        theft_ops, theft = thief_openings(spec.seed, index, spec.duration_us, outages)
    staff = visits(spec.seed, index, spec.start, spec.duration_us)
    openings, kept = without_clashes(theft_ops, staff)
    customer = draw_customer(spec.seed, index, spec.days)
    plan = MeterPlan(index, address, customer, feeder.name, feeder.gateway, model.name, battery,
                     drift, all_spans, outages, tuple(openings), theft)
    return plan, kept


def plan_fleet(spec: FleetSpec) -> Plan:
    area = feeders(spec.seed, spec.meters)
    thieves = _thieves(spec)
    meters: list[MeterPlan] = []
    orders: list[tuple[int, str, Visit]] = []
    feeder_spans: list[Span] = []
    for f in area:
        spans = feeder_outages(spec.seed, f, spec.duration_us)
        feeder_spans.extend(spans)
        for index in range(f.first, f.first + f.count):
            plan, kept = _meter(spec, index, f, spans, index in thieves)
            meters.append(plan)
            orders.extend((v.window[0], plan.address, v) for v in kept)
    orders.sort(key=lambda o: (o[0], o[1]))
    work = tuple(WorkOrder(f"WO{n + 1:06d}", address, v)
                 for n, (_t, address, v) in enumerate(orders))
    return Plan(spec, area, tuple(feeder_spans), tuple(meters), work)
