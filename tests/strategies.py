"""Hypothesis strategies for random scenarios: timelines (outages, cover operations, faults) and
profiles — a few sampled boards, or every key of the registry drawn from its legal range."""

from __future__ import annotations

import math
import sys
from typing import Any

from hypothesis import strategies as st

from meterseal.hardware.boundaries import BOUNDARIES, full_values
from meterseal.hardware.profile import list_keys
from meterseal.hardware.profile_spec import ProfileKey, ProfileValue
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
def timeline_parts(draw: st.DrawFn, max_outages: int = 4, max_covers: int = 4) -> dict[str, Any]:
    """A scenario's timeline as Scenario keyword arguments (no profile): what ``timelines`` and
    ``profiled_timelines`` share."""
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
    return {
        "name": "hypothesis timeline",
        "start": START,
        "duration_us": duration,
        "seed": draw(st.integers(0, 2**16)),
        "outages": tuple(outages),
        "cover": tuple(covers),
        "faults": tuple(faults),
    }


@st.composite
def timelines(draw: st.DrawFn, max_outages: int = 4, max_covers: int = 4) -> Scenario:
    parts = draw(timeline_parts(max_outages, max_covers))
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
    return Scenario(overrides=tuple(sorted(overrides.items())), **parts)


# ------------------------------------------------------------------ every key of the registry

# The top of a key with no maximum: the largest float (legal, if absurd), beside ranges that a
# board could have.
_NO_MAX = sys.float_info.max


def _float_values(spec: ProfileKey) -> st.SearchStrategy[float]:
    lo = 0.0 if spec.minimum is None else float(spec.minimum)
    if spec.exclusive_minimum:
        lo = math.nextafter(lo, math.inf)
    hi = _NO_MAX if spec.maximum is None else float(spec.maximum)
    default = float(spec.default)  # type: ignore[arg-type]
    extremes = [lo, hi, default]
    if spec.exclusive_minimum:
        extremes.append(1e-6)  # the simulator's resolution, for times
    if spec.minimum is not None and spec.minimum < 0 < hi:
        extremes.append(0.0)
    near = st.floats(-1.0, 1.0).map(lambda e: min(hi, max(lo, default * 10.0 ** e)))
    wide_hi = hi if spec.maximum is not None else max(default * 1e3, 1e3)
    # one_of picks a branch uniformly: near the default half the time, then the range's ends,
    # anywhere in a board's range, and anywhere at all.
    return st.one_of(
        near,
        near,
        st.sampled_from([x for x in extremes if lo <= x <= hi]),
        st.floats(lo, wide_hi, allow_nan=False, allow_infinity=False),
    ) if spec.maximum is None else st.one_of(
        near,
        near,
        st.sampled_from([x for x in extremes if lo <= x <= hi]),
        st.floats(lo, hi, allow_nan=False, allow_infinity=False),
    )


def key_values(spec: ProfileKey) -> st.SearchStrategy[ProfileValue]:
    """Legal values of one registry key, from its kind, range, choices or pattern; the ends of a
    range and the default are drawn often."""
    if spec.choices is not None:
        return st.sampled_from(spec.choices)
    if spec.kind is bool:
        return st.booleans()
    if spec.kind is str:
        if spec.pattern is not None:
            return st.from_regex(spec.pattern, fullmatch=True)
        return st.text(max_size=40)
    if spec.kind is int:
        lo = int(spec.minimum) if spec.minimum is not None else -(2**31)
        hi = int(spec.maximum) if spec.maximum is not None else 2**31
        if spec.exclusive_minimum:
            lo += 1
        return st.one_of(st.sampled_from([lo, hi, spec.default]), st.integers(lo, hi))
    if spec.kind is float:
        return _float_values(spec)
    raise TypeError(f"profile key {spec.name!r}: no strategy for kind {spec.kind!r}")


def _debounce_s(draw: st.DrawFn, out: dict[str, object]) -> object:
    """`cover.debounce_s` states `cover.debounce_samples` again: a free draw is almost never a
    whole number of samples, so half the time it is one (of the period drawn so far)."""
    spec = _REGISTRY["cover.debounce_s"]
    if draw(st.booleans()):
        return draw(key_values(spec))
    period = float(out.get("cover.sample_period_s",  # type: ignore[arg-type]
                           _REGISTRY["cover.sample_period_s"].default))
    return draw(st.integers(1, 1000)) * period


# Keys that restate others: drawn so that they can agree.
_RESTATED: dict[str, Any] = {"cover.debounce_s": _debounce_s}
_REGISTRY = {k.name: k for k in list_keys()}


@st.composite
def profiles(draw: st.DrawFn, share: int = 20, max_boundaries: int = 3) -> dict[str, object]:
    """Overrides of the profile: each key of the registry (whatever it holds when this runs) set
    with probability ``share`` %, then up to ``max_boundaries`` boundary equalities of
    hardware/boundaries.py laid on top. Legal values only; the combination may still be one the
    profile refuses."""
    out: dict[str, object] = {}
    for spec in list_keys():
        # Shrinks towards the default (a key left out), so a failure names few keys.
        if draw(st.integers(0, 99)) >= 100 - share:
            restated = _RESTATED.get(spec.name)
            out[spec.name] = (restated(draw, out) if restated is not None
                              else draw(key_values(spec), label=spec.name))
    for _ in range(draw(st.integers(0, max_boundaries))):
        b = draw(st.sampled_from(BOUNDARIES))
        out.update(b.apply(full_values(out)))
    return out


@st.composite
def profiled_timelines(draw: st.DrawFn, max_outages: int = 4, max_covers: int = 4
                       ) -> tuple[dict[str, Any], dict[str, object]]:
    """(Scenario keyword arguments, profile overrides): a timeline and a full random profile.
    Building the Scenario is the caller's, since the profile may be refused."""
    return draw(timeline_parts(max_outages, max_covers)), draw(profiles())
