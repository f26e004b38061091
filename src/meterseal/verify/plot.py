"""The picture of one run: mains, backup voltages, the MCU's power state, cover truth and records.

Owns the drawing only. Voltages between trace rows are recomputed with hardware.rc's closed form
(the one place the exponential lives), from the trace's load and the scenario's mains state, so
the curve is the kernel's own trajectory, not straight segments. Records are placed from the
oracle's judgment (decoded NVM), never from firmware objects. Must not know how a run is judged
or reported: it draws what the Outcome already holds, and never changes it.

Matplotlib is used through its object API with the Agg canvas, so plotting touches no global
backend and works headless and from worker threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import IO

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from meterseal.firmware.records import BOUNDED, DEFERRED, EXACT, UNSYNCED, CoverOpen
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario
from meterseal.sim.trace import Trajectory
from meterseal.verify.oracle import Judgment
from meterseal.verify.result import Outcome

__all__ = ["TimeAxis", "plot_run", "supercap_curve", "time_axis"]

# About one sample per pixel column of the voltage panel: finer is invisible, coarser shows
# corners on the exponential.
CURVE_POINTS = 2400
# Above this many trace rows the rows themselves are decimated (min and max per pixel column,
# so no dip or peak disappears) before the curve is drawn.
MAX_ROWS = 20_000

STATE_LEVELS = ("DORMANT", "HOLDUP", "POWER_FAIL", "RESTORE", "MAINS")

_C_MAINS = "#2e8b57"
_C_OUTAGE = "#c8c8c8"
_C_SUPERCAP = "#1f4e9c"
_C_BATTERY = "#b8860b"
_C_TRUTH = {"recorded": "#4a7fc1", "undetectable": "#9a9a9a", "missed": "#d62728"}
_QUALITY_STYLE = {  # quality -> (label, colour, marker)
    EXACT: ("exact", "#2ca02c", "o"),
    DEFERRED: ("deferred", "#ff7f0e", "D"),
    BOUNDED: ("bounded [not_before, not_after]", "#9467bd", "|"),
    UNSYNCED: ("unsynced (at commit)", "#d62728", "X"),
}


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """The unit the shared time axis is drawn in."""

    name: str  # "min", "h" or "d"
    us: int  # microseconds per unit

    def of(self, t_us: float | np.ndarray) -> float | np.ndarray:
        return t_us / self.us


def time_axis(duration_us: int) -> TimeAxis:
    """Minutes for runs up to 2 h, hours up to 2 days, days beyond."""
    if duration_us <= 2 * 3_600_000_000:
        return TimeAxis("min", 60_000_000)
    if duration_us <= 2 * 86_400_000_000:
        return TimeAxis("h", 3_600_000_000)
    return TimeAxis("d", 86_400_000_000)


def _minmax_rows(t_us: np.ndarray, values: np.ndarray, end_us: int, bins: int) -> np.ndarray:
    """Indices of the rows to keep: the first, last, lowest and highest row of each bin."""
    n = len(t_us)
    if n <= MAX_ROWS:
        return np.arange(n)
    # Rows are in time order, so each bin is a contiguous run: everything below is O(n).
    b = np.minimum((t_us * bins) // max(end_us, 1), bins - 1)
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    lengths = np.diff(np.r_[starts, n])
    keep = [starts, starts + lengths - 1]
    for reduce in (np.minimum, np.maximum):
        extreme = np.repeat(reduce.reduceat(values, starts), lengths)
        hits = np.flatnonzero(values == extreme)
        first = np.r_[True, b[hits][1:] != b[hits][:-1]]  # one per bin, even on a plateau
        keep.append(hits[first])
    return np.unique(np.concatenate(keep))


@dataclass(frozen=True, slots=True)
class _Rows:
    """The trace as columns (one pass over the rows; a run without fast-forward has millions)."""

    t_us: np.ndarray
    supercap_v: np.ndarray
    battery_v: np.ndarray
    load_a: np.ndarray
    state: np.ndarray  # index into STATE_LEVELS

    @classmethod
    def of(cls, trace: Sequence[tuple[int, float, float, float, str]]) -> _Rows:
        if not trace:
            empty = np.zeros(0)
            return cls(np.zeros(0, dtype=np.int64), empty, empty, empty,
                       np.zeros(0, dtype=np.int8))
        n = len(trace)

        def column(k: int, dtype: type) -> np.ndarray:
            # fromiter over itemgetter: ~30x faster than zip(*trace) on millions of rows.
            return np.fromiter(map(itemgetter(k), trace), dtype=dtype, count=n)

        codes = _StateCodes({name: k for k, name in enumerate(STATE_LEVELS)})
        state = np.fromiter(map(codes.__getitem__, map(itemgetter(4), trace)), dtype=np.int8,
                            count=n)
        return cls(column(0, np.int64), column(1, float), column(2, float), column(3, float),
                   state)


class _StateCodes(dict[str, int]):
    """State name -> level; a name the plot does not know is drawn as DORMANT."""

    def __missing__(self, key: str) -> int:
        return 0


def supercap_curve(out: Outcome, points: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(t_us, volts): the supercapacitor's internal voltage along the run.

    Between two trace rows every load is constant, so the voltage follows the closed form with
    that interval's load and charging state (mains present: charging through its resistor; the
    trace's load then includes the charger's current at the row, which is taken back out).
    Samples are the trace rows (decimated to min/max per pixel column when there are very many)
    plus a uniform grid of ``points``, each evaluated on the trajectory of the interval it falls
    in.
    """
    if not out.log.trace:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return _curve(Trajectory.of(out.scenario, out.log), _Rows.of(out.log.trace),
                  out.scenario.duration_us, points)


