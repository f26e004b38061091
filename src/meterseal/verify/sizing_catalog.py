"""`meterseal size` over the catalogue: which catalogue parts meet a requirement, with what margin.

Owns the search: every supercapacitor × NVM pair of the catalogue (or those named), excluded
without a run when the temperature range leaves the supercapacitor's rating, else the design case
simulated at each temperature of the range (sizing_case) and judged (sizing_verdict). The
margin of a pair at a temperature is the longest watch it still meets — found by running the
design case again for longer (or shorter) watches and bisecting, to 2 % of the requirement —
and its margin overall the least of those. The pass or fail itself always comes from the run at
the required watch, never from the search. The hot end is also run with the pessimistic side of
the [U] leakage-vs-temperature law's bracket (a doubling per 10 °C), shown beside the verdict
and not part of it. Also owns the answer's one-line verdict and its JSON
form; the table is the command's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from meterseal.hardware import catalog
from meterseal.verify.sizing_case import (
    BRACKET_DOUBLING_C,
    END_OF_LIFE,
    HOUR_US,
    CaseRun,
    CatalogRequirement,
    run_case,
)
from meterseal.verify.sizing_requirement import SizingError
from meterseal.verify.sizing_verdict import RATED_TEMPERATURE, CaseVerdict, judge_case

__all__ = [
    "CatalogSizing",
    "PairResult",
    "TemperatureResult",
    "case_count",
    "catalog_dict",
    "catalog_verdict",
    "limit_text",
    "margin_text",
    "pick_parts",
    "size_catalog",
]

_SEARCH_UP = 16  # the longest watch tried for the margin: this many times the requirement
_RESOLUTION = 0.02  # the margin's resolution, as a fraction of the requirement


@dataclass(frozen=True, slots=True)
class TemperatureResult:
    """A pair at one temperature: the run at the required watch, its verdict, and the longest
    watch met (``horizon_h``; a lower bound when ``horizon_open``)."""

    run: CaseRun
    verdict: CaseVerdict
    horizon_h: float
    horizon_open: bool
    # A failing pair: the verdict at the shortest watch the search tried and saw fail (what
    # fails even when less is asked), and that watch.
    shortest_failure: tuple[float, CaseVerdict] | None = None


@dataclass(frozen=True, slots=True)
class PairResult:
    supercap: str
    nvm: str
    excluded: str | None  # why the pair was not simulated (rated temperature)
    temperatures: tuple[TemperatureResult, ...] = ()
    # The hot end again with the other side of the [U] leakage law's bracket (informative: the
    # verdict is the registry law's; None when the range stays at or below 20 °C).
    bracket: TemperatureResult | None = None

    @property
    def meets(self) -> bool:
        return self.excluded is None and all(t.verdict.meets for t in self.temperatures)

    @property
    def first_failure(self) -> tuple[str, str] | None:
        """(limit, one line) of the earliest failure over the range, None if the pair meets."""
        t = self.failed_first
        if t is None:
            return (RATED_TEMPERATURE, self.excluded) if self.excluded is not None else None
        return t.verdict.limit or "", f"at {t.run.temperature_c:g} °C: {t.verdict.detail}"

    @property
    def failed_first(self) -> TemperatureResult | None:
        """The temperature whose run failed earliest after mains loss (a contradiction first)."""
        failed = [t for t in self.temperatures if not t.verdict.meets]
        return min(failed, key=lambda t: (t.verdict.at_h is not None, t.verdict.at_h or 0.0),
                   default=None)

    @property
    def worst(self) -> TemperatureResult | None:
        """The temperature with the shortest watch met."""
        return min(self.temperatures, key=lambda t: t.horizon_h, default=None)


@dataclass(frozen=True, slots=True)
class CatalogSizing:
    requirement: CatalogRequirement
    pairs: tuple[PairResult, ...]  # those that meet first, largest margin first

    @property
    def meeting(self) -> tuple[PairResult, ...]:
        return tuple(p for p in self.pairs if p.meets)


def pick_parts(names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(supercapacitors, NVMs) to try: the named ones of each kind, all of a kind none named."""
    supercaps = [p.name for p in catalog.parts_for("supercap.part")]
    nvms = [p.name for p in catalog.parts_for("nvm.part")]
    for n in names:
        if n not in supercaps and n not in nvms:
            raise SizingError(f"--parts: {n!r} is not a catalogue supercapacitor or NVM; one of "
                              f"{', '.join(supercaps + nvms)}")
    sc = tuple(n for n in supercaps if n in names) or tuple(supercaps)
    nv = tuple(n for n in nvms if n in names) or tuple(nvms)
    return sc, nv


