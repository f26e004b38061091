"""What the cover switch can and cannot see: ESD/EFT glitches the debounce must reject, and a
switch held down by a tool while the cover is off."""

from __future__ import annotations

import pytest

from meterseal.sim.scenario import ScenarioError, parse_scenario
from meterseal.sim.scenario_toml import to_toml
from meterseal.verify.matrix import case_by_key
from meterseal.verify.matrix_field import burst, field, glitch
from meterseal.verify.oracle.evidence import HELD_CAUSE
from meterseal.verify.result import simulate

GLITCHES = (glitch("1h", "2ms"), burst("2h", "1ms", 75, "2.2ms"), glitch("3h", "30ms"))


def test_glitches_shorter_than_the_debounce_leave_no_record() -> None:
    out = simulate(field("glitches only", "6h", [("2h 30min", "2h")], faults=GLITCHES))
    assert out.judgment.passed, out.judgment.problems
    assert out.judgment.records == {}


def test_a_debounce_of_one_sample_records_the_glitches_and_the_oracle_refuses_them() -> None:
    """The same noise through a firmware that takes one sample for a change: false openings,
    which I1 (no false record) must catch."""
    out = simulate(field("glitches, no debounce", "6h", [("2h 30min", "2h")], faults=GLITCHES,
                         cover__debounce_samples=1, cover__bounce_s=0.001))
    j = out.judgment
    assert j.records, "one-sample debounce should have taken a glitch for an opening"
    assert j.invariants["I1"] == "fail"


def test_an_opening_amid_a_burst_is_recorded() -> None:
    out = simulate(case_by_key("esd-eft-glitches").scenario, trace=False)
    assert out.judgment.passed, out.judgment.problems
    assert [v.status for v in out.judgment.verdicts] == ["recorded"]


def test_a_tool_held_switch_is_undetectable_with_its_cause() -> None:
    out = simulate(case_by_key("tool-held-switch").scenario, trace=False)
    j = out.judgment
    assert j.passed, j.problems
    assert (j.verdicts[0].status, j.verdicts[0].cause) == ("undetectable", HELD_CAUSE)
    assert j.verdicts[1].status == "recorded"


BASE = {"start": "2026-03-01T08:00:00+08:00", "duration": "1d"}


@pytest.mark.parametrize("fault, says", [
    ({"kind": "glitch", "at": "1h"}, "width"),
    ({"kind": "glitch", "at": "1h", "width": "5s"}, "width"),
    ({"kind": "glitch-burst", "at": "1h", "width": "2ms", "count": 5, "period": "1ms"},
     "period"),
    ({"kind": "glitch", "at": "1h", "width": "2ms", "count": 3}, "glitch-burst"),
    ({"kind": "power-cut", "at": "1h", "width": "2ms"}, "width"),
    ({"kind": "glitch-burst", "at": "23h 59min 59s", "width": "2ms", "count": 1000,
      "period": "1s"}, "end"),
])
def test_bad_glitches_are_refused(fault: dict[str, object], says: str) -> None:
    with pytest.raises(ScenarioError, match=says):
        parse_scenario({**BASE, "fault": [fault]})


def test_held_must_be_a_boolean() -> None:
    with pytest.raises(ScenarioError, match="held"):
        parse_scenario({**BASE, "cover": [{"open_at": "1h", "close_at": "2h", "held": "yes"}]})


def test_glitches_and_held_switches_write_back_to_the_same_scenario() -> None:
    import tomllib

    sc = field("round trip", "1d", [("2h", "1h")], [("3h", "4h"), ("5h", None)], held=(0,),
               faults=GLITCHES)
    again = parse_scenario(tomllib.loads(to_toml(sc)))
    assert again == sc
