"""The fleet directory's files beside the meters: ``fleet.toml``, what the utility knows
(``utility/``) and the ground truth (``truth/``, for evaluation only).

Layout and columns are a contract other tools read (docs/fleet.md); columns may be added at the
end of a file, never renamed or moved. CSV with a header, ``\\n`` line ends, times ISO-8601 with
the area's offset to the second, booleans ``true``/``false``, empty for none; rows in a fixed
order, so the same plan gives the same bytes.

Must not know: Dask, the kernel; the meters' images (twin.py writes those).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Final

from meterseal.fleet.models import MODELS, capability
from meterseal.fleet.plan import Plan
from meterseal.sim.fleetdir import FORMAT, MARKER, manifest_text

__all__ = ["write_fleet_toml", "write_truth", "write_utility"]

UTILITY: Final = "utility"
TRUTH: Final = "truth"


def _csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows([_cell(v) for v in row] for row in rows)


def _cell(v: object) -> object:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else v


def write_fleet_toml(root: Path, plan: Plan, name: str) -> None:
    spec = plan.spec
    (root / MARKER).write_text(manifest_text({
        "format": FORMAT, "name": name, "seed": spec.seed, "meters": spec.meters,
        "days": spec.days, "start": spec.start.isoformat(), "thieves": spec.thieves,
    }), encoding="utf-8")


def write_utility(root: Path, plan: Plan) -> None:
    """What the utility keeps: its customers, its meter models, its work orders."""
    at = plan.spec.at
    _csv(root / UTILITY / "customers.csv",
         ("address", "customer_id", "customer_type", "feeder", "gateway", "meter_model"),
         ((m.address, m.customer_id, m.customer.kind, m.feeder, m.gateway, m.model)
          for m in plan.meters))
    rows = []
    for model in MODELS:
        cap = capability(model)
        rows.append((model.name, model.topology, model.supercap_part, model.battery,
                     model.wake_mode, cap.sees_outage_openings, cap.watch_hours, model.radio))
    _csv(root / UTILITY / "models.csv",
         ("meter_model", "topology", "supercap_part", "battery", "wake_mode",
          "sees_outage_openings", "watch_hours", "radio_module"), rows)
    _csv(root / UTILITY / "work_orders.csv",
         ("order_id", "address", "staff", "start", "end", "reason"),
         ((w.order_id, w.address, w.visit.staff, _iso(at(w.visit.window[0])),
           _iso(at(w.visit.window[1])), w.visit.reason) for w in plan.work_orders))


def write_truth(root: Path, plan: Plan) -> None:
    """What really happened: thieves, every cover opening, every outage."""
    at = plan.spec.at
    _csv(root / TRUTH / "meters.csv",
         ("address", "thief", "theft_start", "bypass_fraction", "battery_state",
          "rtc_drift_ppm"),
         ((m.address, m.theft is not None,
           None if m.theft is None else _iso(at(m.theft.start_us)),
           None if m.theft is None else m.theft.bypass_fraction, m.battery_state,
           m.rtc_drift_ppm) for m in plan.meters))
    orders = plan.order_ids()
    _csv(root / TRUTH / "openings.csv",
         ("address", "opened_at", "closed_at", "actor", "during_outage", "order_id"),
         ((m.address, _iso(at(o.open_us)), _iso(at(o.close_us)), o.actor,
           m.in_outage(o.open_us), orders.get((m.address, o.open_us)))
          for m in plan.meters for o in m.openings))
    spans = [*plan.feeder_spans, *(s for m in plan.meters for s in m.spans if s.scope == "meter")]
    spans.sort(key=lambda s: (s.start_us, s.scope, s.feeder, s.address))
    _csv(root / TRUTH / "outages.csv", ("scope", "feeder", "address", "start", "end"),
         ((s.scope, s.feeder, s.address, _iso(at(s.start_us)), _iso(at(s.end_us)))
          for s in spans))


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")
