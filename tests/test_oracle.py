"""The oracle seen to fail: meters that lie, each caught by exactly the invariant it breaks.

Each forgery takes a real run of a small scenario and forges what the meter recorded — pages
re-encoded with the record codec and written into the NVM snapshots at their journal addresses,
or the run's reports — and the oracle must fail exactly that invariant and keep the others. An
oracle that always passed would fail every one of these tests (see the last ones).
"""

from __future__ import annotations

from meterseal.verify.matrix import _sc
from meterseal.verify.oracle.tolerances import tolerances
from meterseal.verify.result import simulate

DEBOUNCE_40 = {"cover__debounce_samples": 40}  # 40 samples × 5 ms = 200 ms


# ---------------------------------------------------------------------- the firmware's debounce


def test_the_debounce_is_the_firmwares_samples_times_its_period() -> None:
    assert tolerances(_sc("default", "1h")).debounce_us == 9 * 5000
    assert tolerances(_sc("40 samples", "1h", **DEBOUNCE_40)).debounce_us == 200_000
    # The profile's descriptive debounce time is not what the firmware counts.
    assert tolerances(_sc("debounce_s", "1h", cover__debounce_s=0.2)).debounce_us == 45_000


def test_an_opening_shorter_than_the_firmwares_debounce_is_undetectable_not_missed() -> None:
    sc = _sc("120 ms on mains, 40 samples", "2h", [], [("1h", "1h 120ms")], **DEBOUNCE_40)
    j = simulate(sc, trace=False).judgment
    assert j.passed, j.problems
    assert [(v.status, v.cause) for v in j.verdicts] == [
        ("undetectable", "shorter than the debounce while watched")]
    assert j.records == {}


def test_an_opening_longer_than_the_firmwares_debounce_is_recorded() -> None:
    sc = _sc("250 ms on mains, 40 samples", "2h", [], [("1h", "1h 250ms")], **DEBOUNCE_40)
    j = simulate(sc, trace=False).judgment
    assert j.passed, j.problems
    assert [v.status for v in j.verdicts] == ["recorded"]
    assert j.records[1].closed
