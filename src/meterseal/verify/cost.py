"""The firmware's own cost on backup: how much of the board's possible watch the firmware keeps.

The board alone (leakage, MCU sleep, RTC, switch bias, standby loads) would keep a last page
write possible — the supply above brown-out, or the NVM's own minimum, through the write's ESR
drop — for a time given in closed form; the simulated firmware, with its wakes, debounces,
writes, reports and the reserve it keeps for its last write, watches for somewhat less. The
ratio of the two is the figure DESIGN.md asks `meterseal verify` to state. Knows the kernel and
the physics; judges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterseal.hardware.board import Bias, BoardParams, WakeMode
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
             "leakage, MCU sleep, RTC, switch bias and standby loads, until a last page write "
             "would no longer hold brown-out (or the NVM's minimum) through its ESR drop"),
            ("ratio", f"{self.ratio * 100:.2f} %", self.detail),
        ]


SUPERCAP_CARRIES = (("battery.state", "undervoltage"),)
"""The seed's case the figure is about: the battery undervoltage, the supercapacitor carries the
watch (with a healthy battery the watch lasts as long as the battery, years)."""


def firmware_cost(overrides: tuple[tuple[str, object], ...] = ()) -> Cost:
    """Default profile with the battery undervoltage, interrupt wake: one long outage with two
    openings on backup."""
    keys = dict(SUPERCAP_CARRIES)
    keys.update(overrides)
    sc = Scenario(
        name="firmware cost",
        start=START,
        duration_us=d("8d"),
        overrides=tuple(sorted(keys.items())),
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
    supply.v = supply.vd = out.supercap_v  # long charged: the slow branch too
    L = b.loads
    bias_a = 0.0 if (b.bias == Bias.PULSED and b.wake_mode == WakeMode.POLLING) else L.pullup_a
    supply.set_loads(True, L.sleep_a, bias_a, 0.0, 0.0, 0.0, True,
                     L.nvm_standby_a + L.ir_receiver_a)
    # The physical end: the last instant a page write would still hold brown-out (or the NVM's
    # own minimum, where that is higher) through its ESR drop. With the battery undervoltage
    # nothing keeps a record through the MCU's death, so a watch below that could see but never
    # write: this is the watch a perfect firmware could keep on this board.
    write_a = L.nvm_write_a + L.active_a
    level_v = max(b.brownout_v, b.nvm_min_v) + (supply.i_sc + write_a) * supply.esr
    quiescent_s = b.bulk_us * 1e-6 + supply.time_to(level_v)
    ratio = watch_s / quiescent_s
    detail = (f"default profile ({b.supercap_part}, battery undervoltage), {b.wake_mode} wake, "
              f"{b.bias} bias, two openings on backup; {len(log.reports)} radio reports")
    return Cost(ratio, watch_s, quiescent_s, detail)
