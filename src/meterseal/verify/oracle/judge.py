"""The judgment of one run: every invariant's check over the run's evidence, and the verdicts.

Owns the Judgment's shape, which the result JSON, the report, the plots and the campaigns read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meterseal.firmware.pagemap import GROUP_TERMINAL
from meterseal.firmware.pending import TERMINAL
from meterseal.firmware.records import CoverOpen
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario
from meterseal.verify.oracle import checks
from meterseal.verify.oracle.evidence import Evidence, Verdict, build_evidence, group_of_addr

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
    # The terminal cover's own: a verdict per true terminal-cover operation, and its records.
    terminal_verdicts: list[Verdict] = field(default_factory=list)
    terminal_undetectable: int = 0
    terminal_records: dict[int, CoverOpen] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(v == "pass" for v in self.invariants.values())


def judge(sc: Scenario, log: RunLog) -> Judgment:
    ev = build_evidence(sc, log)
    problems = _problems(ev)
    terminal = _terminal_evidence(sc, log)
    if terminal is not None:
        # The same invariants over the terminal cover's truth and log, named as its own.
        for k, found in _problems(terminal).items():
            problems[k] = problems[k] + [f"terminal cover: {p}" for p in found]
    invariants = {k: ("pass" if not problems[k] else "fail") for k in INVARIANTS}
    undetectable = sum(v.status == "undetectable" for v in ev.verdicts)
    j = Judgment(ev.verdicts, invariants, problems, undetectable, ev.records, ev.commit_us,
                 ev.close_commit_us)
    if terminal is not None:
        j.terminal_verdicts = terminal.verdicts
        j.terminal_undetectable = sum(v.status == "undetectable" for v in terminal.verdicts)
        j.terminal_records = terminal.records
    return j


def _problems(ev: Evidence) -> dict[str, list[str]]:
    # Looked up at each call, so a test can swap the checks and watch the judgment change.
    return {k: checks.CHECKS[k](ev) for k in INVARIANTS}


def _terminal_evidence(sc: Scenario, log: RunLog) -> Evidence | None:
    """The terminal cover's evidence, unless the run has nothing of it to judge: no operation
    in the scenario and not one page write to its log (a campaign's usual run)."""
    if not sc.terminal_cover and not any(group_of_addr(a) == GROUP_TERMINAL
                                         for _t, a, _d in log.writes):
        return None
    return build_evidence(sc, log, TERMINAL)