def _curve(trajectory: Trajectory, rows: _Rows, end_us: int,
           points: int) -> tuple[np.ndarray, np.ndarray]:
    t_rows, v_rows = rows.t_us, rows.supercap_v
    if len(t_rows) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    end_us = max(end_us, int(t_rows[-1]))
    keep = _minmax_rows(t_rows, v_rows, end_us, points)
    grid = np.linspace(0, end_us, points).astype(np.int64)
    # The row that governs each grid instant: the last row at or before it (several rows can
    # share an instant; the last one holds the state after all of them).
    idx = np.searchsorted(t_rows, grid, side="right") - 1
    ts: list[int] = t_rows[keep].tolist()
    vs: list[float] = v_rows[keep].tolist()
    for t, i in zip(grid.tolist(), idx.tolist(), strict=True):
        if i >= 0:
            ts.append(t)
            vs.append(trajectory.voltage_at(t, row=i))
    t_all = np.asarray(ts, dtype=np.int64)
    v_all = np.asarray(vs)
    order = np.argsort(t_all, kind="stable")
    return t_all[order], v_all[order]


def _at(t: np.ndarray, v: np.ndarray, t_us: int) -> float:
    return float(np.interp(t_us, t, v)) if len(t) else float("nan")


def _legend(ax: Axes, handles: Sequence[object] | None = None) -> None:
    kw = {"loc": "upper left", "bbox_to_anchor": (1.005, 1.0), "fontsize": 8,
          "frameon": False, "borderaxespad": 0.0}
    if handles is None:
        ax.legend(**kw)
    else:
        ax.legend(handles=handles, **kw)


def _invariant_summary(out: Outcome) -> str:
    inv = out.judgment.invariants
    failed = [k for k, v in inv.items() if v != "pass"]
    if not failed:
        return f"invariants {next(iter(inv))}–{list(inv)[-1]} all pass"
    return "FAIL " + ", ".join(failed) + f"  (pass: {', '.join(k for k in inv if k not in failed)})"


