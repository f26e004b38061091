"""Fleet directories for the head-end tests: a handful of small scenarios run once each, their
meters written under as many addresses, buses and makers as a test asks for; and running
`meterseal serve --fleet` as a real subprocess."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from meterseal.sim.fleetdir import OURS, start_fleet, write_live_meter
from meterseal.sim.live import LiveMeter
from meterseal.sim.scenario import Scenario, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
RICH = ROOT / "tests" / "data" / "dlt645_meter.toml"  # 13 records: the ring overflows


def stage_scenario(openings: Sequence[tuple[float, float | None]], duration_h: float,
                   outages: Sequence[tuple[float, float]] = ()) -> Scenario:
    """A small scenario: cover openings (open h, close h or None) and outages (at h, for h)."""
    doc: dict[str, object] = {
        "name": f"{len(openings)} openings in {duration_h} h", "start": "2026-03-01T08:00:00+08:00",
        "duration": f"{duration_h}h", "seed": 5,
        "cover": [{"open_at": f"{o}h", **({"close_at": f"{c}h"} if c is not None else {})}
                  for o, c in openings],
        "outage": [{"at": f"{a}h", "for": f"{f}h"} for a, f in outages],
    }
    return parse_scenario(doc)


# A meter's history in two stages: at the first, opening 3 is still open; by the second it has
# closed and two more came (and an outage, for power-down records).
STAGE_1 = ((1.0, 1.5), (2.0, 2.25), (3.0, None))
STAGE_2 = ((1.0, 1.5), (2.0, 2.25), (3.0, 3.5), (4.0, 4.1), (5.0, 5.2))


@cache
def stage_meter_image(stage: int) -> LiveMeter:
    if stage == 1:
        return LiveMeter.from_scenario(stage_scenario(STAGE_1, 3.2, [(0.5, 0.2)]))
    return LiveMeter.from_scenario(stage_scenario(STAGE_2, 6.0, [(0.5, 0.2), (4.5, 0.1)]))


@cache
def rich_meter() -> LiveMeter:
    return LiveMeter.from_scenario(load_scenario(RICH))


@dataclass(frozen=True, slots=True)
class Spec:
    address: str
    gateway: str = "gw-001"
    manufacturer: str = OURS
    meter: str = "rich"  # "rich", "stage1" or "stage2"


def meter_of(kind: str) -> LiveMeter:
    return {"rich": rich_meter, "stage1": lambda: stage_meter_image(1),
            "stage2": lambda: stage_meter_image(2)}[kind]()


def make_fleet(root: Path, specs: Sequence[Spec]) -> Path:
    """A fleet directory with one meter per spec."""
    start_fleet(root)
    for spec in specs:
        write_live_meter(root, meter_of(spec.meter), gateway=spec.gateway,
                         manufacturer=spec.manufacturer, address=spec.address)
    return root


def small_fleet(root: Path, per_gateway: int = 3, gateways: int = 2) -> Path:
    """Meters on a few buses, one of another maker (standard records only) on each bus."""
    specs = []
    for g in range(gateways):
        for i in range(per_gateway):
            specs.append(Spec(f"2026{g:02d}0100{i:02d}", f"gw-{g + 1:03d}",
                              "ACME" if i == per_gateway - 1 else OURS,
                              "rich" if i % 2 == 0 else "stage2"))
    return make_fleet(root, specs)


@dataclass
class ServedFleet:
    proc: subprocess.Popen[str]
    endpoints: Path
    lines: list[str]


@contextlib.contextmanager
def serve_fleet(fleet: Path, endpoints: Path, *extra: str) -> Iterator[ServedFleet]:
    """`meterseal serve --fleet` as a real subprocess; yields once it serves; SIGTERM after."""
    cmd = [sys.executable, "-m", "meterseal", "serve", "--fleet", str(fleet), "--dlt645",
           "tcp://127.0.0.1:0", "--endpoints-out", str(endpoints), *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"meterseal serve exited early: {''.join(lines)}")
            lines.append(line)
            if "serving;" in line:
                break
        yield ServedFleet(proc, endpoints, lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


def gateway_urls(lines: Sequence[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        m = re.search(r"gateway (\S+): \d+ meters on (tcp://\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out
