"""One check per invariant of DESIGN.md: each reads the run's evidence and returns its problems.

Owns what counts as breaking I1–I6, and the words of each problem. An empty list is a kept
invariant. The checks share nothing but the evidence (evidence.py) and the tolerances
(tolerances.py); none reads the profile or the firmware's objects.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from meterseal.firmware.layout import RING
from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.records import (
    BOUNDED,
    DEFERRED,
    EXACT,
    MWH_PER_UNIT,
    QUALITY_NAMES,
    UNSYNCED,
    CoverOpen,
)
from meterseal.verify.oracle.evidence import Evidence, walk_history
from meterseal.verify.oracle.powerdowns import power_down_problems
from meterseal.verify.oracle.tolerances import REGISTER_SLACK_UNITS


def check_i1(ev: Evidence) -> list[str]:
    """I1 no false record: every record stands for a true opening (one of its own, before the
    record was written), and a closed record for a true closing. Whether its times are right
    is I3's question."""
    problems = [f"record {seq} ({QUALITY_NAMES[ev.records[seq].quality]}) matches no true "
                "opening" for seq in ev.unmatched]
    for seq in ev.rec_truth:
        if ev.records[seq].closed and not ev.closes_seen(seq):
            problems.append(f"record {seq} is closed but the cover was not")
    # A power-down record for a flicker or right after a power-up is a false record too.
    problems.extend(power_down_problems(ev))
    return problems


def check_i2(ev: Evidence) -> list[str]:
    """I2 nothing detectable is missed: every opening the hardware could surely observe has a
    record, and so has every closing of a recorded opening."""
    problems = [f"opening {v.truth} at {ev.truths[v.truth][0] / 1e6:.3f} s was observable "
                f"({v.cause}) but has no record" for v in ev.verdicts if v.status == "missed"]
    for seq, i in ev.rec_truth.items():
        if ev.records[seq].closed or seq in ev.pending_closes:
            continue
        last = ev.group_of[i][-1]
        c_last = ev.truths[last][1]
        if c_last is None:
            continue
        later = [k for k in range(last + 1, len(ev.truths)) if not ev.held[k]]
        nxt = ev.truths[later[0]][0] if later else ev.end_us
        sure, cause = ev.observable(c_last, nxt)
        if sure:
            problems.append(f"record {seq}: the closing at {c_last / 1e6:.3f} s was observable "
                            f"({cause}) but the record stays open")
    return problems


def check_i3(ev: Evidence) -> list[str]:
    """I3 time honesty: exact and deferred times within tolerance, bounded intervals holding the
    truth, and no quality claimed that was not earned (a valid clock; "exact" written at once)."""
    problems: list[str] = []
    tol = ev.tol
    for seq, i in ev.rec_truth.items():
        rec = ev.records[seq]
        o = ev.truths[i][0]
        learned = ev.commit_us[seq]
        # An exact or deferred time is read when the opening is seen, at or after it: the clock
        # must have been valid then (a clock that stops after the reading, before the write,
        # does not make the reading false). Bounds are read at the reconciliation, the write.
        if rec.quality in (EXACT, DEFERRED):
            clock_lost = ev.rtc_stopped_before(o)
        else:
            clock_lost = ev.rtc_invalid_at(learned)
        if rec.quality != UNSYNCED and clock_lost:
            problems.append(f"record {seq} claims {QUALITY_NAMES[rec.quality]} time while the "
                            "clock was invalid")
        if rec.quality == EXACT and learned - o > tol.exact_delay_us:
            problems.append(f"record {seq} claims exact but was written "
                            f"{(learned - o) / 1e6:.3f} s after the opening")
        problems.extend(_opening_time(ev, seq, rec, o))
        if rec.closed:
            problems.extend(_closing_time(ev, seq, rec))
    return problems


