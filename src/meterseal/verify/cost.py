"""The firmware's own cost on backup: how much of the board's possible watch the firmware keeps.

The board alone (leakage, MCU sleep, RTC, switch bias) would keep the MCU above brown-out for a
time given in closed form; the simulated firmware, with its wakes, debounces, writes, reports
and the reserve it keeps for its last write, watches for somewhat less. The ratio of the two is
the figure DESIGN.md asks `meterseal verify` to state. Knows the kernel and the physics; judges
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterseal.hardware.board import Bias, BoardParams, WakeMode
from meterseal.hardware.rc import time_to_voltage
from meterseal.hardware.supply import SupplyPath
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.verify.matrix import START, d


@dataclass(frozen=True, slots=True)
class Cost:
    ratio: float
    watch_s: float
    quiescent_s: float
    detail: str

    def rows(self) -> list[tuple[str, str, str]]:
        return [
            ("watch with the firmware", f"{self.watch_s / 3600:.2f} h",
             "outage start to the instant the firmware ended its watch"),
            ("watch on quiescent drains alone", f"{self.quiescent_s / 3600:.2f} h",
             "leakage, MCU sleep, RTC and switch bias until the brown-out level"),
            ("ratio", f"{self.ratio * 100:.2f} %", self.detail),
        ]


def firmware_cost(overrides: tuple[tuple[str, object], ...] = ()) -> Cost:
    """Default profile, interrupt wake: one long outage with two openings on backup."""
    sc = Scenario(
        name="firmware cost",
        start=START,
        duration_us=d("8d"),
        overrides=overrides,
        outages=(Outage(d("1h"), d("7d")),),
        cover=(CoverOp(d("3h"), d("3h 10min")), CoverOp(d("11h"), d("11h 10min"))),
    )
    log = Kernel(sc, trace=False).run()
    out = log.outages[0]
    if out.watch_until_us is None:
        raise RuntimeError("the watch outlived the cost scenario's outage; lengthen it")
    watch_s = (out.watch_until_us - out.from_us) / 1e6
    b = BoardParams.from_profile(sc.profile)
    # The board alone, the MCU asleep (the cover on: the switch closed), routed as the topology
    # routes it; the pulsed bias of a polling board rides on its polls, which are the firmware's.
    supply = SupplyPath(b)
    supply.mains = supply.on_rail = False
    supply.v = out.supercap_v
    bias_a = 0.0 if (b.bias == Bias.PULSED and b.wake_mode == WakeMode.POLLING) else (
        b.loads.pullup_a)
    supply.set_loads(True, b.loads.sleep_a, bias_a, 0.0, 0.0, 0.0)
    level_v = b.brownout_v + supply.i_sc * supply.esr
    quiescent_s = b.bulk_us * 1e-6 + time_to_voltage(supply.v, level_v, supply.v_inf, supply.tau)
    ratio = watch_s / quiescent_s
    detail = (f"default profile, {b.wake_mode} wake, {b.bias} bias, two "
              f"openings on backup; {len(log.reports)} radio reports")
    return Cost(ratio, watch_s, quiescent_s, detail)
