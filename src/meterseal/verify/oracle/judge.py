"""The judgment of one run: every invariant's check over the run's evidence, and the verdicts.

Owns the Judgment's shape, which the result JSON, the report, the plots and the campaigns read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meterseal.firmware.records import CoverOpen
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario
from meterseal.verify.oracle import checks
from meterseal.verify.oracle.evidence import Verdict, build_evidence

INVARIANTS = ("I1", "I2", "I3", "I4", "I5", "I6")


@dataclass(slots=True)
class Judgment:
    verdicts: list[Verdict]
    invariants: dict[str, str]
    problems: dict[str, list[str]]
    undetectable: int
    records: dict[int, CoverOpen]  # every cover-open record committed, each half as first seen
    commit_us: dict[int, int]  # when each record's open half first appeared in the NVM
    close_commit_us: dict[int, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(v == "pass" for v in self.invariants.values())


def judge(sc: Scenario, log: RunLog) -> Judgment:
    ev = build_evidence(sc, log)
    # Looked up at each call, so a test can swap the checks and watch the judgment change.
    problems = {k: checks.CHECKS[k](ev) for k in INVARIANTS}
    invariants = {k: ("pass" if not problems[k] else "fail") for k in INVARIANTS}
    undetectable = sum(v.status == "undetectable" for v in ev.verdicts)
    return Judgment(ev.verdicts, invariants, problems, undetectable, ev.records, ev.commit_us,
                    ev.close_commit_us)