def _opening_time(ev: Evidence, seq: int, rec: CoverOpen, o: int) -> list[str]:
    tol = ev.tol
    slack = ev.stamp_us(o) + tol.clock_us(o)
    if rec.quality in (EXACT, DEFERRED):
        err = ev.true_us(rec.opened_ms) - o
        if abs(err) > slack:
            return [f"record {seq} ({QUALITY_NAMES[rec.quality]}) is {err / 1e6:+.3f} s off "
                    f"the opening at {o / 1e6:.3f} s (tolerance {slack / 1e6:.3f} s)"]
    elif rec.quality == BOUNDED:
        nb, na = ev.true_us(rec.not_before_ms), ev.true_us(rec.not_after_ms)
        if not nb - slack <= o <= na + slack:
            return [f"record {seq}'s bounds {nb / 1e6:.3f}..{na / 1e6:.3f} s do not hold the "
                    f"opening at {o / 1e6:.3f} s"]
    return []


def _closing_time(ev: Evidence, seq: int, rec: CoverOpen) -> list[str]:
    tol = ev.tol
    closes = ev.closes_seen(seq)
    if not closes:
        return []  # a closing that never happened is I1's
    cl_true = ev.true_us(rec.closed_ms)
    if rec.close_quality in (EXACT, DEFERRED):
        err = min(abs(cl_true - x) - tol.clock_us(x) - ev.late_us(x) for x in closes)
        if err > tol.stamp_us:
            return [f"record {seq} close time matches no true closing"]
    elif rec.close_quality == BOUNDED:
        if all(cl_true + tol.clock_us(x) + ev.stamp_us(x) < x for x in closes):
            return [f"record {seq} bounded close dated before the close"]
    return []


def check_i4(ev: Evidence) -> list[str]:
    """I4 counts: the totals never fall, and the cover-open total equals the records created,
    numbered without a gap."""
    problems: list[str] = []
    last_total = 0
    last_pd_total = 0
    # The history's totals where they changed (a total can only fall where it changes).
    for t, cover_total, pd_total in ev.totals:
        if cover_total < last_total:
            problems.append(f"count fell from {last_total} to {cover_total} at {t / 1e6:.6f} s")
        if pd_total < last_pd_total:
            problems.append(f"power-down count fell at {t / 1e6:.6f} s")
        last_total = cover_total
        last_pd_total = pd_total
    records = ev.records
    if records and ev.final.cover_total != max(records):
        problems.append(f"final count {ev.final.cover_total} != records created {max(records)}")
    if records and sorted(records) != list(range(1, max(records) + 1)):
        problems.append("record numbers have gaps")
    return problems


def check_i5(ev: Evidence) -> list[str]:
    """I5 durability: a committed record never changes or disappears, whatever the instant of a
    power cut. What the meter reports is a claim that a record is committed, so an active
    report is durable only if its record was committed before the burst began ("the record
    first, the report second"): a report of a record not yet in the NVM breaks I5 too."""
    problems: list[str] = []
    known: dict[int, CoverOpen] = {}
    pd_seen: dict[int, tuple[int, int, int, int, bool]] = {}
    last_cover: object = None
    last_pd: object = None
    for t, img in walk_history(ev.history(), known):
        if img.cover is last_cover and img.power_down is last_pd:
            continue  # the replay shares the lists a write left alone (a freeze, a state page)
        last_cover, last_pd = img.cover, img.power_down
        present = {r.seq: r for r in img.cover}
        for seq in range(max(1, img.cover_total - RING + 1), img.cover_total + 1):
            if seq in known and seq not in present:
                problems.append(f"record {seq} disappeared at {t / 1e6:.6f} s")
        for seq, r in present.items():
            old = known.get(seq)
            if old is not None:
                problems.extend(_record_changes(old, r, t))
        problems.extend(_power_down_changes(img, pd_seen))
    problems.extend(_reports_before_records(ev))
    return problems


def _record_changes(old: CoverOpen, new: CoverOpen, t: int) -> list[str]:
    problems = []
    if _open_half(old) != _open_half(new):
        problems.append(f"record {old.seq} changed at {t / 1e6:.6f} s")
    if old.closed and (not new.closed or _close_half(old) != _close_half(new)):
        problems.append(f"record {old.seq}'s closing changed at {t / 1e6:.6f} s")
    return problems


