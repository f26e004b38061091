"""Every case of the built-in verification matrix gives the verdicts a hardware engineer expects."""

from __future__ import annotations

import pytest

from meterseal.firmware.records import QUALITY_NAMES
from meterseal.verify.matrix import Case, case_by_key, cases
from meterseal.verify.result import simulate

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_matrix_case_meets_its_expectations(case: Case) -> None:
    out = simulate(case.scenario, trace=False)
    j = out.judgment
    assert j.passed, {k: v for k, v in j.problems.items() if v}
    got = [
        (v.status, QUALITY_NAMES[j.records[v.record].quality] if v.record else None)
        for v in j.verdicts
    ]
    assert got == [(e.status, e.quality) for e in case.expect]


def test_matrix_keys_in_their_order() -> None:
    # The report and `meterseal verify` list the cases in this order; keys are unique.
    assert [c.key for c in CASES] == [
        "before-outage",
        "holdup-1min", "holdup-2h", "holdup-24h", "holdup-48h",
        "after-exhaustion", "blackout-open-close", "several-in-one-outage",
        "power-fail-window", "restore-debounce-dead", "restore-debounce-alive", "mains-chatter",
        "weak-battery", "dead-battery-unsynced", "cold", "hot", "cold-coin-cell-deferred",
        "polling", "polling-short", "interrupt-short", "supercap-only",
        "cut-inside-write", "tamper-latch",
        # On the field's board (matrix_field.py).
        "field-day-10", "field-undervoltage-kw", "esd-eft-glitches", "tool-held-switch",
        "field-terminal-cover", "field-deferred-after-glitch",
    ]


def test_cut_inside_write_really_tears_a_write() -> None:
    out = simulate(case_by_key("cut-inside-write").scenario, trace=False)
    assert out.log.torn_writes == 1


def test_watch_ends_before_brownout_and_stores_its_instant() -> None:
    """The firmware stops watching while its last write is still affordable; a later opening
    still open at restore is bounded from exactly that instant."""
    from meterseal.firmware.image import decode_image

    out = simulate(case_by_key("after-exhaustion").scenario, trace=False)
    outage = out.log.outages[0]
    assert outage.watch_until_us is not None and outage.brownout_us is not None
    assert outage.watch_until_us < outage.brownout_us
    rec = decode_image(out.log.final_image).cover[0]
    start_ms = out.log.start_local_ms
    # not_before is the watch end as the meter's own (drifting) clock read it.
    drift = float(out.scenario.profile["rtc.drift_ppm"]) * 1e-6
    expected_ms = start_ms + outage.watch_until_us * (1 + drift) / 1000
    assert abs(rec.not_before_ms - expected_ms) <= 2


def test_hot_case_watch_is_shorter_than_at_20c() -> None:
    hot = simulate(case_by_key("hot").scenario, trace=False).log.outages[0]
    nominal = simulate(case_by_key("after-exhaustion").scenario, trace=False).log.outages[0]
    assert hot.watch_until_us is not None and nominal.watch_until_us is not None
    assert hot.watch_until_us - hot.from_us < nominal.watch_until_us - nominal.from_us


def test_coin_cell_in_the_cold_keeps_late_records_pending_and_writes_them_at_restore() -> None:
    out = simulate(case_by_key("cold-coin-cell-deferred").scenario, trace=False)
    j = out.judgment
    deferred = [r for r in j.records.values() if QUALITY_NAMES[r.quality] == "deferred"]
    assert len(deferred) == 1
    restore_us = out.scenario.outages[0].end_us
    assert j.commit_us[deferred[0].seq] >= restore_us
