"""The sizing plot: watch against capacitance, temperature, wake mode and bias, and the
energy budget of each variant (`meterseal size --plot`). Drawing only."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from meterseal.verify.sizing import CATEGORIES, CATEGORY_LABELS, Sizing, trial_at, verdict


def plot_sizing(s: Sizing, where: str | Path | IO[bytes]) -> None:
    """Four panels: watch vs capacitance per temperature; watch vs temperature around the
    answer; watch vs capacitance per wake mode and bias; the energy budget of each variant."""
    import textwrap

    from matplotlib import ticker
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    req = s.requirement
    fig = Figure(figsize=(13, 10), constrained_layout=True)
    FigureCanvasAgg(fig)
    (ax_c, ax_t), (ax_v, ax_b) = fig.subplots(2, 2)
    fig.suptitle(textwrap.fill(f"meterseal size — {req.describe()}. {verdict(s)}.", 160),
                 fontsize=9)

    def log_axes(ax: Any) -> None:
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

    def req_line(ax: Any) -> None:
        ax.axhline(req.watch_h, color="#d62728", ls="--", lw=1.2,
                   label=f"required {req.watch_h:g} h")

    # (a) watch vs capacitance, one curve per temperature
    cmap = {temp: c for temp, c in zip(
        sorted(s.by_temperature or {req.temperature_c: s.trials}),
        ("#1f77b4", "#17becf", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"),
        strict=False)}
    series = s.by_temperature or {req.temperature_c: s.trials}
    for temp, trials in sorted(series.items()):
        ax_c.plot([t.capacitance_f for t in trials], [t.watch_h for t in trials], marker="o",
                  ms=3.5, lw=1.4 if temp != req.temperature_c else 2.4,
                  color=cmap.get(temp, "#333333"), label=f"{temp:g} °C")
    req_line(ax_c)
    if s.chosen is not None:
        ax_c.plot([s.chosen.capacitance_f], [s.chosen.watch_h], marker="*", ms=16, color="gold",
                  mec="black", ls="none", label=f"answer {s.chosen.capacitance_f:g} F")
    log_axes(ax_c)
    ax_c.set_xlabel("nominal capacitance (F)")
    ax_c.set_ylabel("watch after mains loss (h)")
    ax_c.set_title("hold-up against capacitance and temperature", fontsize=10)
    ax_c.grid(True, which="both", alpha=0.3)
    ax_c.legend(fontsize=7)

    # (b) watch vs temperature around the answer
    if s.by_temperature:
        temps = sorted(s.by_temperature)
        ref_i = s.trials.index(s.reference)
        for j in sorted({max(ref_i - 1, 0), ref_i, min(ref_i + 1, len(s.candidates) - 1)}):
            c = s.candidates[j]
            ax_t.plot(temps, [s.by_temperature[temp][j].watch_h for temp in temps],
                      marker="o", lw=2.4 if j == ref_i else 1.2, label=f"{c:g} F")
        req_line(ax_t)
        ax_t.axvline(req.temperature_c, color="#777777", lw=0.8, ls=":")
    ax_t.set_xlabel("temperature (°C)")
    ax_t.set_ylabel("watch after mains loss (h)")
    ax_t.set_title("hold-up against temperature", fontsize=10)
    ax_t.grid(True, alpha=0.3)
    ax_t.legend(fontsize=7)

    # (c) wake mode and bias
    styles = {("interrupt", "static"): ("#1f77b4", "-"), ("interrupt", "pulsed"): ("#1f77b4", "--"),
              ("polling", "static"): ("#ff7f0e", "-"), ("polling", "pulsed"): ("#ff7f0e", "--")}
    for (wake, bias), trials in s.variants.items():
        colour, ls = styles[(wake, bias)]
        ax_v.plot([t.capacitance_f for t in trials], [t.watch_h for t in trials], marker="o",
                  ms=3.5, color=colour, ls=ls, label=f"{wake} wake, {bias} bias")
    req_line(ax_v)
    log_axes(ax_v)
    ax_v.set_xlabel("nominal capacitance (F)")
    ax_v.set_ylabel("watch after mains loss (h)")
    ax_v.set_title(f"wake mode and switch bias at {req.temperature_c:g} °C", fontsize=10)
    ax_v.grid(True, which="both", alpha=0.3)
    ax_v.legend(fontsize=7)

    # (d) energy budget per variant at the answer's capacitance
    ref_c = s.reference.capacitance_f
    rows = [(f"{w}/{b}", trial_at(tr, ref_c)) for (w, b), tr in s.variants.items()] or [
        ("requirement", s.reference)]
    colours = ("#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
               "#d62728")
    for y, (_name, t) in enumerate(rows):
        left = 0.0
        for k, cat in enumerate(CATEGORIES):
            share = 100 * t.budget.share(cat)
            if share < 1e-3:  # nothing drawn (rounding is not a drain)
                continue
            ax_b.barh(y, share, left=left, color=colours[k],
                      label=CATEGORY_LABELS[cat] if y == 0 or cat not in _seen(ax_b) else None)
            if share >= 6:
                ax_b.text(left + share / 2, y, f"{share:.0f}%", ha="center", va="center",
                          fontsize=7, color="white")
            left += share
    ax_b.set_yticks(range(len(rows)), [f"{n}\n{t.watch_h:.0f} h" for n, t in rows], fontsize=8)
    ax_b.invert_yaxis()
    ax_b.set_xlim(0, 100)
    ax_b.set_xlabel(f"share of the charge drawn during the watch (%), {ref_c:g} F")
    ax_b.set_title("energy budget", fontsize=10)
    handles, labels = ax_b.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax_b.legend(uniq.values(), uniq.keys(), fontsize=7, loc="upper center",
                bbox_to_anchor=(0.5, -0.13), ncol=4)
    fig.savefig(where if not isinstance(where, str | Path) else str(where), dpi=110,
                format="png")


def _seen(ax: Any) -> set[str]:
    return {str(lbl) for lbl in ax.get_legend_handles_labels()[1]}
