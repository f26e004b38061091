"""The oracle: knows the truth of a scenario and judges every record the meter made (I1–I6).

It reads records only by decoding NVM images (the snapshots the kernel took after each write or
tear, and the final one) and judges them against the scenario's truth and the board's physical
log (when the MCU was powered, when it booted, when its clock was invalid). It never looks at the
firmware's objects. What the hardware could not observe is reported as undetectable, with a
cause, never silently dropped.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from meterseal.firmware.image import decode_image
from meterseal.firmware.pending import OPEN as PENDING_OPEN
from meterseal.firmware.pending import decode_pending
from meterseal.firmware.records import BOUNDED, DEFERRED, EXACT, MWH_PER_UNIT, UNSYNCED, CoverOpen
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario

INVARIANTS = ("I1", "I2", "I3", "I4", "I5", "I6")


@dataclass(frozen=True, slots=True)
class Verdict:
    truth: int
    status: str  # recorded | undetectable | missed
    record: int | None
    time_error_s: float | None
    cause: str | None = None


@dataclass(slots=True)
class Judgment:
    verdicts: list[Verdict]
    invariants: dict[str, str]
    problems: dict[str, list[str]]
    undetectable: int
    records: dict[int, CoverOpen]  # every cover-open record ever committed, by seq (latest form)
    commit_us: dict[int, int]  # when each record's open half first appeared in the NVM
    close_commit_us: dict[int, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(v == "pass" for v in self.invariants.values())


class _Timing:
    """The profile's timing facts the tolerances are made of."""

    def __init__(self, sc: Scenario) -> None:
        p = sc.profile
        self.debounce_us = round(float(p["cover.debounce_s"]) * 1e6)
        self.bounce_us = round(float(p["cover.bounce_s"]) * 1e6)
        self.sample_us = round(float(p["cover.sample_period_s"]) * 1e6)
        self.wake_us = round(float(p["mcu.wake_time_s"]) * 1e6)
        self.polling = p["mcu.wake_mode"] == "polling"
        self.poll_us = round(float(p["mcu.poll_period_s"]) * 1e6)
        self.pulsed = p["cover.bias"] == "pulsed"
        self.bias_period_us = round(float(p["cover.bias_period_s"]) * 1e6)
        self.drift_signed = float(p["rtc.drift_ppm"]) * 1e-6
        self.drift = abs(self.drift_signed)
        self.latch = bool(p["cover.tamper_latch"])
        # Sampling latency: a change is first seen at most one sampling period late.
        latency = self.sample_us
        if self.polling:
            latency = max(latency, self.poll_us)
        elif self.pulsed:
            latency = max(latency, self.bias_period_us)
        self.latency_us = latency
        # What a detection needs on top of the debounce itself.
        self.margin_us = self.bounce_us + 2 * self.sample_us + self.wake_us
        self.stamp_tol_us = self.bounce_us + latency + self.wake_us + 2000
        # Room to write a record once seen, behind a full ring of pending writes.
        self.write_room_us = 13 * round(float(p["nvm.page_write_time_s"]) * 1e6)

    def clock_tol_us(self, t_us: int) -> int:
        """RTC error allowed at t (the clock was right at the start: drift since then)."""
        return int(self.drift * t_us) + 1000


