"""Sizing the backup supercapacitor: `meterseal size`.

Owns the question a hardware engineer brings — "which is the smallest standard supercapacitor
that keeps the meter watching its cover for N hours after mains is lost, at this temperature,
at end of life, with this battery?" — and its answer, found by simulating the twin, not from a
formula: every standard candidate tried, the sweeps over temperature, wake mode and switch
bias, the verdict in one line and the JSON form (the tables are printed by the command, the
plot drawn by sizing_plot).

What is asked, and each candidate's part values, is sizing_requirement's; one candidate's run
and the energy budget of its watch are sizing_trial's. It never changes what the kernel does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from meterseal.verify.sizing_requirement import Requirement, SizingError
from meterseal.verify.sizing_trial import CATEGORIES, Trial, run_trial

__all__ = [
    "STANDARD_F",
    "TEMPERATURES_C",
    "VARIANTS",
    "Sizing",
    "size",
    "sizing_dict",
    "trial_at",
    "verdict",
    "watch_text",
]

STANDARD_F: tuple[float, ...] = (0.1, 0.22, 0.33, 0.47, 0.68, 1.0, 1.5, 2.2, 3.3, 4.7, 5.0)
"""Standard supercapacitor values in farads (the E6-like series meters use, up to 5 F)."""

TEMPERATURES_C: tuple[float, ...] = (-25.0, 0.0, 20.0, 45.0, 70.0)
"""The temperature sweep of the plot and the grid (the PB part's −25…+70 °C range), plus the
requirement's own temperature."""

VARIANTS: tuple[tuple[str, str], ...] = (
    ("interrupt", "static"),
    ("interrupt", "pulsed"),
    ("polling", "static"),
    ("polling", "pulsed"),
)


# ---------------------------------------------------------------------------------- the sweep


@dataclass(frozen=True, slots=True)
class Sizing:
    """The answer and everything behind it.

    ``trials``: each candidate under the requirement. ``chosen``: the smallest that meets it
    (None: none does). ``by_temperature``: temperature → one trial per candidate. ``variants``:
    (wake mode, bias) → one trial per candidate, at the requirement's temperature.
    """

    requirement: Requirement
    candidates: tuple[float, ...]
    trials: tuple[Trial, ...]
    chosen: Trial | None
    by_temperature: dict[float, tuple[Trial, ...]] = field(default_factory=dict)
    variants: dict[tuple[str, str], tuple[Trial, ...]] = field(default_factory=dict)

    def smallest(self, trials: Sequence[Trial]) -> Trial | None:
        return next((t for t in trials if t.meets), None)

    @property
    def reference(self) -> Trial:
        """The chosen trial, or (nothing meets) the largest candidate's."""
        return self.chosen if self.chosen is not None else self.trials[-1]


def size(
    req: Requirement, candidates: Sequence[float] = STANDARD_F, *, sweeps: bool = True
) -> Sizing:
    """Simulate every candidate under ``req``; the smallest that keeps the watch is the answer.

    Candidates are tried in ascending order and each one is simulated, so the table shows the
    margin of every value. With ``sweeps`` the same is done at the sweep temperatures and for
    each wake mode × bias variant (for the plot and the tables).
    """
    cands = tuple(sorted(set(candidates)))
    if not cands:
        raise SizingError("--candidates: give at least one capacitance")
    memo: dict[tuple[float, float, str, str], Trial] = {}

    def trial(c: float, temp: float | None = None, wake: str | None = None,
              bias: str | None = None) -> Trial:
        t = run_trial(req, c, temperature_c=temp, wake_mode=wake, bias=bias)
        key = (c, t.temperature_c, t.wake_mode, t.bias)
        return memo.setdefault(key, t)

    def cached(c: float, temp: float, wake: str, bias: str) -> Trial:
        hit = memo.get((c, temp, wake, bias))
        return hit if hit is not None else trial(c, temp, wake, bias)

    main = tuple(trial(c) for c in cands)
    chosen = next((t for t in main if t.meets), None)
    by_temp: dict[float, tuple[Trial, ...]] = {}
    variants: dict[tuple[str, str], tuple[Trial, ...]] = {}
    if sweeps:
        wake0, bias0 = main[0].wake_mode, main[0].bias
        for temp in sorted({*TEMPERATURES_C, req.temperature_c}):
            by_temp[temp] = tuple(cached(c, temp, wake0, bias0) for c in cands)
        for wake, bias in VARIANTS:
            variants[(wake, bias)] = tuple(
                cached(c, req.temperature_c, wake, bias) for c in cands
            )
    return Sizing(req, cands, main, chosen, by_temp, variants)


# ---------------------------------------------------------------------------------- presenting


def watch_text(t: Trial) -> str:
    return f"≥ {t.watch_h:.1f}" if t.outlasted else f"{t.watch_h:.1f}"


def verdict(s: Sizing) -> str:
    """One line: the answer, or why there is none."""
    req = s.requirement
    if s.chosen is None:
        best = max(s.trials, key=lambda t: t.watch_s)
        line = (
            f"impossible with these candidates: even {s.candidates[-1]:g} F watches only "
            f"{watch_text(s.trials[-1])} h of the {req.watch_h:g} h required"
        )
        if best is not s.trials[-1]:
            line += f" (the longest watch: {best.capacitance_f:g} F, {watch_text(best)} h)"
        return line
    c = s.chosen
    line = (
        f"smallest standard value: {c.capacitance_f:g} F — watches {watch_text(c)} h "
        f"of the {req.watch_h:g} h required"
    )
    i = s.trials.index(c)
    if i > 0:
        below = s.trials[i - 1]
        line += f"; {below.capacitance_f:g} F watches {watch_text(below)} h"
    return line


def sizing_dict(s: Sizing) -> dict[str, Any]:
    """The result as JSON-able data (``meterseal size --json``)."""

    def trial_dict(t: Trial) -> dict[str, Any]:
        return {
            "capacitance_f": t.capacitance_f,
            "effective_capacitance_f": round(t.effective_f, 6),
            "esr_ohm": round(t.esr_ohm, 6),
            "leakage_ohm": round(t.leakage_ohm, 1),
            "temperature_c": t.temperature_c,
            "wake_mode": t.wake_mode,
            "bias": t.bias,
            "watch_h": round(t.watch_h, 4),
            "watch_outlasted_outage": t.outlasted,
            "meets": t.meets,
            "supercap_v_at_outage": round(t.v_start, 6),
            "supercap_v_at_watch_end": round(t.v_end, 6),
            "budget_c": {k: round(v, 9) for k, v in t.budget.coulombs.items()},
        }

    req = s.requirement
    ref = s.reference
    return {
        "requirement": {
            "watch_h": req.watch_h,
            "temperature_c": req.temperature_c,
            "tolerance": req.tolerance,
            "ageing": req.ageing,
            "battery": req.battery,
            "openings": req.openings,
            "part_family": req.part_family,
            "set": dict(req.overrides),
        },
        "chosen_f": s.chosen.capacitance_f if s.chosen else None,
        "verdict": verdict(s),
        "candidates": [trial_dict(t) for t in s.trials],
        "budget": {
            "capacitance_f": ref.capacitance_f,
            "stored_c": round(ref.budget.stored, 9),
            "rows": [
                {"drain": label, "coulombs": round(q, 9), "percent": round(pct, 3)}
                for label, q, pct in ref.budget.rows()
            ],
        },
        "by_temperature": {
            f"{temp:g}": [
                {"capacitance_f": t.capacitance_f, "watch_h": round(t.watch_h, 4),
                 "meets": t.meets} for t in trials
            ]
            for temp, trials in s.by_temperature.items()
        },
        "variants": [
            {
                "wake_mode": wake,
                "bias": bias,
                "smallest_f": (lambda m: m.capacitance_f if m else None)(s.smallest(trials)),
                "watch_h_with_chosen": round(trial_at(trials, ref.capacitance_f).watch_h, 4),
                "budget_percent_with_chosen": {
                    k: round(100 * trial_at(trials, ref.capacitance_f).budget.share(k), 3)
                    for k in CATEGORIES
                },
            }
            for (wake, bias), trials in s.variants.items()
        ],
    }


def trial_at(trials: Sequence[Trial], c: float) -> Trial:
    return next(t for t in trials if t.capacitance_f == c)
