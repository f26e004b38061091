"""The sizing plot: watch against capacitance, temperature, wake mode and bias, and the
energy budget of each variant (`meterseal size --plot`). Drawing only."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from meterseal.verify.sizing import Sizing, trial_at, verdict
from meterseal.verify.sizing_trial import CATEGORIES, CATEGORY_LABELS


def plot_sizing(s: Sizing, where: str | Path | IO[bytes]) -> None:
    """Four panels: watch vs capacitance per temperature; watch vs temperature around the
    answer; watch vs capacitance per wake mode and bias; the energy budget of each variant."""
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    req = s.requirement
    fig = Figure(figsize=(13, 10), constrained_layout=True)
    FigureCanvasAgg(fig)
    (ax_c, ax_t), (ax_v, ax_b) = fig.subplots(2, 2)
    fig.suptitle(textwrap.fill(f"meterseal size — {req.describe()}. {verdict(s)}.", 160),
                 fontsize=9)
    _panel_capacitance(ax_c, s)
    _panel_temperature(ax_t, s)
    _panel_variants(ax_v, s)
    _panel_budget(ax_b, s)
    fig.savefig(where if not isinstance(where, str | Path) else str(where), dpi=110,
                format="png")


def _log_axes(ax: Any, s: Sizing) -> None:
    """Log-log axes with the candidates as the capacitance ticks."""
    from matplotlib import ticker

    ax.set_xscale("log")
    ax.set_yscale("log")
    shown: list[float] = []
    for c in s.candidates:  # a label only where it does not run into the last one
        if not shown or c / shown[-1] >= 1.2:
            shown.append(c)
    ax.set_xticks(shown, [f"{c:g}" for c in shown], fontsize=7)
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def _req_line(ax: Any, s: Sizing) -> None:
    req = s.requirement
    ax.axhline(req.watch_h, color="#d62728", ls="--", lw=1.2,
               label=f"required {req.watch_h:g} h")


def _panel_capacitance(ax: Any, s: Sizing) -> None:
    """(a) watch vs capacitance, one curve per temperature."""
    req = s.requirement
    cmap = {temp: c for temp, c in zip(
        sorted(s.by_temperature or {req.temperature_c: s.trials}),
        ("#1f77b4", "#17becf", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"),
        strict=False)}
    series = s.by_temperature or {req.temperature_c: s.trials}
    for temp, trials in sorted(series.items()):
        ax.plot([t.capacitance_f for t in trials], [t.watch_h for t in trials], marker="o",
                ms=3.5, lw=1.4 if temp != req.temperature_c else 2.4,
                color=cmap.get(temp, "#333333"), label=f"{temp:g} °C")
    _req_line(ax, s)
    if s.chosen is not None:
        ax.plot([s.chosen.capacitance_f], [s.chosen.watch_h], marker="*", ms=16, color="gold",
                mec="black", ls="none", label=f"answer {s.chosen.capacitance_f:g} F")
    _log_axes(ax, s)
    ax.set_xlabel("nominal capacitance (F)")
    ax.set_ylabel("watch after mains loss (h)")
    ax.set_title("hold-up against capacitance and temperature", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _panel_temperature(ax: Any, s: Sizing) -> None:
    """(b) watch vs temperature around the answer."""
    req = s.requirement
    if s.by_temperature:
        temps = sorted(s.by_temperature)
        ref_i = s.trials.index(s.reference)
        for j in sorted({max(ref_i - 1, 0), ref_i, min(ref_i + 1, len(s.candidates) - 1)}):
            c = s.candidates[j]
            ax.plot(temps, [s.by_temperature[temp][j].watch_h for temp in temps],
                    marker="o", lw=2.4 if j == ref_i else 1.2, label=f"{c:g} F")
        _req_line(ax, s)
        ax.axvline(req.temperature_c, color="#777777", lw=0.8, ls=":")
    ax.set_xlabel("temperature (°C)")
    ax.set_ylabel("watch after mains loss (h)")
    ax.set_title("hold-up against temperature", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def _panel_variants(ax: Any, s: Sizing) -> None:
    """(c) watch vs capacitance per wake mode and switch bias."""
    req = s.requirement
    styles = {("interrupt", "static"): ("#1f77b4", "-"), ("interrupt", "pulsed"): ("#1f77b4", "--"),
              ("polling", "static"): ("#ff7f0e", "-"), ("polling", "pulsed"): ("#ff7f0e", "--")}
    for (wake, bias), trials in s.variants.items():
        colour, ls = styles[(wake, bias)]
        ax.plot([t.capacitance_f for t in trials], [t.watch_h for t in trials], marker="o",
                ms=3.5, color=colour, ls=ls, label=f"{wake} wake, {bias} bias")
    _req_line(ax, s)
    _log_axes(ax, s)
    ax.set_xlabel("nominal capacitance (F)")
    ax.set_ylabel("watch after mains loss (h)")
    ax.set_title(f"wake mode and switch bias at {req.temperature_c:g} °C", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _panel_budget(ax: Any, s: Sizing) -> None:
    """(d) energy budget per variant at the answer's capacitance."""
    ref_c = s.reference.capacitance_f
    rows = [(f"{w}/{b}", trial_at(tr, ref_c)) for (w, b), tr in s.variants.items()] or [
        ("requirement", s.reference)]
    colours = ("#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
               "#bcbd22", "#e377c2", "#d62728")
    for y, (_name, t) in enumerate(rows):
        left = 0.0
        for k, cat in enumerate(CATEGORIES):
            share = 100 * t.budget.share(cat)
            if share < 1e-3:  # nothing drawn (rounding is not a drain)
                continue
            ax.barh(y, share, left=left, color=colours[k],
                    label=CATEGORY_LABELS[cat] if y == 0 or cat not in _seen(ax) else None)
            if share >= 6:
                ax.text(left + share / 2, y, f"{share:.0f}%", ha="center", va="center",
                        fontsize=7, color="white")
            left += share
    ax.set_yticks(range(len(rows)), [f"{n}\n{t.watch_h:.0f} h" for n, t in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"share of the charge drawn during the watch (%), {ref_c:g} F")
    ax.set_title("energy budget", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.13), ncol=4)


def _seen(ax: Any) -> set[str]:
    return {str(lbl) for lbl in ax.get_legend_handles_labels()[1]}
