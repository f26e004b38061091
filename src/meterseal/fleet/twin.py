"""One meter's twin: its plan as a scenario, run, and the meter it leaves as fleet-directory files.

The scenario holds what the meter lives through — its model's board with its battery's state
and its RTC's drift, its mains-off intervals, the true cover openings, and the load that flows
through it (loads.py: hourly, less the bypass from the theft on). The kernel runs it; the live
meter it leaves is written as an NVM image and a manifest (docs/fleet.md), with its clock read
at the end of the period — never from the wall clock, so the files are the same on every run.

Must not know: Dask, the other meters, the utility's or the truth's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meterseal.fleet.loads import hourly_load, metered_steps
from meterseal.fleet.models import model_named
from meterseal.fleet.plan import UTC_OFFSET_H, FleetSpec, MeterPlan
from meterseal.sim.fleetdir import OURS, write_meter
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import CoverOp, Scenario

__all__ = ["MeterDone", "meter_scenario", "run_meter"]


@dataclass(frozen=True, slots=True)
class MeterDone:
    """What the twin left, in a few numbers (for the command's summary)."""

    address: str
    cover_total: int
    power_down_total: int


def _overrides(plan: MeterPlan) -> dict[str, object]:
    return {**model_named(plan.model).overrides(plan.battery_state),
            "meter.utc_offset_h": UTC_OFFSET_H, "rtc.drift_ppm": plan.rtc_drift_ppm}


def meter_scenario(spec: FleetSpec, plan: MeterPlan) -> Scenario:
    """The scenario of ``plan``'s meter over the fleet's period."""
    load_w, pv_w = hourly_load(spec.seed, plan.customer, spec.start, spec.days)
    theft = plan.theft
    loads = metered_steps(load_w, pv_w, None if theft is None else theft.start_us,
                          0.0 if theft is None else theft.bypass_fraction)
    return Scenario(
        name=f"{plan.address}: {plan.customer.kind} on {plan.feeder}, {plan.model}",
        start=spec.start, duration_us=spec.duration_us,
        seed=spec.seed * 1_000_003 + plan.index,
        overrides=tuple(sorted(_overrides(plan).items())),
        outages=plan.outages,
        cover=tuple(CoverOp(o.open_us, o.close_us) for o in plan.openings),
        loads=loads,
    )


def run_meter(spec: FleetSpec, plan: MeterPlan, meters_dir: Path | None = None,
              ) -> tuple[LiveMeter, MeterDone]:
    """Run ``plan``'s twin; write its image and manifest into the fleet directory above
    ``meters_dir`` when one is given."""
    meter = LiveMeter.from_scenario(meter_scenario(spec, plan), clock=lambda: 0.0)
    if meters_dir is not None:
        imp, exp = meter.energy()
        _local_ms, valid = meter.clock()
        write_meter(meters_dir.parent, meter.nvm_image(), {
            "address": plan.address, "manufacturer": OURS, "gateway": plan.gateway,
            "utc_offset_h": UTC_OFFSET_H, "import_kwh": imp / 100, "export_kwh": exp / 100,
            "clock": meter.clock_datetime(), "clock_valid": valid,
            "rtc_drift_ppm": plan.rtc_drift_ppm, "scenario": meter.name,
        })
    image = meter.image()
    return meter, MeterDone(plan.address, image.cover_total, image.power_down_total)
