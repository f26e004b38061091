"""One scenario run end to end (kernel, then oracle) and its result in the contract's JSON shape.

Owns the run-result contract of DESIGN.md: every time ISO-8601 with offset, records decoded from
the final NVM image only, the oracle's verdicts and invariants, reports and per-outage backup
facts. It adds nothing to the judgment; it only presents it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from meterseal.firmware.image import decode_image
from meterseal.firmware.records import BOUNDED, QUALITY_NAMES, CoverOpen
from meterseal.firmware.report import REPORT_NAMES
from meterseal.hardware.rtc import datetime_from_local_ms
from meterseal.sim.kernel import Kernel
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import CoverOp, Scenario
from meterseal.verify.oracle import Judgment, Verdict, judge


@dataclass(frozen=True, slots=True)
class Outcome:
    scenario: Scenario
    log: RunLog
    judgment: Judgment


def simulate(sc: Scenario, *, trace: bool = True, fast_forward: bool = True) -> Outcome:
    log = Kernel(sc, trace=trace, fast_forward=fast_forward).run()
    return Outcome(sc, log, judge(sc, log))


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds")


def sim_time(sc: Scenario, t_us: int | None) -> str | None:
    if t_us is None:
        return None
    return _iso(sc.start + timedelta(microseconds=t_us))


def meter_time(sc: Scenario, local_ms: int) -> str:
    return _iso(datetime_from_local_ms(local_ms, float(sc.profile["meter.utc_offset_h"])))


def _kwh(imp: int, exp: int) -> dict[str, float]:
    return {"import_active": imp / 100.0, "export_active": exp / 100.0}


def _cover_records(sc: Scenario, records: list[CoverOpen]) -> list[dict[str, Any]]:
    """Cover-open (or terminal-cover-open) records, oldest first."""
    covers = []
    for r in sorted(records, key=lambda r: r.seq):
        bounded = r.quality == BOUNDED
        covers.append({
            "seq": r.seq,
            "opened_at": meter_time(sc, r.opened_ms),
            "closed_at": meter_time(sc, r.closed_ms) if r.closed else None,
            "time_quality": QUALITY_NAMES[r.quality],
            "closed_quality": QUALITY_NAMES[r.close_quality] if r.closed else None,
            "not_before": meter_time(sc, r.not_before_ms) if bounded else None,
            "not_after": meter_time(sc, r.not_after_ms) if bounded else None,
            "energy_before_kwh": _kwh(r.import_before, r.export_before),
            "energy_after_kwh": _kwh(r.import_after, r.export_after) if r.closed else None,
        })
    return covers


def _truth_ops(sc: Scenario, ops: tuple[CoverOp, ...]) -> list[dict[str, Any]]:
    return [{"opened_at": sim_time(sc, c.open_us), "closed_at": sim_time(sc, c.close_us),
             **({"held": True} if c.held else {})} for c in ops]


def _verdicts(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    return [{"truth": v.truth, "status": v.status, "record": v.record,
             "time_error_s": v.time_error_s, **({"cause": v.cause} if v.cause else {})}
            for v in verdicts]


def result_dict(out: Outcome) -> dict[str, Any]:
    sc, log, j = out.scenario, out.log, out.judgment
    img = decode_image(log.final_image)
    power_down = [
        {"from": meter_time(sc, pd.start_ms),
         "to": meter_time(sc, pd.end_ms) if pd.ended else None,
         "time_quality": QUALITY_NAMES[pd.start_quality]}
        for pd in sorted(img.power_down, key=lambda pd: pd.seq)
    ]
    return {
        "scenario": sc.name,
        "profile": sc.profile.flat(),
        "truth": {
            "cover": _truth_ops(sc, sc.cover),
            "terminal_cover": _truth_ops(sc, sc.terminal_cover),
            "glitches": [{"from": sim_time(sc, a), "to": sim_time(sc, b)}
                         for f in sc.faults for a, b in f.glitches()],
            "outages": [{"from": sim_time(sc, o.at_us), "to": sim_time(sc, o.end_us)}
                        for o in sc.outages],
        },
        "records": {
            "cover_open_total": img.cover_total,
            "cover_open": _cover_records(sc, img.cover),
            "terminal_cover_open_total": img.terminal_cover_total,
            "terminal_cover_open": _cover_records(sc, img.terminal_cover),
            "power_down_total": img.power_down_total,
            "power_down": power_down,
            "daily_freeze_total": img.freeze_total,
            "daily_freeze": [
                {"seq": f.seq, "at": meter_time(sc, f.time_ms),
                 "time_quality": QUALITY_NAMES[f.quality],
                 "energy_kwh": _kwh(f.import_units, f.export_units)}
                for f in sorted(img.freezes, key=lambda f: f.seq)
            ],
        },
        "verdicts": _verdicts(j.verdicts),
        # The same per operation of the terminal cover ("truth" indexes truth.terminal_cover).
        "terminal_verdicts": _verdicts(j.terminal_verdicts),
        "invariants": dict(j.invariants),
        "problems": {k: v for k, v in j.problems.items() if v},
        "undetectable": j.undetectable,
        "terminal_undetectable": j.terminal_undetectable,
        "reports": [
            {"at": sim_time(sc, t), "kind": REPORT_NAMES.get(kind, str(kind)), "record": seq,
             "on": on}
            for t, kind, seq, on in log.reports
        ],
        "backup": [
            {"outage": o.index,
             "supercap_v_at_outage": round(o.supercap_v, 4),
             "battery_v_at_outage": round(o.battery_v, 4),
             "watch_until": sim_time(sc, o.watch_until_us),
             "brownout_at": sim_time(sc, o.brownout_us),
             "rtc_stopped_at": sim_time(sc, o.rtc_stopped_us)}
            for o in log.outages
        ],
    }
