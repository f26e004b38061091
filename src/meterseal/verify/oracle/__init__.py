"""The oracle: knows the truth of a scenario and judges every record the meter made (I1–I6).

It reads records only by decoding NVM images (the snapshots the kernel took after each write or
tear, and the final one) and judges them against the scenario's truth and the board's physical
log (when the MCU was powered, when it booted, when its clock was invalid). It never looks at the
firmware's objects. What the hardware could not observe is reported as undetectable, with a
cause, never silently dropped.

    tolerances.py  the timing facts and tolerances, from the scenario (the only profile reader)
    observe.py     could the hardware observe a state of the switch?
    evidence.py    records, commit times, matching and a verdict per opening, from the RunLog
    checks.py      check_i1 … check_i6: one named check per invariant
    judge.py       judge(): the checks over the evidence, as a Judgment
"""

from meterseal.verify.oracle.evidence import Verdict
from meterseal.verify.oracle.judge import INVARIANTS, Judgment, judge

__all__ = ["INVARIANTS", "Judgment", "Verdict", "judge"]
