"""The oracle seen to fail: meters that lie, each caught by exactly the invariant it breaks.

Each forgery takes a real run of a small scenario and forges what the meter recorded — pages
re-encoded with the record codec and written into the NVM at their journal addresses (the run's
write log rebuilt from the forged images), or the run's reports — and the oracle must fail
exactly that invariant and keep the others. An oracle that always passed would fail every one of
these tests (see the last ones).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from meterseal import commands
from meterseal.firmware.image import decode_image
from meterseal.firmware.layout import (
    FREE_BASE_PAGE,
    PAGE_SIZE,
    cover_close_addr,
    cover_open_addr,
)
from meterseal.firmware.pagecodec import encode_page
from meterseal.firmware.records import BOUNDED, EXACT, CoverOpen
from meterseal.sim import ports
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import CoverOp, Fault, Outage, Scenario, load_scenario
from meterseal.verify.matrix import START, _sc, case_by_key
from meterseal.verify.oracle import INVARIANTS, Judgment, checks, judge
from meterseal.verify.oracle.observe import UNKEEPABLE_CAUSE
from meterseal.verify.oracle.tolerances import tolerances
from meterseal.verify.result import simulate

DEBOUNCE_40 = {"cover__debounce_samples": 40}  # 40 samples × 5 ms = 200 ms


def failing(j: Judgment) -> set[str]:
    return {k for k, v in j.invariants.items() if v == "fail"}


# ---------------------------------------------------------------------- the firmware's debounce


def test_the_debounce_is_the_firmwares_samples_times_its_period() -> None:
    assert tolerances(_sc("default", "1h")).debounce_us == 9 * 5000
    assert tolerances(_sc("40 samples", "1h", **DEBOUNCE_40)).debounce_us == 200_000
    # Set as a time, it becomes the firmware's count of samples: one fact, one value.
    assert tolerances(_sc("debounce_s", "1h", cover__debounce_s=0.2)).debounce_us == 200_000


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


# ---------------------------------------------------------------------- forged meters

# Two exact records, both closed: one on mains, one on backup; each reported by radio.
BASE = _sc("forgery base", "6h", [("2h", "2h")], [("1h", "1h 10min"), ("3h", "3h 10min")])
HOUR_US = 3_600_000_000


@pytest.fixture(scope="module")
def honest() -> RunLog:
    out = simulate(BASE, trace=False)
    j = out.judgment
    assert j.passed, j.problems
    assert sorted(j.records) == [1, 2] and all(r.closed for r in j.records.values())
    assert [seq for _t, _k, seq, _on in out.log.reports] == [1, 2]
    return out.log


Edit = Callable[[bytes], bytes]


USED = FREE_BASE_PAGE * PAGE_SIZE


def page_writes(t: int, before: bytes, after: bytes) -> list[tuple[int, int, bytes]]:
    """The page writes that take the NVM from `before` to `after` at instant t."""
    return [(t, a, after[a:a + PAGE_SIZE]) for a in range(0, USED, PAGE_SIZE)
            if after[a:a + PAGE_SIZE] != before[a:a + PAGE_SIZE]]


def forged(log: RunLog, edit: Edit, since_us: int = 0) -> RunLog:
    """The run, with the NVM as it stood after every write from `since_us` on (and the final
    image) edited; the write log is rebuilt to match, page by page."""
    writes: list[tuple[int, int, bytes]] = []
    prev = b"\xff" * USED
    for t, img in log.images(USED):
        new = edit(img) if t >= since_us else img
        writes += page_writes(t, prev, new)
        prev = new
    return dataclasses.replace(log, writes=writes, final_image=edit(log.final_image),
                               reports=list(log.reports))


def last_image(log: RunLog) -> bytes:
    images = [img for _t, img in log.images(USED)]
    return images[-1] if images else b"\xff" * USED


def put(image: bytes, addr: int, data: bytes) -> bytes:
    return image[:addr] + data + image[addr + len(data):]


def erase(image: bytes, addr: int) -> bytes:
    return put(image, addr, b"\xff" * PAGE_SIZE)


def write_record(rec: CoverOpen) -> Edit:
    """Both halves of a record, re-encoded and written at its slot's addresses."""
    def edit(image: bytes) -> bytes:
        image = put(image, cover_open_addr(rec.seq), encode_page(rec))
        half = rec.close_half()
        return image if half is None else put(image, cover_close_addr(rec.seq), encode_page(half))
    return edit


def drop_record(seq: int) -> Edit:
    def edit(image: bytes) -> bytes:
        return erase(erase(image, cover_open_addr(seq)), cover_close_addr(seq))
    return edit


