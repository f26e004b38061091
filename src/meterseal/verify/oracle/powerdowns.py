"""The oracle's judgment of power-down records by the field rules the firmware keeps.

Owns what makes a power-down record false: field meters record a power-down only once the
power-fail condition has lasted the firmware's debounce, and only after the minimum supply since
mains came; a record for a shorter flicker, or for an outage that followed mains' return too
soon, is a false record (I1). The causes below say why no record is expected for such an
outage. It does not require a record for every long outage: whether the backup could afford
one is the budget's question, not a rule's.
"""

from __future__ import annotations

from meterseal.firmware.records import EXACT
from meterseal.sim.design import FirmwareConfig  # the class the recorder is built with
from meterseal.sim.scenario import Outage
from meterseal.verify.oracle.evidence import Evidence

FLICKER_CAUSE = ("mains was off for less than the power-down debounce: field meters keep no "
                 "power-down record of a flicker")
SHORT_SUPPLY_CAUSE = ("mains had been back for less than the minimum supply before it: field "
                      "meters do not judge it a power-down")

# The rule's figures, as the firmware is built with them (read once: the judgment is the
# field rule's, whatever a test does to a firmware build afterwards).
DEBOUNCE_US = FirmwareConfig.PD_DEBOUNCE_US
MIN_SUPPLY_US = FirmwareConfig.PD_MIN_SUPPLY_US

EDGE_SLACK_US = 200_000
"""How far the firmware's view of an outage's length may stray from the truth: the power-fail
comparator trips after the bulk capacitor's hold-up (tens of ms) and power-good follows the
rail's rise; both edges together stay well inside 200 ms, a fifth of the debounce."""

MATCH_SLACK_US = 1_000_000
"""How far a power-down's start may lie from its outage's start: the trip follows the bulk
capacitor's hold-up, far less than a second."""


def no_record_cause(ev: Evidence, outages: list[Outage], k: int) -> str | None:
    """Why outage k of ``outages`` (in time order) must leave no power-down record, or None if
    it may.

    The firmware sees an outage only once the power-fail comparator trips, the bulk capacitor's
    hold-up after mains fell: an outage shorter than that (with slack) never restarts its count
    of supply, so the supply before outage k runs from the end of the latest outage it could see
    (or from the start) to its trip."""
    o = outages[k]
    if o.for_us < DEBOUNCE_US - EDGE_SLACK_US:
        return FLICKER_CAUSE
    trip = ev.tol.trip_us
    seen = [p.at_us + p.for_us for p in outages[:k] if p.for_us > trip + EDGE_SLACK_US]
    since = max(seen, default=0)
    if o.at_us + trip - since < MIN_SUPPLY_US - EDGE_SLACK_US:
        return SHORT_SUPPLY_CAUSE
    return None


def power_down_problems(ev: Evidence) -> list[str]:
    """Every power-down record the run left that stands for an outage the rules exclude."""
    problems = []
    outages = sorted(ev.sc.outages, key=lambda o: o.at_us)
    for pd in ev.final.power_down:
        if pd.start_quality != EXACT:
            continue  # a start the meter could not date cannot be matched to an outage
        t = ev.true_us(pd.start_ms)
        slack = ev.tol.clock_us(t) + EDGE_SLACK_US
        # Its outage: one that began before the trip it is dated from, within the clock's
        # error. Where the clock's error cannot tell several apart, it is false only if every
        # one of them excludes a record.
        began = [k for k, o in enumerate(outages)
                 if o.at_us - slack <= t <= o.at_us + ev.tol.trip_us + MATCH_SLACK_US + slack]
        causes = [no_record_cause(ev, outages, k) for k in began]
        if began and all(causes):
            k = began[0]
            problems.append(f"power-down record {pd.seq} at {t / 1e6:.3f} s stands for an "
                            f"outage of {outages[k].for_us / 1e6:.3f} s: {causes[0]}")
    return problems