def plot_run(outcome: Outcome, where: str | Path | IO[bytes]) -> None:
    """Write a PNG of one run: four stacked panels on one time axis."""
    out = outcome
    sc = out.scenario
    ta = time_axis(sc.duration_us)

    fig = Figure(figsize=(13.0, 9.5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_m, ax_v, ax_s, ax_c = fig.subplots(
        4, 1, sharex=True, gridspec_kw={"height_ratios": [0.45, 3.0, 1.3, 1.5]}
    )
    _draw_mains(ax_m, sc, ta)
    rows = _Rows.of(out.log.trace)
    _draw_voltages(ax_v, out, rows, ta)
    _draw_power_state(ax_s, rows, sc.duration_us, ta)
    _draw_cover(ax_c, out, ta)
    _finish(fig, ax_c, out, ta, where)


def _draw_mains(ax: Axes, sc: Scenario, ta: TimeAxis) -> None:
    """Panel (a): mains present, and each outage hatched."""
    spans_on: list[tuple[float, float]] = []
    spans_off: list[tuple[float, float]] = []
    cursor = 0
    for o in sorted(sc.outages, key=lambda o: o.at_us):
        if o.at_us >= sc.duration_us:
            break
        if o.at_us > cursor:
            spans_on.append((ta.of(cursor), ta.of(o.at_us - cursor)))
        end = min(o.end_us, sc.duration_us)
        spans_off.append((ta.of(o.at_us), ta.of(end - o.at_us)))
        cursor = end
    if cursor < sc.duration_us:
        spans_on.append((ta.of(cursor), ta.of(sc.duration_us - cursor)))
    ax.broken_barh(spans_on, (0, 1), color=_C_MAINS, label="mains present")
    if spans_off:
        ax.broken_barh(spans_off, (0, 1), color=_C_OUTAGE, hatch="//", edgecolor="#888888",
                       linewidth=0, label="outage")
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("mains", rotation=0, ha="right", va="center")
    _legend(ax)


def _draw_voltages(ax: Axes, out: Outcome, rows: _Rows, ta: TimeAxis) -> None:
    """Panel (b): the backup voltages, the thresholds, and the instants each outage reached."""
    sc, log = out.scenario, out.log
    p = sc.profile
    t_c, v_c = supercap_curve(out)
    if len(t_c):
        ax.plot(ta.of(t_c), v_c, color=_C_SUPERCAP, lw=1.4, label="supercap (internal)")
        if bool(p["battery.present"]):
            keep = _minmax_rows(rows.t_us, rows.battery_v, sc.duration_us, CURVE_POINTS)
            ax.plot(ta.of(rows.t_us[keep]), rows.battery_v[keep], color=_C_BATTERY, lw=1.2,
                    label="battery (open circuit)")
    else:
        ax.text(0.5, 0.5, "no trace recorded for this run", transform=ax.transAxes,
                ha="center", va="center", color="#888888")
    levels = [(float(p["mcu.brownout_v"]), "MCU brown-out", "#d62728", "--"),
              (float(p["rtc.min_voltage_v"]), "RTC minimum", "#9467bd", ":")]
    if bool(p["battery.present"]):
        levels.append((float(p["battery.undervoltage_v"]), "battery undervoltage", _C_BATTERY,
                       "-."))
    for level, label, colour, style in levels:
        ax.axhline(level, color=colour, ls=style, lw=1.0, label=f"{label} {level:g} V")
    marks = (("watch_until_us", "watch ended", "#ff7f0e", "v"),
             ("brownout_us", "brown-out reached", "#d62728", "x"),
             ("rtc_stopped_us", "RTC stopped", "#9467bd", "s"))
    for attr, label, colour, marker in marks:
        first = True
        for o in log.outages:
            t_mark = getattr(o, attr)
            if t_mark is None:
                continue
            x = ta.of(t_mark)
            ax.axvline(x, color=colour, lw=0.8, ls=(0, (2, 2)), alpha=0.8)
            ax.plot([x], [_at(t_c, v_c, t_mark)], marker=marker, ms=8, color=colour,
                    mec=colour, ls="none", label=label if first else None)
            first = False
    ax.set_ylabel("volts")
    v_top = max([float(p["supercap.charge_source_v"]), float(p["battery.voltage_v"]),
                 *(v_c.tolist()[:1] if len(v_c) else [])])
    ax.set_ylim(0, v_top * 1.08 + 0.1)
    ax.grid(True, alpha=0.3)
    _legend(ax)


def _draw_power_state(ax: Axes, rows: _Rows, end_us: int, ta: TimeAxis) -> None:
    """Panel (c): the MCU's power state as a step line."""
    if len(rows.state):
        change = np.flatnonzero(np.r_[True, rows.state[1:] != rows.state[:-1]])
        st_t = np.r_[rows.t_us[change], end_us]
        st_y = np.r_[rows.state[change], rows.state[change][-1]].astype(int)
        xs = ta.of(st_t)
        ax.step(xs, st_y, where="post", color="#333333", lw=1.2)
        # States that last milliseconds would vanish on an hour axis: mark where they begin.
        brief = np.isin(st_y, [STATE_LEVELS.index("POWER_FAIL"), STATE_LEVELS.index("RESTORE")])
        ax.plot(xs[brief], st_y[brief], ls="none", marker="o", ms=3.5, color="#333333")
    ax.set_yticks(range(len(STATE_LEVELS)), STATE_LEVELS, fontsize=8)
    ax.set_ylim(-0.5, len(STATE_LEVELS) - 0.5)
    ax.set_ylabel("MCU")
    ax.grid(True, axis="x", alpha=0.3)


# Rows of panel (d).
_Y_TRUTH, _Y_REC, _Y_REP = 2.0, 1.0, 0.0


def _draw_cover(ax: Axes, out: Outcome, ta: TimeAxis) -> None:
    """Panel (d): cover truth, the records the oracle decoded, and the radio reports."""
    handles: list[Line2D] = []
    handles += _draw_truth(ax, out.scenario, out.judgment, ta)
    handles += _draw_records(ax, out.log, out.judgment, ta)
    handles += _draw_reports(ax, out.log, ta)
    ax.set_yticks([_Y_REP, _Y_REC, _Y_TRUTH], ["reports", "records", "cover\n(truth)"],
                  fontsize=8)
    ax.set_ylim(-0.6, 2.6)
    ax.grid(True, axis="x", alpha=0.3)
    if handles:
        _legend(ax, handles)


def _draw_truth(ax: Axes, sc: Scenario, j: Judgment, ta: TimeAxis) -> list[Line2D]:
    """Each true opening as a bar coloured by its verdict; the legend handles for them."""
    end_x = ta.of(sc.duration_us)
    status_of = {v.truth: v.status for v in j.verdicts}
    seen_status: set[str] = set()
    for i, op in enumerate(sc.cover):
        status = status_of.get(i, "recorded")
        close = sc.duration_us if op.close_us is None else op.close_us
        width = max(ta.of(close - op.open_us), end_x * 0.002)  # keep short openings visible
        ax.broken_barh([(ta.of(op.open_us), width)], (_Y_TRUTH - 0.3, 0.6),
                       color=_C_TRUTH.get(status, "#4a7fc1"))
        seen_status.add(status)
    return [Line2D([], [], color=_C_TRUTH[status], lw=8, label=f"cover open (truth): {status}")
            for status in ("recorded", "undetectable", "missed") if status in seen_status]


def _draw_records(ax: Axes, log: RunLog, j: Judgment, ta: TimeAxis) -> list[Line2D]:
    """Each record at the time it claims, styled by its quality; the legend handles for them."""

    def x_of(local_ms: int) -> float:  # a meter-local time on the time axis
        return float(ta.of((local_ms - log.start_local_ms) * 1000))

    seen_quality: set[int] = set()
    seen_written = False
    for seq in sorted(j.records):
        rec = j.records[seq]
        seen_quality.add(rec.quality)
        seen_written |= _draw_record(ax, seq, rec, j.commit_us, ta, x_of)
    handles: list[Line2D] = []
    for q in (EXACT, DEFERRED, BOUNDED, UNSYNCED):
        if q in seen_quality:
            label, colour, marker = _QUALITY_STYLE[q]
            if q == BOUNDED:
                handles.append(Line2D([], [], color=colour, lw=6, alpha=0.75,
                                      label=f"record: {label}"))
            else:
                handles.append(Line2D([], [], ls="none", marker=marker, color=colour, ms=8,
                                      label=f"record: {label}"))
    if seen_written:
        label, colour, marker = _QUALITY_STYLE[DEFERRED]
        handles.append(Line2D([], [], ls=(0, (1, 2)), marker=marker, mfc="white", color=colour,
                              ms=6, label="deferred: written to NVM"))
    return handles


def _draw_record(ax: Axes, seq: int, rec: CoverOpen, commit_us: dict[int, int], ta: TimeAxis,
                 x_of: Callable[[int], float]) -> bool:
    """One record; True when its deferred write is drawn too."""
    _label, colour, marker = _QUALITY_STYLE.get(rec.quality, _QUALITY_STYLE[EXACT])
    written_drawn = False
    if rec.quality == BOUNDED:
        nb, na = x_of(rec.not_before_ms), x_of(rec.not_after_ms)
        ax.plot([nb, na], [_Y_REC, _Y_REC], color=colour, lw=6, alpha=0.75,
                solid_capstyle="butt")
        ax.plot([nb, na], [_Y_REC, _Y_REC], ls="none", marker="|", ms=16, color=colour)
        start = na
    elif rec.quality == UNSYNCED:
        start = ta.of(commit_us.get(seq, 0))
        ax.plot([start], [_Y_REC], ls="none", marker=marker, ms=10, color=colour)
    else:
        start = x_of(rec.opened_ms)
        ax.plot([start], [_Y_REC], ls="none", marker=marker, ms=8, color=colour,
                mec="black", mew=0.5)
        if rec.quality == DEFERRED and seq in commit_us:
            # A deferred record's time was stamped at once but written later: show when.
            written = ta.of(commit_us[seq])
            ax.plot([start, written], [_Y_REC - 0.28, _Y_REC - 0.28], color=colour, lw=0.9,
                    ls=(0, (1, 2)))
            ax.plot([written], [_Y_REC - 0.28], ls="none", marker=marker, ms=6,
                    mfc="white", color=colour)
            written_drawn = True
    if rec.closed and rec.quality != UNSYNCED:
        # The span the record claims the cover was open, to set against the truth bar.
        ax.plot([start, x_of(rec.closed_ms)], [_Y_REC, _Y_REC], color=colour,
                lw=1.2, alpha=0.8)
    ax.annotate(f"#{seq}", (start, _Y_REC), textcoords="offset points", xytext=(4, 6),
                fontsize=7, color=colour)
    return written_drawn


def _draw_reports(ax: Axes, log: RunLog, ta: TimeAxis) -> list[Line2D]:
    """Each radio report as a triangle, coloured by the supply it went out on."""
    handles: list[Line2D] = []
    if log.reports:
        rx = [ta.of(t) for t, _k, _s, _on in log.reports]
        colours = ["#17becf" if on == "backup" else "#7f7f7f" for _t, _k, _s, on in log.reports]
        ax.scatter(rx, [_Y_REP] * len(rx), marker="^", s=45, c=colours, zorder=3)
        for on, colour in (("backup", "#17becf"), ("mains", "#7f7f7f")):
            if any(r[3] == on for r in log.reports):
                handles.append(Line2D([], [], ls="none", marker="^", color=colour, ms=7,
                                      label=f"radio report (on {on})"))
    return handles


def _finish(fig: Figure, ax_c: Axes, out: Outcome, ta: TimeAxis,
            where: str | Path | IO[bytes]) -> None:
    """The shared time axis, the title (red when an invariant failed), and the PNG."""
    sc, j = out.scenario, out.judgment
    ax_c.set_xlim(0, ta.of(sc.duration_us))
    ax_c.set_xlabel(f"time since scenario start ({ta.name})   —   start {sc.start.isoformat()}")
    failed = not j.passed
    fig.suptitle(f"{sc.name}\n{_invariant_summary(out)}   ·   {len(sc.cover)} opening(s), "
                 f"{len(j.records)} record(s), {j.undetectable} undetectable",
                 fontsize=12, color="#b00000" if failed else "black")
    fig.savefig(where if not isinstance(where, str | Path) else Path(where), format="png")
