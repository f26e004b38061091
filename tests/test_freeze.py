"""Daily freezes: the energy registers at each local midnight, made up after an outage.

Checked against the truth of the scenario: the energy that flowed through the meter up to each
midnight (EnergyTruth), and the meter's own local midnights (its RTC keeps UTC+8).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

from meterseal.firmware.freeze import DAY_MS, missed_midnights, next_midnight
from meterseal.firmware.image import decode_image
from meterseal.firmware.records import DEFERRED, EXACT, MWH_PER_UNIT
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import LoadStep, Outage, Scenario

H = 3_600_000_000
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def _run(days: float, outages: tuple[Outage, ...] = (), profile: str = "single-phase"):  # type: ignore[no-untyped-def]
    sc = Scenario(name="freeze", start=START, duration_us=int(days * 24 * H),
                  outages=outages, cover=(), loads=(LoadStep(0, 1500.0, 0.0),),
                  profile_name=profile)
    log = Kernel(sc).run()
    return sc, log, decode_image(log.final_image)


def _t_us(log, local_ms: int, drift_ppm: float = 5.8) -> int:  # type: ignore[no-untyped-def]
    """The true instant the meter's RTC (the default board's, 5.8 ppm fast) reads local_ms."""
    return round((local_ms - log.start_local_ms) * 1000 / (1 + drift_ppm * 1e-6))


def test_each_midnight_on_mains_is_frozen_exactly_with_the_energy_then() -> None:
    _sc, log, img = _run(5)
    assert img.freeze_total == 5
    times = [f.time_ms for f in reversed(img.freezes)]
    assert all(t % DAY_MS == 0 for t in times)
    assert [b - a for a, b in pairwise(times)] == [DAY_MS] * 4
    for f in img.freezes:
        assert f.quality == EXACT
        imp_mwh, _exp = log.energy.mwh(_t_us(log, f.time_ms))
        # The register is read at the timer's instant: the same 0.01 kWh unit, or the next.
        assert imp_mwh // MWH_PER_UNIT <= f.import_units <= imp_mwh // MWH_PER_UNIT + 1, f


def test_midnights_missed_in_an_outage_are_made_up_deferred_with_the_outage_energy() -> None:
    # Mains off from 12:00 on day 1 to 18:00 on day 3: the midnights of days 2 and 3 are missed.
    out = Outage(27 * H, 54 * H)
    _sc, log, img = _run(5, (out,))
    by_time = {f.time_ms: f for f in img.freezes}
    assert len(by_time) == img.freeze_total == 5
    missed = [m for m in by_time if out.at_us < _t_us(log, m) < out.end_us]
    assert len(missed) == 2
    for m in missed:
        f = by_time[m]
        assert f.quality == DEFERRED
        # No energy flows while mains is off: the made-up registers are the midnight's.
        imp_mwh, _ = log.energy.mwh(_t_us(log, m))
        assert abs(f.import_units - imp_mwh // MWH_PER_UNIT) <= 1
    assert all(by_time[m].quality == EXACT for m in by_time if m not in missed)


def test_the_ring_keeps_the_latest_62() -> None:
    _sc, _log, img = _run(66)
    assert img.freeze_total == 66
    assert [f.seq for f in img.freezes] == list(range(66, 4, -1))


def test_midnight_arithmetic() -> None:
    assert next_midnight(0) == DAY_MS
    assert next_midnight(DAY_MS) == 2 * DAY_MS
    assert next_midnight(DAY_MS - 1) == DAY_MS
    assert missed_midnights(DAY_MS, DAY_MS + 5) == []
    assert missed_midnights(DAY_MS, 3 * DAY_MS + 5) == [2 * DAY_MS, 3 * DAY_MS]
    # A clock set back below the newest freeze makes up nothing.
    assert missed_midnights(10 * DAY_MS, 3 * DAY_MS) == []
    # A meter off for a year makes up only the freezes it can keep.
    long = missed_midnights(DAY_MS, 400 * DAY_MS)
    assert len(long) == 62 and long[-1] == 400 * DAY_MS
