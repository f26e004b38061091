"""The catalogue sizing's verdict: does one design-case run meet the requirement, and if not,
which limit failed first.

Owns the rule, read from the run's facts only (sizing_case.CaseRun), never from a formula: the
firmware must still watch at the end of the required watch; each opening must be seen while it
watched (else the watch hours failed), written to the NVM at once on backup — time quality
``exact`` (``deferred`` means it waited in retained RAM for a supply above the NVM's minimum:
the write floor failed) — and, with a module that sends on the meter's backup, reported on
backup with every planned send (else the report's energy failed). The earliest failure wins.

It refuses to pass a run whose facts contradict each other or that the oracle failed: a run the
twin got wrong is no evidence that a part meets anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterseal.verify.sizing_case import CaseRun, OpeningFacts

__all__ = [
    "INVARIANT",
    "LIMITS",
    "RATED_TEMPERATURE",
    "REPORT_ENERGY",
    "WATCH_HOURS",
    "WRITE_FLOOR",
    "CaseVerdict",
    "judge_case",
]

WATCH_HOURS = "watch hours"
WRITE_FLOOR = "write floor"
REPORT_ENERGY = "report energy"
RATED_TEMPERATURE = "rated temperature"
INVARIANT = "twin inconsistent"
LIMITS = (RATED_TEMPERATURE, WATCH_HOURS, WRITE_FLOOR, REPORT_ENERGY, INVARIANT)


@dataclass(frozen=True, slots=True)
class CaseVerdict:
    """``limit`` is None when the run meets the requirement; else the limit that failed first,
    ``at_h`` hours after mains loss, and ``detail`` says what the run showed."""

    limit: str | None
    at_h: float | None = None
    detail: str = ""

    @property
    def meets(self) -> bool:
        return self.limit is None


def _opening_failure(o: OpeningFacts, run: CaseRun, reports_needed: bool
                     ) -> tuple[str, str] | None:
    if o.status != "recorded" or o.quality not in ("exact", "deferred"):
        seen = o.quality or o.status
        return WATCH_HOURS, f"the opening at {o.opened_h:.1f} h was not seen on backup ({seen})"
    if o.quality == "deferred":
        return WRITE_FLOOR, (f"the opening at {o.opened_h:.1f} h was seen but not written on "
                             f"backup (no supply above the {run.nvm}'s {run.nvm_min_v:g} V write "
                             "floor)")
    if not reports_needed:
        return None
    if not (o.on_backup and o.sends == o.sends_planned and not o.cut_short):
        sends = o.sends if o.on_backup else 0
        return REPORT_ENERGY, (f"the report of the opening at {o.opened_h:.1f} h: {sends} of "
                               f"{o.sends_planned} send(s) on backup (the firmware found the "
                               "rest unaffordable)")
    return None


def _watch_end(run: CaseRun) -> str:
    floor = (f"{run.nvm} writes at ≥ {run.nvm_min_v:g} V" if run.nvm_min_v > run.brownout_v
             else f"brown-out at {run.brownout_v:g} V")
    return (f"the watch ended at {run.watch_h:.1f} h of {run.required_h:g} h (it ends while a "
            f"last write is affordable: {floor}; the supercapacitor started at "
            f"{run.supercap_v_at_outage:.2f} V)")


def _contradiction(run: CaseRun) -> str | None:
    """What in the facts cannot be true of a run the twin got right."""
    failed = [k for k, v in sorted(run.invariants.items()) if v != "pass"]
    if failed:
        return f"the oracle failed {', '.join(failed)} on this run"
    for o in run.openings:
        if o.on_backup and o.frames_on_backup != o.sends:
            return (f"the report status of the opening at {o.opened_h:.1f} h says {o.sends} "
                    f"send(s) on backup, the module sent {o.frames_on_backup}")
        if o.quality == "exact" and not run.outlasted and o.opened_h > run.watch_h:
            return (f"an exact record at {o.opened_h:.1f} h, after the watch ended at "
                    f"{run.watch_h:.1f} h")
    return None


def judge_case(run: CaseRun, reports_needed: bool) -> CaseVerdict:
    """The verdict on one run; the earliest failing limit, or a pass."""
    wrong = _contradiction(run)
    if wrong is not None:
        return CaseVerdict(INVARIANT, None, wrong)
    failures: list[tuple[float, str, str]] = []
    if not run.outlasted and run.watch_h < run.required_h:
        failures.append((run.watch_h, WATCH_HOURS, _watch_end(run)))
    for o in run.openings:
        f = _opening_failure(o, run, reports_needed)
        if f is not None:
            failures.append((o.opened_h, *f))
            break  # later openings only repeat what ran out first
    if not failures:
        return CaseVerdict(None)
    at_h, limit, detail = min(failures, key=lambda f: (f[0], LIMITS.index(f[1])))
    return CaseVerdict(limit, at_h, detail)