def rating_exclusion(req: CatalogRequirement, supercap: str) -> str | None:
    part = catalog.find("supercap.part", supercap)
    assert part is not None
    t_min = float(part.value("supercap.min_temperature_c"))  # type: ignore[arg-type]
    t_max = float(part.value("supercap.max_temperature_c"))  # type: ignore[arg-type]
    lo, hi = req.temperature_range_c
    if lo >= t_min and hi <= t_max:
        return None
    return (f"{supercap} is rated {t_min:g}…{t_max:+g} °C; the requirement reaches "
            f"{lo if lo < t_min else hi:g} °C")


def _horizon(req: CatalogRequirement, supercap: str, nvm: str, temp: float,
             verdict: CaseVerdict, extra: dict[str, object] | None = None,
             ) -> tuple[float, bool, tuple[float, CaseVerdict] | None]:
    """The longest required watch the pair meets at ``temp``: doubling from the requirement
    while it meets (up to _SEARCH_UP times), then bisection; below it when it does not.
    Returns (hours, a lower bound?, the shortest failing watch and its verdict)."""
    need = req.reports_needed
    failing: list[tuple[float, CaseVerdict]] = []

    def ok(hours: float) -> bool:
        us = max(1, round(hours * HOUR_US))
        v = judge_case(run_case(req, supercap, nvm, temp, watch_us=us, extra=extra), need)
        if not v.meets:
            failing.append((hours, v))
        return v.meets

    x = req.watch_h
    if verdict.meets:
        lo, hi = x, 2 * x
        while ok(hi):
            lo = hi
            if hi >= _SEARCH_UP * x:
                return lo, True, None
            hi = 2 * hi
    else:
        lo, hi = 0.0, x
        failing.append((x, verdict))
    while hi - lo > _RESOLUTION * x:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo, False, (min(failing, key=lambda f: f[0]) if not verdict.meets else None)


def _at(req: CatalogRequirement, supercap: str, nvm: str, temp: float,
        extra: dict[str, object] | None = None) -> TemperatureResult:
    """The pair at one temperature: the run at the required watch, its verdict, its margin."""
    run = run_case(req, supercap, nvm, temp, extra=extra)
    verdict = judge_case(run, req.reports_needed)
    h, open_, shortest = _horizon(req, supercap, nvm, temp, verdict, extra)
    return TemperatureResult(run, verdict, h, open_, shortest)


def case_count(req: CatalogRequirement, supercaps: Sequence[str], nvms: Sequence[str]) -> int:
    """How many times size_catalog calls ``progress``."""
    per_pair = len(req.temperatures_c) + (req.leakage_bracket is not None)
    return len(supercaps) * len(nvms) * per_pair


def size_catalog(req: CatalogRequirement, supercaps: Sequence[str], nvms: Sequence[str],
                 progress: Callable[[], None] | None = None) -> CatalogSizing:
    """Every pair at every temperature of the range (and the hot end under the leakage
    bracket); ``progress`` is called after each (case_count times in all)."""
    tick = progress or (lambda: None)
    bracket = req.leakage_bracket
    per_pair = len(req.temperatures_c) + (bracket is not None)
    pairs = []
    for sc in supercaps:
        excluded = rating_exclusion(req, sc)
        for nvm in nvms:
            if excluded is not None:
                pairs.append(PairResult(sc, nvm, excluded))
                for _ in range(per_pair):
                    tick()
                continue
            temps = []
            for temp in req.temperatures_c:
                temps.append(_at(req, sc, nvm, temp))
                tick()
            hot = None
            if bracket is not None:
                hot = _at(req, sc, nvm, req.temperatures_c[-1], bracket)
                tick()
            pairs.append(PairResult(sc, nvm, None, tuple(temps), hot))
    pairs.sort(key=_closeness)
    return CatalogSizing(req, tuple(pairs))


def _closeness(p: PairResult) -> tuple[bool, bool, float, float]:
    """Meeting pairs first, then the longest watch met, then the latest first failure."""
    first = p.failed_first
    failed_at = first.verdict.at_h if first is not None and first.verdict.at_h else 0.0
    return (not p.meets, p.excluded is not None, -(p.worst.horizon_h if p.worst else 0.0),
            -failed_at)


# ---------------------------------------------------------------------------------- presenting


def margin_text(p: PairResult, req: CatalogRequirement) -> str:
    w = p.worst
    if w is None:
        return "—"
    if w.horizon_open:
        return f"≥ {w.horizon_h:g} h (≥ {w.horizon_h / req.watch_h:g}×)"
    if p.meets:
        return f"{w.horizon_h:.1f} h (+{w.horizon_h - req.watch_h:.1f} h)"
    text = f"meets {w.horizon_h:.1f} h" if w.horizon_h > 0 else "meets no watch"
    if w.shortest_failure is not None and w.shortest_failure[0] < req.watch_h:
        hours, v = w.shortest_failure
        text += f"; {hours:.2g} h fails by {v.limit}"
    return text


