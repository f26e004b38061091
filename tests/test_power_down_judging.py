"""Power-down judging as field meters do it (issue 13, item 4): a power-down is recorded only
once the power-fail condition has lasted the debounce (1 s), and only after 3 s of supply; the
oracle calls a record that breaks either rule a false record (I1), naming the cause."""

from __future__ import annotations

import dataclasses

import pytest

from meterseal.firmware.config import FirmwareConfig
from meterseal.firmware.image import decode_image
from meterseal.firmware.layout import pd_start_addr
from meterseal.firmware.pagecodec import encode_page
from meterseal.firmware.records import EXACT, PowerDown
from meterseal.sim.scenario import Outage
from meterseal.verify.matrix import _sc
from meterseal.verify.oracle import judge
from meterseal.verify.oracle.powerdowns import FLICKER_CAUSE, SHORT_SUPPLY_CAUSE
from meterseal.verify.result import simulate
from tests.test_oracle import forged, put

FLICKERS = _sc(
    "a 500 ms flicker, a 2 s outage, 10 s right after it, then 20 min", "3h",
    [("30min", "500ms"), ("40min", "2s"), ("40min 4s", "10s"), ("1h", "20min")],
    [("1h 10min", "1h 12min")], profile="single-phase",
)
SEC_US = 1_000_000


@pytest.fixture(scope="module")
def run():
    out = simulate(FLICKERS, trace=False)
    assert out.judgment.passed, out.judgment.problems
    return out


def test_the_rules_are_the_field_meters_figures():
    assert FirmwareConfig.PD_DEBOUNCE_US == SEC_US
    assert FirmwareConfig.PD_MIN_SUPPLY_US == 3 * SEC_US


def test_only_outages_past_the_debounce_and_after_3_s_of_supply_are_recorded(run):
    img = decode_image(run.log.final_image)
    starts = sorted((pd.start_ms - run.log.start_local_ms) * 1000 for pd in img.power_down)
    # the 500 ms flicker and the outage 2 s after mains came back leave nothing
    assert len(starts) == 2 and img.power_down_total == 2
    for got, want in zip(starts, (40 * 60 * SEC_US, 3600 * SEC_US), strict=True):
        assert 0 <= got - want < SEC_US  # dated from the trip, not from the judgment
    assert all(pd.ended and pd.start_quality == EXACT for pd in img.power_down)


def _forge_power_down_at(run, at_us, seq):
    rec = PowerDown(seq, run.log.start_local_ms + at_us // 1000 + 40, EXACT)
    return forged(run.log, lambda image: put(image, pd_start_addr(seq), encode_page(rec)),
                  since_us=at_us + SEC_US)


def test_the_oracle_refuses_a_power_down_record_of_a_flicker(run):
    j = judge(FLICKERS, _forge_power_down_at(run, 30 * 60 * SEC_US, 3))
    assert j.invariants["I1"] == "fail"
    assert any("power-down record 3" in p and FLICKER_CAUSE in p for p in j.problems["I1"])


def test_the_oracle_refuses_a_power_down_right_after_a_power_up(run):
    j = judge(FLICKERS, _forge_power_down_at(run, (40 * 60 + 4) * SEC_US, 3))
    assert any(SHORT_SUPPLY_CAUSE in p for p in j.problems["I1"]), j.problems


def test_a_meter_judging_every_trip_fails_the_oracle(monkeypatch):
    """The old behaviour (a power-down record at every comparator trip) is caught."""
    monkeypatch.setattr(FirmwareConfig, "PD_DEBOUNCE_US", 0)
    monkeypatch.setattr(FirmwareConfig, "PD_MIN_SUPPLY_US", 0)
    out = simulate(dataclasses.replace(FLICKERS, name="judging every trip"), trace=False)
    assert out.judgment.invariants["I1"] == "fail"
    assert any(FLICKER_CAUSE in p for p in out.judgment.problems["I1"])


def test_an_outage_the_comparator_never_saw_does_not_restart_the_supply_count():
    """Found by the random timelines: a 20 ms outage is within the bulk capacitor's hold-up, so
    the firmware counts its 3 s of supply from the boot; the oracle must count the same way."""
    sc = dataclasses.replace(
        _sc("hidden outage", "2h", profile="single-phase", supply__topology="battery+supercap"),
        outages=(Outage(0, 10_000), Outage(160_002, 20_000), Outage(2_980_001, 1_020_001)))
    out = simulate(sc, trace=False)
    assert out.judgment.passed, out.judgment.problems
    assert decode_image(out.log.final_image).power_down_total == 1
