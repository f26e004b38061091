"""The meter models the utility buys: a handful of boards by name, and what each can do.

A model is a board from the parts catalogue (hardware/catalog.py) — a supply topology, a
supercapacitor row (or none), a clock battery (or none), a wake mode, a communication module —
with its share of the service area. Its capabilities are found the way a utility's meter lab
finds them: the model's board (a healthy battery, the supercapacitor long charged) is run
through a probe — three days on mains, then a 30-day outage with the cover opened 24 h into
it — and the twin says whether the opening was recorded with its own time (``exact`` or
``deferred``: the meter saw it) and how long the MCU watched. The utility knows its models'
capabilities; each meter's battery is only in the ground truth.

Must not know: customers, outages of the fleet, files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Final

from meterseal.firmware.records import QUALITY_NAMES
from meterseal.hardware.catalog import BATTERY_STATES
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import CoverOp, Outage, Scenario

__all__ = ["MODELS", "PROBE_OUTAGE_H", "SEES_AT_H", "Capability", "MeterModel", "capability",
           "model_named"]

H: Final = 3_600_000_000
SEES_AT_H: Final = 24.0  # the probe's opening, hours into the outage
PROBE_OUTAGE_H: Final = 30 * 24.0  # a watch that outlasts it is reported as this long
_PROBE_CHARGE_H: Final = 72.0
_PROBE_OPEN_H: Final = 1 / 6  # the probe's cover stays open 10 minutes
_PROBE_START: Final = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
NO_PART: Final = "none"


@dataclass(frozen=True, slots=True)
class MeterModel:
    """A meter model: its board as catalogue rows and profile keys, and its share of meters."""

    name: str
    topology: str
    supercap_part: str  # a supercap.part row, or "none" (battery-only)
    battery: str  # a battery.part row, or "none" (no clock battery fitted)
    wake_mode: str
    radio: str  # a radio.module row
    share: float

    def overrides(self, battery_state: str = "healthy") -> dict[str, object]:
        """The profile keys of this model's board with its battery in ``battery_state``."""
        if battery_state not in BATTERY_STATES:
            raise ValueError(f"battery state {battery_state!r}: one of {BATTERY_STATES}")
        keys: dict[str, object] = {"supply.topology": self.topology,
                                   "mcu.wake_mode": self.wake_mode,
                                   "radio.module": self.radio}
        if self.supercap_part != NO_PART:
            keys["supercap.part"] = self.supercap_part
        if self.battery == NO_PART:
            keys["battery.state"] = "absent"
        else:
            keys["battery.part"] = self.battery
            keys["battery.state"] = battery_state
        return keys

    def battery_states(self) -> tuple[str, ...]:
        """What a meter of this model's battery may be in."""
        return ("absent",) if self.battery == NO_PART else BATTERY_STATES


# DDZY: the type code of a single-phase smart meter with prepayment control (State Grid
# practice); the suffixes are ours. Shares: the field board dominates, older and cheaper models
# remain in the field.
MODELS: Final[tuple[MeterModel, ...]] = (
    MeterModel("DDZY-F1", "battery-first", "eaton-kw-1f", "er14250", "interrupt",
               "rf-micropower", 0.40),
    MeterModel("DDZY-S2", "battery+supercap", "eaton-pb-1f", "er14250", "interrupt",
               "rf-micropower", 0.20),
    MeterModel("DDZY-C3", "supercap-only", "eaton-kr-0.22f", NO_PART, "polling", "nb-iot",
               0.15),
    MeterModel("DDZY-B0", "battery-only", NO_PART, "er14250", "interrupt", "none", 0.15),
    MeterModel("DDZY-D4", "diode-or", "generic-h-1f", "er14250", "polling",
               "hplc-own-storage", 0.10),
)


def model_named(name: str) -> MeterModel:
    for m in MODELS:
        if m.name == name:
            return m
    raise KeyError(f"no meter model {name!r}; one of {', '.join(m.name for m in MODELS)}")


@dataclass(frozen=True, slots=True)
class Capability:
    """What the probe found: whether an opening SEES_AT_H into an outage is recorded with its
    own time, and the hours the MCU watched after mains loss (PROBE_OUTAGE_H: all of it)."""

    sees_outage_openings: bool
    watch_hours: float


def probe_scenario(model: MeterModel) -> Scenario:
    at = round(_PROBE_CHARGE_H * H)
    opened = at + round(SEES_AT_H * H)
    return Scenario(
        name=f"probe {model.name}", start=_PROBE_START,
        duration_us=at + round((PROBE_OUTAGE_H + 1) * H), seed=1,
        overrides=tuple(sorted(model.overrides().items())),
        outages=(Outage(at, round(PROBE_OUTAGE_H * H)),),
        cover=(CoverOp(opened, opened + round(_PROBE_OPEN_H * H)),),
    )


@cache
def capability(model: MeterModel) -> Capability:
    """Run the model's board through the probe (once per process)."""
    sc = probe_scenario(model)
    meter = LiveMeter.from_scenario(sc, clock=lambda: 0.0)
    log = meter.run_log
    assert log is not None
    out = log.outages[0]
    watched_us = (out.watch_until_us if out.watch_until_us is not None else out.to_us) - out.from_us
    seen = any(QUALITY_NAMES[r.quality] in ("exact", "deferred") for r in meter.image().cover)
    return Capability(seen, round(min(watched_us / H, PROBE_OUTAGE_H), 2))