def _open_half(r: CoverOpen) -> tuple[int, ...]:
    return (r.quality, r.opened_ms, r.not_before_ms, r.not_after_ms, r.import_before,
            r.export_before)


def _close_half(r: CoverOpen) -> tuple[int, ...]:
    return (r.close_quality, r.closed_ms, r.import_after, r.export_after)


def _power_down_changes(
    img: MeterImage, seen: dict[int, tuple[int, int, int, int, bool]]
) -> list[str]:
    problems = []
    for pd in img.power_down:
        key = (pd.start_ms, pd.start_quality, pd.end_ms, pd.end_quality, pd.ended)
        old = seen.get(pd.seq)
        if old is not None and old[:2] != key[:2]:
            problems.append(f"power-down record {pd.seq} changed")
        if old is not None and old[4] and old != key:
            problems.append(f"power-down record {pd.seq}'s end changed")
        seen[pd.seq] = key
    return problems


def _reports_before_records(ev: Evidence) -> list[str]:
    problems = []
    for t_done, kind, seq, _on in ev.log.reports:
        if kind != ev.report_kind:
            continue
        # The log stamps a report when its burst ends.
        sent = t_done - ev.tol.radio_us
        committed = ev.commit_us.get(seq)
        if committed is None:
            problems.append(f"report of record {seq} at {sent / 1e6:.6f} s: the record was "
                            "never committed")
        elif committed > sent:
            problems.append(f"report of record {seq} at {sent / 1e6:.6f} s, before the record "
                            f"was committed at {committed / 1e6:.6f} s")
    return problems


def check_i6(ev: Evidence) -> list[str]:
    """I6 energy snapshots: the energies of a record equal the meter's registers between the
    true instant and the record's commit (the opening for "before", the closing for "after"),
    to a register step."""
    registers = _Registers(ev)
    problems = []
    for seq, i in ev.rec_truth.items():
        rec = ev.records[seq]
        o, c = ev.truths[i]
        snaps = [("before", rec.import_before, rec.export_before,
                  registers.range(o, max(o, ev.commit_us[seq])))]
        if rec.closed and c is not None:
            snaps.append(("after", rec.import_after, rec.export_after,
                          registers.range(c, max(c, ev.close_commit_us.get(seq, c)))))
        for when, imp, exp, (r_imp, r_exp) in snaps:
            for name, val, (a, b) in (("import", imp, r_imp), ("export", exp, r_exp)):
                if not a - REGISTER_SLACK_UNITS <= val <= b + REGISTER_SLACK_UNITS:
                    problems.append(f"record {seq} {name} {when} {val / 100:.2f} kWh outside "
                                    f"the registers' {a / 100:.2f}..{b / 100:.2f}")
    return problems


class _Registers:
    """The meter's energy registers (0.01 kWh) as the firmware held them at any instant: the
    true energy, less what a power cut made it lose since its last saved values."""

    def __init__(self, ev: Evidence) -> None:
        self.log = ev.log
        self.outages = ev.sc.outages
        self.offsets = ev.log.register_offsets
        self.offset_times = [x[0] for x in self.offsets]

    def at(self, t_us: int) -> tuple[int, int]:
        imp, exp = self.log.energy.mwh(t_us)
        k = bisect.bisect_right(self.offset_times, t_us) - 1
        if k >= 0:
            imp -= self.offsets[k][1]
            exp -= self.offsets[k][2]
        return imp // MWH_PER_UNIT, exp // MWH_PER_UNIT

    def range(self, a: int, b: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Register values seen over [a, b]: they only rise, except where a power cut made the
        firmware fall back to its last saved values."""
        points = [a, b] + [t - 1 for t, _, _ in self.offsets if a < t <= b]
        vals = [self.at(t) for t in points]
        return ((min(v[0] for v in vals), max(v[0] for v in vals)),
                (min(v[1] for v in vals), max(v[1] for v in vals)))


CHECKS: dict[str, Callable[[Evidence], list[str]]] = {
    "I1": check_i1,
    "I2": check_i2,
    "I3": check_i3,
    "I4": check_i4,
    "I5": check_i5,
    "I6": check_i6,
}
