"""Hypothesis strategies for random scenarios (timelines, temperatures, supplies, wake modes)."""

from __future__ import annotations

from hypothesis import strategies as st

from meterseal.sim.scenario import CoverOp, Fault, Outage, Scenario
from meterseal.verify.matrix import START

MS = 1_000
S = 1_000_000
H = 3600 * S
DAY = 24 * H

# Durations spread over orders of magnitude: flickers to multi-day outages.
_span = st.one_of(
    st.integers(10 * MS, 2 * S),
    st.integers(2 * S, 10 * 60 * S),
    st.integers(10 * 60 * S, 12 * H),
    st.integers(12 * H, 3 * DAY),
)


@st.composite
def timelines(draw: st.DrawFn, max_outages: int = 4, max_covers: int = 4) -> Scenario:
    duration = draw(st.integers(2 * H, 8 * DAY))
    outages = []
    t = draw(st.integers(0, 6 * H))
    for _ in range(draw(st.integers(0, max_outages))):
        length = draw(_span)
        if t + length >= duration:
            break
        outages.append(Outage(t, length))
        t += length + draw(_span)
    covers = []
    t = draw(st.integers(1 * S, 12 * H))
    n = draw(st.integers(0, max_covers))
    for k in range(n):
        if t >= duration:
            break
        length = draw(_span)
        stays_open = k == n - 1 and draw(st.booleans())
        close = None if stays_open or t + length >= duration else t + length
        covers.append(CoverOp(t, close))
        if close is None:
            break
        t = close + draw(_span)
    faults = []
    if draw(st.integers(0, 4)) == 0:
        faults.append(Fault("power-cut", draw(st.integers(0, duration))))
    overrides: dict[str, object] = {
        "ambient.temperature_c": draw(st.sampled_from([-25.0, 0.0, 20.0, 45.0, 70.0])),
        "mcu.wake_mode": draw(st.sampled_from(["interrupt", "polling"])),
        "supply.topology": draw(st.sampled_from(["battery+supercap", "supercap-only"])),
    }
    battery = draw(st.sampled_from(["good", "weak", "absent"]))
    if battery == "weak":
        overrides["battery.voltage_v"] = 2.4
    elif battery == "absent":
        overrides["battery.present"] = False
    if draw(st.booleans()):
        overrides["supercap.capacitance_f"] = draw(st.sampled_from([0.1, 0.22, 0.47, 1.0]))
    return Scenario(
        name="hypothesis timeline",
        start=START,
        duration_us=duration,
        seed=draw(st.integers(0, 2**16)),
        overrides=tuple(sorted(overrides.items())),
        outages=tuple(outages),
        cover=tuple(covers),
        faults=tuple(faults),
    )