def replace_record(seq: int, rec: CoverOpen) -> Edit:
    """Record `seq` replaced by `rec` wherever it is in the NVM, each half from the write that
    committed it on (so the forgery keeps the meter's timing)."""
    def edit(image: bytes) -> bytes:
        now = next((r for r in decode_image(image).cover if r.seq == seq), None)
        if now is None:
            return image
        new = rec.copy()
        new.closed = now.closed
        return write_record(new)(drop_record(seq)(image))
    return edit


def record(log: RunLog, seq: int) -> CoverOpen:
    return next(r for r in decode_image(log.final_image).cover if r.seq == seq)


def changed(log: RunLog, which: int, **fields: int) -> CoverOpen:
    rec = record(log, which).copy()
    for name, value in fields.items():
        setattr(rec, name, value)
    return rec


def phantom_record(log: RunLog) -> RunLog:
    """A third record, exact at 5 h and written then, while the cover was closed."""
    at_us = 5 * HOUR_US
    rec = CoverOpen(3, EXACT, log.start_local_ms + at_us // 1000, 0, 0, 150, 0)
    out = forged(log, write_record(rec), since_us=at_us)
    out.writes += page_writes(at_us + 50_000, last_image(out), out.final_image[:USED])
    return out


def count_gap(log: RunLog) -> RunLog:
    """Record 2 numbered 3 (and reported as 3): a record number is skipped."""
    out = forged(log, replace_record(2, changed(log, 2, seq=3)))
    out.reports = [(t, k, 3 if seq == 2 else seq, on) for t, k, seq, on in log.reports]
    return out


def rewritten_later(log: RunLog) -> RunLog:
    """Record 1's open half rewritten at the last write, a ms earlier (still within tolerance)."""
    rec = changed(log, 1, opened_ms=record(log, 1).opened_ms - 1)
    return forged(log, replace_record(1, rec), since_us=log.writes[-1][0])


def stamped_5_s_late(log: RunLog) -> RunLog:
    """Record 1, exact, dated 5 s after its opening (I3's: the record is real, its time is not;
    I1 would have it only if no opening the meter surely saw were left unrecorded)."""
    late = changed(log, 1, opened_ms=record(log, 1).opened_ms + 5000)
    return forged(log, replace_record(1, late))


def exact_from_a_stopped_clock(log: RunLog) -> RunLog:
    """The clock lost its time at 2.5 h (its supply fell below the RTC's minimum) and was never
    set again, yet record 2, at 3 h, still says exact: a time the meter never had."""
    out = forged(log, lambda img: img)
    out.rtc_invalid = [(int(2.5 * HOUR_US), log.t_end_us)]
    return out


def wrong_energy(log: RunLog) -> RunLog:
    """Record 2's import before the opening 1 kWh higher than the register held."""
    wrong = changed(log, 2, import_before=record(log, 2).import_before + 100)
    return forged(log, replace_record(2, wrong))


def missed_opening(log: RunLog) -> RunLog:
    """Record 2, of an opening seen on backup, never written (nor reported)."""
    out = forged(log, drop_record(2))
    out.reports = [r for r in log.reports if r[2] != 2]
    return out


def reported_before_written(log: RunLog) -> RunLog:
    """Record 2's report on the air 1 ms before its page write completed ("the record first,
    the report second" is I5's: a report claims a record that a cut could still lose)."""
    write_end = next(t for t, img in log.images(USED) if any(r.seq == 2 for r in
                                                              decode_image(img).cover))
    burst_us = tolerances(BASE).radio_us
    out = forged(log, lambda img: img)
    out.reports = [(write_end - 1000 + burst_us if seq == 2 else t, k, seq, on)
                   for t, k, seq, on in log.reports]
    return out


def reported_never_written(log: RunLog) -> RunLog:
    """A report of a record 3 that the meter never wrote."""
    out = forged(log, lambda img: img)
    t, kind, _seq, on = log.reports[-1]
    out.reports.append((t + HOUR_US, kind, 3, on))
    return out


FORGERIES: dict[str, tuple[Callable[[RunLog], RunLog], str]] = {
    "record with no true opening": (phantom_record, "I1"),
    "missed observable opening": (missed_opening, "I2"),
    "exact time 5 s late": (stamped_5_s_late, "I3"),
    "exact time from a stopped clock": (exact_from_a_stopped_clock, "I3"),
    "count gap": (count_gap, "I4"),
    "committed page rewritten later": (rewritten_later, "I5"),
    "report before its record": (reported_before_written, "I5"),
    "report of a record never written": (reported_never_written, "I5"),
    "wrong energy snapshot": (wrong_energy, "I6"),
}


def assert_breaks_only(j: Judgment, invariant: str) -> None:
    assert failing(j) == {invariant}, {k: v for k, v in j.problems.items() if v}
    assert j.invariants[invariant] == "fail" and j.problems[invariant]


@pytest.mark.parametrize("name", FORGERIES)
def test_a_forgery_breaks_exactly_its_invariant(honest: RunLog, name: str) -> None:
    forge, invariant = FORGERIES[name]
    assert_breaks_only(judge(BASE, forge(honest)), invariant)


def test_an_oracle_that_always_passes_fails_every_forgery_test(
    honest: RunLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "CHECKS", {k: (lambda ev: []) for k in INVARIANTS})
    for forge, invariant in FORGERIES.values():
        j = judge(BASE, forge(honest))
        assert j.passed
        with pytest.raises(AssertionError):
            assert_breaks_only(j, invariant)


@pytest.mark.parametrize("name", FORGERIES)
def test_only_its_own_check_catches_a_forgery(
    honest: RunLog, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    forge, invariant = FORGERIES[name]
    monkeypatch.setitem(checks.CHECKS, invariant, lambda ev: [])
    assert judge(BASE, forge(honest)).passed


# ---------------------------------------------------------------------- a firmware that lies


@pytest.fixture
def clock_5_s_late(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every time the firmware reads from its clock port is 5 s late."""
    real = ports.Clock.read

    def read(self: ports.Clock) -> tuple[int, bool]:
        ms, valid = real(self)
        return ms + 5000, valid

    monkeypatch.setattr(ports.Clock, "read", read)


@pytest.mark.usefixtures("clock_5_s_late")
def test_a_firmware_stamping_5_s_late_fails_time_honesty() -> None:
    j = simulate(case_by_key("before-outage").scenario, trace=False).judgment
    assert failing(j) == {"I3"}, j.problems
    assert any("+5.0" in p for p in j.problems["I3"])
    assert [v.status for v in j.verdicts] == ["recorded"]  # a real record, at a false time


@pytest.mark.usefixtures("clock_5_s_late")
def test_a_firmware_stamping_5_s_late_fails_meterseal_verify(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert commands.main(["verify", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "before-outage" in out and "case(s) failed" in out


# ------------------------------------------------- a record no hardware of the board could keep

# Campaign 2026 #99536: an opening seen on backup when no route could program the EEPROM; its
# record waited in retained RAM, which lost its supply long before mains returned. The oracle
# lets the meter off only for that: a meter that drops the same record under any other board
# history is lying.
UNKEPT = load_scenario(Path(__file__).parent / "scenarios" / "campaign-2026-99536.toml")


@pytest.fixture(scope="module")
def unkept() -> RunLog:
    out = simulate(UNKEPT, trace=False)
    assert out.judgment.passed, out.judgment.problems
    assert [v.cause for v in out.judgment.verdicts] == [UNKEEPABLE_CAUSE]
    return out.log


def test_a_meter_that_drops_a_record_it_could_have_written_is_refused(unkept: RunLog) -> None:
    # The same run, but the supply could have programmed a page when the cover opened.
    forged_log = dataclasses.replace(unkept, unwritable=[])
    j = judge(UNKEPT, forged_log)
    assert_breaks_only(j, "I2")
    assert [v.status for v in j.verdicts] == ["missed"]


def test_a_meter_that_drops_a_record_retained_ram_still_held_is_refused(unkept: RunLog) -> None:
    # The same run, but retained RAM kept its supply until mains returned: the restore had the
    # record in hand and had to write it.
    forged_log = dataclasses.replace(unkept, retained_lost=[])
    j = judge(UNKEPT, forged_log)
    assert_breaks_only(j, "I2")
    assert [v.status for v in j.verdicts] == ["missed"]


def test_a_meter_that_drops_a_power_up_opening_it_could_have_written_is_refused() -> None:
    # Campaign 2026 #95425: an opening found at a power-up; mains failed again before the
    # reconciliation's debounce ended, on a supercapacitor that could not program a page.
    # Had it been able to (the rail's loss not logged unwritable), the opening is missed.
    sc = load_scenario(Path(__file__).parent / "scenarios" / "campaign-2026-95425.toml")
    log = simulate(sc, trace=False).log
    assert judge(sc, log).passed
    j = judge(sc, dataclasses.replace(log, unwritable=[]))
    assert_breaks_only(j, "I2")
    assert [(v.status, v.cause) for v in j.verdicts] == [("missed", "still so at power-up")]


# ------------------------------------------------------------ records waiting in retained RAM


def _scenario(name: str) -> Scenario:
    return load_scenario(Path(__file__).parent / "scenarios" / name)


def test_an_unsynced_waiting_record_from_a_clock_that_never_stopped_is_refused() -> None:
    # Campaign 2026 #59373 ends with an opening waiting in retained RAM, stamped by a clock
    # that had lost its time. Had the clock kept it, the entry would have a time to give:
    # without one it stands for nothing, and the opening is missed.
    sc = _scenario("campaign-2026-59373.toml")
    log = simulate(sc, trace=False).log
    assert judge(sc, log).passed
    j = judge(sc, dataclasses.replace(log, rtc_invalid=[]))
    assert_breaks_only(j, "I2")
    assert [v.status for v in j.verdicts] == ["missed"]


def test_a_meter_without_the_waiting_record_misses_the_openings_it_stood_for() -> None:
    # Campaign 2026 #33198: one record waiting in retained RAM stands for two openings the
    # switch could not tell apart. Without it, the second, which no poll could miss, is missed.
    sc = _scenario("campaign-2026-33198.toml")
    log = simulate(sc, trace=False).log
    assert judge(sc, log).passed
    j = judge(sc, dataclasses.replace(log, final_retained=b""))
    assert_breaks_only(j, "I2")
    assert [v.status for v in j.verdicts] == ["undetectable", "undetectable", "missed"]


def test_a_meter_that_dates_its_record_to_an_opening_it_could_not_be_sure_to_see() -> None:
    # Campaign 2026 #82128: an unsynced record (no time) stands for the opening the meter
    # surely saw, not for a later one it could not be sure to see. A meter that dates the
    # same record to that later opening, within a second, says it saw the one and not the
    # other: the one it surely saw is missed. (The meter writes that record on backup, 0.2 s
    # after the opening it saw; the forgery writes it at the restore, after both openings, as
    # a meter that kept it waiting in retained RAM would: a record dated to the later opening
    # but written before it would be judged by its bounds, I3.)
    sc = _scenario("campaign-2026-82128.toml")
    log = simulate(sc, trace=False).log
    assert judge(sc, log).passed
    later_ms = log.start_local_ms + sc.cover[3].open_us // 1000
    dated = changed(log, 1, quality=BOUNDED, not_before_ms=later_ms - 1000,
                    not_after_ms=later_ms + 1000, opened_ms=later_ms + 1000)
    restore_us = next(o.to_us for o in log.outages if o.to_us > sc.cover[3].open_us)
    j = judge(sc, forged(forged(log, drop_record(1)), write_record(dated), since_us=restore_us))
    assert "I2" in failing(j), j.problems
    assert j.verdicts[2].status == "missed"


# -------------------------------------------------- a closing claimed while the cover was open


def clockless_board(outage_us: int, cover: tuple[CoverOp, ...]) -> Scenario:
    """A board that never charges its supercapacitor and whose clock never runs (every record
    unsynced), a power cut as the outage at 0 begins, and these cover operations."""
    return Scenario(name="clockless board", start=START, duration_us=2 * HOUR_US, seed=0,
                    overrides=(("nvm.part", "fm24c256"), ("rtc.min_voltage_v", 10.0),
                               ("supercap.charge_source_v", 0.47)),
                    outages=(Outage(0, outage_us),), cover=cover,
                    faults=(Fault("power-cut", 0),))


def two_in_the_dark_then_a_long_opening() -> Scenario:
    """Two openings in a 1.15 s outage, a 10 ms opening just after mains returns, 10 ms closed,
    then 600 s open. The meter files three records, the last closed at 601 s."""
    return clockless_board(1_154_257, (
        CoverOp(1_000_080, 1_040_081), CoverOp(1_080_082, 1_120_083),
        CoverOp(1_154_832, 1_164_833), CoverOp(1_174_834, 601_174_834)))


def test_an_unsynced_closing_written_while_the_cover_was_open_is_refused() -> None:
    # The forgery moves record 3's close half to 5 s, while the 600 s opening is under way. The
    # record has no time, so it may stand for the 10 ms opening that closed at 1.165 s; but then
    # the meter says it saw the cover closed there, and the 600 s opening after it, which it
    # cannot then have failed to see, has no record.
    sc = two_in_the_dark_then_a_long_opening()
    log = simulate(sc, trace=False).log
    assert judge(sc, log).passed
    close3 = cover_close_addr(3)
    writes = sorted((5_000_000 if addr == close3 else t, addr, data)
                    for t, addr, data in log.writes)
    j = judge(sc, dataclasses.replace(log, writes=writes))
    assert "I2" in failing(j), j.problems
    assert j.verdicts[3].status == "missed"