def judge(sc: Scenario, log: RunLog) -> Judgment:
    tm = _Timing(sc)
    problems: dict[str, list[str]] = {k: [] for k in INVARIANTS}
    records, commit_us, close_commit_us = _history(log, problems)
    truths = [(op.open_us, op.close_us) for op in sc.cover]

    def to_true_us(local_ms: int) -> int:
        return (local_ms - log.start_local_ms) * 1000

    def rtc_invalid_at(t_us: int) -> bool:
        return any(a <= t_us <= b for a, b in log.rtc_invalid)

    # ---- match records to truths (I1), in the order the meter made them
    matched: dict[int, int] = {}  # truth index -> seq
    rec_truth: dict[int, int] = {}
    for seq in sorted(records):
        rec = records[seq]
        t_commit = commit_us[seq]
        cands = []
        for i, (o, c) in enumerate(truths):
            if i in matched or o > t_commit:
                continue
            if rec.quality in (EXACT, DEFERRED):
                err = to_true_us(rec.opened_ms) - o
                if abs(err) > tm.stamp_tol_us + tm.clock_tol_us(o):
                    continue
                # The clock drifts steadily from the start: rank by what is left after it.
                rank = abs(err - tm.drift_signed * o)
            elif rec.quality == BOUNDED:
                tol = tm.clock_tol_us(o) + tm.stamp_tol_us
                nb, na = to_true_us(rec.not_before_ms), to_true_us(rec.not_after_ms)
                if not nb - tol <= o <= na + tol:
                    continue
                # Prefer the opening that was still open when the meter learned of it.
                still_open = c is None or c >= na - tol
                rank = (0 if still_open else 1, -o)
            else:
                # The clock's value means nothing, but the meter dates nothing late: the
                # opening it saw is the latest one before the record was written.
                rank = t_commit - o
            cands.append((rank, o, i))  # type: ignore[arg-type]
        if not cands:
            problems["I1"].append(
                f"record {seq} ({_qname(rec.quality)}) matches no true opening"
            )
            continue
        cands.sort()
        i = cands[0][2]
        matched[i] = seq
        rec_truth[seq] = i

    # ---- openings the hardware cannot tell apart: a closing nobody could see merges two
    need = tm.debounce_us + tm.margin_us
    end = sc.duration_us
    group_of: dict[int, list[int]] = {}
    groups: list[list[int]] = []
    for i, (o, _c) in enumerate(truths):
        prev_close = truths[i - 1][1] if i else None
        if prev_close is not None and not _observable(prev_close, o, log, tm, end)[0]:
            groups[-1].append(i)
        else:
            groups.append([i])
        group_of[i] = groups[-1]

    # ---- verdicts (I2)
    retained = decode_pending(log.final_retained)
    waiting_entries = retained[0] if retained else []
    pending_opens = [e for e in waiting_entries if e.kind == PENDING_OPEN
                     and e.rtc_valid and e.seq not in records]
    # Closings seen and stamped that the run ended before writing.
    pending_closes = {e.seq for e in waiting_entries if e.kind != PENDING_OPEN}
    verdicts: list[Verdict] = []
    undetectable = 0
    for i, (o, c) in enumerate(truths):
        seq = matched.get(i)
        if seq is not None:
            rec = records[seq]
            err = None
            if rec.quality in (EXACT, DEFERRED):
                err = round((to_true_us(rec.opened_ms) - o) / 1e6, 6)
            verdicts.append(Verdict(i, "recorded", seq, err))
            continue
        partner = next((k for k in group_of[i] if k in matched), None)
        if partner is not None:
            undetectable += 1
            verdicts.append(Verdict(i, "undetectable", None, None,
                                    f"not separable from opening {partner}: the closing between "
                                    "them was not observable"))
            continue
        waiting = next((e for e in pending_opens
                        if abs(to_true_us(e.time_ms) - o - tm.drift_signed * o)
                        <= tm.stamp_tol_us + 1000), None)
        if waiting is not None:
            # Seen and stamped; the run ended before the next restore could write it.
            pending_opens.remove(waiting)
            verdicts.append(Verdict(i, "recorded", waiting.seq,
                                    round((to_true_us(waiting.time_ms) - o) / 1e6, 6),
                                    "pending in retained RAM: written at the next restore"))
            continue
        sure, cause = _observable(o, c, log, tm, end)
        if sure:
            verdicts.append(Verdict(i, "missed", None, None, cause))
            problems["I2"].append(f"opening {i} at {o / 1e6:.3f} s was observable ({cause}) "
                                  "but has no record")
        else:
            undetectable += 1
            verdicts.append(Verdict(i, "undetectable", None, None, cause))

    # ---- time honesty and closings (I3)
    for seq, i in rec_truth.items():
        rec = records[seq]
        o, c = truths[i]
        group = [k for k in group_of[i] if k >= i]
        learned = commit_us[seq]
        if rec.quality != UNSYNCED and rtc_invalid_at(learned):
            problems["I3"].append(f"record {seq} claims {_qname(rec.quality)} time while the "
                                  "clock was invalid")
        if rec.quality == EXACT:
            prompt = need + tm.latency_us + 2_000_000
            if learned - o > prompt:
                problems["I3"].append(f"record {seq} claims exact but was written "
                                      f"{(learned - o) / 1e6:.3f} s after the opening")
        if rec.closed:
            cl_true = to_true_us(rec.closed_ms)
            closes = [truths[k][1] for k in group if truths[k][1] is not None]
            committed = close_commit_us.get(seq, end)
            closes = [x for x in closes if x <= committed]
            if not closes:
                problems["I1"].append(f"record {seq} is closed but the cover was not")
            elif rec.close_quality in (EXACT, DEFERRED):
                err = min(abs(cl_true - x) - tm.clock_tol_us(x) for x in closes)
                if err > tm.stamp_tol_us:
                    problems["I3"].append(f"record {seq} close time matches no true closing")
            elif rec.close_quality == BOUNDED:
                if all(cl_true + tm.clock_tol_us(x) + tm.stamp_tol_us < x for x in closes):
                    problems["I3"].append(f"record {seq} bounded close dated before the close")
        else:
            last = group[-1]
            c_last = truths[last][1]
            if c_last is not None and seq not in pending_closes:
                nxt = truths[last + 1][0] if last + 1 < len(truths) else end
                sure, cause = _observable(c_last, nxt, log, tm, end)
                if sure:
                    problems["I2"].append(f"record {seq}: the closing at {c_last / 1e6:.3f} s "
                                          f"was observable ({cause}) but the record stays open")

    # ---- counts (I4) and durability (I5) were checked over the history; final totals:
    final = decode_image(log.final_image)
    if records and final.cover_total != max(records):
        problems["I4"].append(f"final count {final.cover_total} != records created "
                              f"{max(records)}")
    if records and sorted(records) != list(range(1, max(records) + 1)):
        problems["I4"].append("record numbers have gaps")

    # ---- energy snapshots (I6)
    offsets = log.register_offsets
    offset_times = [x[0] for x in offsets]

    def registers(t_us: int) -> tuple[int, int]:
        imp, exp = log.energy.mwh(t_us)
        k = bisect.bisect_right(offset_times, t_us) - 1
        if k >= 0:
            imp -= offsets[k][1]
            exp -= offsets[k][2]
        return imp // MWH_PER_UNIT, exp // MWH_PER_UNIT

    def register_range(a: int, b: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Register values seen over [a, b]: they only rise, except where a power cut made the
        firmware fall back to its last saved values."""
        points = [a, b] + [t - 1 for t, _, _ in offsets if a < t <= b]
        vals = [registers(t) for t in points]
        return ((min(v[0] for v in vals), max(v[0] for v in vals)),
                (min(v[1] for v in vals), max(v[1] for v in vals)))

    for seq, i in rec_truth.items():
        rec = records[seq]
        o, c = truths[i]
        checks = [("before", rec.import_before, rec.export_before,
                   register_range(o, max(o, commit_us[seq])))]
        if rec.closed and c is not None:
            checks.append(("after", rec.import_after, rec.export_after,
                           register_range(c, max(c, close_commit_us.get(seq, c)))))
        for when, imp, exp, (r_imp, r_exp) in checks:
            for name, val, (a, b) in (("import", imp, r_imp), ("export", exp, r_exp)):
                if not a - 1 <= val <= b + 1:
                    problems["I6"].append(f"record {seq} {name} {when} {val / 100:.2f} kWh "
                                          f"outside the registers' {a / 100:.2f}..{b / 100:.2f}")

    invariants = {k: ("pass" if not problems[k] else "fail") for k in INVARIANTS}
    return Judgment(verdicts, invariants, problems, undetectable, records, commit_us,
                    close_commit_us)


def _qname(q: int) -> str:
    return ("exact", "deferred", "bounded", "unsynced")[q]


def _history(
    log: RunLog, problems: dict[str, list[str]]
) -> tuple[dict[int, CoverOpen], dict[int, int], dict[int, int]]:
    """Every record ever committed, from the NVM snapshots; checks I4 and I5 along the way."""
    records: dict[int, CoverOpen] = {}
    commit_us: dict[int, int] = {}
    close_commit_us: dict[int, int] = {}
    pd_seen: dict[int, tuple[int, int, int, int, bool]] = {}
    last_total = 0
    last_pd_total = 0
    for t, image in log.snapshots:
        img = decode_image(image)
        if img.cover_total < last_total:
            problems["I4"].append(f"count fell from {last_total} to {img.cover_total} at "
                                  f"{t / 1e6:.6f} s")
        if img.power_down_total < last_pd_total:
            problems["I4"].append(f"power-down count fell at {t / 1e6:.6f} s")
        present = {r.seq: r for r in img.cover}
        for seq in range(max(1, img.cover_total - 9), img.cover_total + 1):
            if seq in records and seq not in present:
                problems["I5"].append(f"record {seq} disappeared at {t / 1e6:.6f} s")
        for seq, r in present.items():
            old = records.get(seq)
            if old is None:
                records[seq] = r
                commit_us[seq] = t
                if r.closed:
                    close_commit_us[seq] = t
                continue
            same_open = (old.quality, old.opened_ms, old.not_before_ms, old.not_after_ms,
                         old.import_before, old.export_before) == (
                r.quality, r.opened_ms, r.not_before_ms, r.not_after_ms, r.import_before,
                r.export_before)
            if not same_open:
                problems["I5"].append(f"record {seq} changed at {t / 1e6:.6f} s")
            if old.closed:
                if not r.closed or (old.close_quality, old.closed_ms, old.import_after,
                                    old.export_after) != (r.close_quality, r.closed_ms,
                                                          r.import_after, r.export_after):
                    problems["I5"].append(f"record {seq}'s closing changed at {t / 1e6:.6f} s")
            elif r.closed:
                records[seq] = r
                close_commit_us[seq] = t
        for pd in img.power_down:
            key = (pd.start_ms, pd.start_quality, pd.end_ms, pd.end_quality, pd.ended)
            old_pd = pd_seen.get(pd.seq)
            if old_pd is not None and old_pd[:2] != key[:2]:
                problems["I5"].append(f"power-down record {pd.seq} changed")
            if old_pd is not None and old_pd[4] and old_pd != key:
                problems["I5"].append(f"power-down record {pd.seq}'s end changed")
            pd_seen[pd.seq] = key
        last_total = img.cover_total
        last_pd_total = img.power_down_total
    return records, commit_us, close_commit_us


def _alive_overlaps(a: int, b: int, log: RunLog) -> list[tuple[int, int, int]]:
    """Parts of [a, b] with the MCU powered: (from, to, when that powered spell ended)."""
    out = []
    for s, e in log.alive:
        lo, hi = max(a, s), min(b, e)
        if hi > lo:
            out.append((lo, hi, e))
    return out


def _segments(lo: int, hi: int, log: RunLog) -> list[tuple[int, int, bool]]:
    """[lo, hi] cut at outage boundaries: (start, end, mains present)."""
    cuts = sorted({lo, hi, *(t for o in log.outages for t in (o.from_us, o.to_us)
                             if lo < t < hi)})
    return [(a, b, not any(o.from_us <= a < o.to_us for o in log.outages))
            for a, b in itertools.pairwise(cuts)]


def _poll_tick_inside(lo: int, hi: int, log: RunLog, period_us: int) -> bool:
    """Did a polling tick fire in [lo, hi]? From the periodic timers the board actually ran."""
    for t0, period, stop in log.periodic:
        if period != period_us:
            continue
        a, b = max(lo, t0), min(hi, stop)
        if a > b:
            continue
        first = t0 + -(-(a - t0) // period) * period
        if first <= b:
            return True
    return False


def _observable(a: int, b: int | None, log: RunLog, tm: _Timing, end: int) -> tuple[bool, str]:
    """Is the switch's state between a and b (an opening, or a closed gap) surely observable,
    and why (or why not)? At the edge of what sampling can catch the answer is 'not surely':
    either outcome is accepted there."""
    need = tm.debounce_us + tm.margin_us
    close = end if b is None else b
    overlaps = _alive_overlaps(a, close, log)
    for lo, hi, alive_end in overlaps:
        # The MCU must also live on long enough to write what it saw (its queue may hold a
        # ring's worth of pending writes first).
        hi_seen = min(hi, alive_end - tm.write_room_us)
        # On mains the switch is sampled every few ms; on backup as the wake mode has it. A
        # debounce begun on backup goes on across a restore, so backup parts reach to hi.
        for seg_lo, seg_hi, on_mains in _segments(lo, hi, log):
            if on_mains:
                if min(seg_hi, hi_seen) - seg_lo >= need + tm.sample_us:
                    return True, "seen while watching"
            elif tm.polling:
                if _poll_tick_inside(seg_lo + tm.bounce_us, min(seg_hi, hi_seen - need), log,
                                     tm.poll_us):
                    return True, "polled while watching"
            elif tm.pulsed:
                if hi_seen - seg_lo >= need + tm.bias_period_us:
                    return True, "sampled while watching"
            elif hi_seen - seg_lo >= need:
                return True, "seen while watching"
    # Still in that state at a power-up, which reconciles (if the MCU lives to write it).
    for tb in log.boots:
        alive_end = next((e for s, e in log.alive if s == tb), tb)
        done = tb + need + tm.sample_us
        if a <= tb and close >= done and alive_end >= done + tm.write_room_us:
            return True, "still so at power-up"
    if not overlaps:
        return False, "came and went while the MCU was off"
    longest = max(hi - lo for lo, hi, _e in overlaps)
    if longest < tm.debounce_us:
        return False, "shorter than the debounce while watched"
    if tm.polling:
        return False, "no poll landed inside it"
    return False, "at the limit of what sampling can catch"