def limit_text(p: PairResult) -> str:
    """The first limit that failed, short: "write floor, 35.8 h at -25 °C"."""
    if p.excluded is not None:
        return RATED_TEMPERATURE
    t = p.failed_first
    if t is None:
        return ""
    at = "" if t.verdict.at_h is None else f", {t.verdict.at_h:.1f} h"
    return f"{t.verdict.limit}{at} at {t.run.temperature_c:g} °C"


def _bracket_note(p: PairResult) -> str:
    b = p.bracket
    if b is None or b.verdict.meets:
        return ""
    return (f"; if leakage doubles every {BRACKET_DOUBLING_C:g} °C it fails by "
            f"{b.verdict.limit} at {b.verdict.at_h or 0.0:.1f} h")


def catalog_verdict(s: CatalogSizing) -> str:
    """One line: the parts that meet the requirement, or that none does and what failed first."""
    req = s.requirement
    if s.meeting:
        names = [f"{p.supercap} with {p.nvm} (longest watch met {margin_text(p, req)} at "
                 f"{p.worst.run.temperature_c:g} °C{_bracket_note(p)})"  # type: ignore[union-attr]
                 for p in s.meeting]
        return f"met by {len(names)} catalogue pair(s): " + "; ".join(names)
    counts: dict[str, int] = {}
    for p in s.pairs:
        f = p.first_failure
        assert f is not None
        counts[f[0]] = counts.get(f[0], 0) + 1
    best = s.pairs[0]
    return ("no catalogue part meets the requirement; what failed first: "
            + ", ".join(f"{limit} ({n} pair{'s' if n > 1 else ''})" for limit, n in counts.items())
            + f"; the closest, {best.supercap} with {best.nvm}: {best.first_failure[1]}"  # type: ignore[index]
            + ("" if best.excluded else f" ({margin_text(best, req)})"))


def _pair_dict(p: PairResult, req: CatalogRequirement) -> dict[str, Any]:
    f = p.first_failure
    return {
        "supercap": p.supercap,
        "nvm": p.nvm,
        "meets": p.meets,
        "limit": f[0] if f else None,
        "reason": f[1] if f else None,
        "end_of_life": ({"ageing": END_OF_LIFE[p.supercap][0],
                         "esr_factor": END_OF_LIFE[p.supercap][1],
                         "source": END_OF_LIFE[p.supercap][2]} if req.end_of_life else None),
        "margin_h": (round(p.worst.horizon_h - req.watch_h, 3) if p.worst else None),
        "margin_is_lower_bound": bool(p.worst and p.worst.horizon_open),
        "temperatures": [_temperature_dict(t) for t in p.temperatures],
        "leakage_bracket": (None if p.bracket is None else
                            {"leakage_doubling_c": BRACKET_DOUBLING_C,
                             **_temperature_dict(p.bracket)}),
    }


def _temperature_dict(t: TemperatureResult) -> dict[str, Any]:
    r = t.run
    return {
        "temperature_c": r.temperature_c,
        "meets": t.verdict.meets,
        "limit": t.verdict.limit,
        "limit_at_h": None if t.verdict.at_h is None else round(t.verdict.at_h, 4),
        "detail": t.verdict.detail or None,
        "watch_h": round(r.watch_h, 4),
        "watch_outlasted_outage": r.outlasted,
        "longest_watch_met_h": round(t.horizon_h, 4),
        "longest_watch_is_lower_bound": t.horizon_open,
        "supercap_v_at_outage": round(r.supercap_v_at_outage, 4),
        "supercap_brownout_h": None if r.supercap_out_h is None else round(r.supercap_out_h, 4),
        "openings": len(r.openings),
        "written_on_backup": sum(o.quality == "exact" for o in r.openings),
        "reports_sent_on_backup": sum(o.on_backup and o.sends > 0 for o in r.openings),
        "reports_complete_on_backup": sum(o.on_backup and o.sends == o.sends_planned
                                          and not o.cut_short for o in r.openings),
        "sends_on_backup": sum(o.frames_on_backup for o in r.openings),
        "invariants": dict(r.invariants),
        "warnings": list(r.warnings),
    }


def catalog_dict(s: CatalogSizing) -> dict[str, Any]:
    """The answer as JSON-able data (``meterseal size --json`` with a catalogue requirement)."""
    req = s.requirement
    return {
        "requirement": {
            "watch_h": req.watch_h,
            "battery": req.battery_state,
            "module": req.module,
            "temperature_c": list(req.temperature_range_c),
            "temperatures_simulated_c": list(req.temperatures_c),
            "end_of_life": req.end_of_life,
            "tolerance": req.tolerance,
            "openings": req.openings,
            "reports_needed": req.reports_needed,
            "set": dict(req.overrides),
        },
        "found": bool(s.meeting),
        "meeting": [{"supercap": p.supercap, "nvm": p.nvm} for p in s.meeting],
        "verdict": catalog_verdict(s),
        "pairs": [_pair_dict(p, req) for p in s.pairs],
    }
