"""Charts as hand-written inline SVG, drawn on the server: no script, no CDN, nothing fetched by
the browser (the machines that run the dashboard may have no internet).

Owns: a meter's timeline (outages, its own supply cuts, cover openings — a point when the time
is exact or deferred, an interval when bounded, a hollow mark at a time nobody can trust when
unsynced or unknown — work orders, event clears, clock changes) and its daily consumption beside
its peers' median; a feeder's outages meter by meter.

Must not know: the store or the analytics' SQL (it draws the objects explain.py returns).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from html import escape

from meterseal.headend.analytics.explain import Event, Timeline

W, LEFT, RIGHT = 960, 110, 36
LANES = ("outage", "opening", "terminal opening", "work order", "event clear", "clock change")
COLOURS = {"outage": "#9aa5b1", "local cut": "#d64545", "work order": "#3f9142",
           "event clear": "#8e44ad", "clock change": "#2b6cb0",
           "exact": "#c0392b", "deferred": "#e67e22", "bounded": "#f0a030",
           "unknown": "#7f8c8d", "unsynced": "#7f8c8d"}


class Scale:
    """Instants to x pixels over [start, end]."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, max(end, start + timedelta(days=1))

    def x(self, t: datetime) -> float:
        span = (self.end - self.start).total_seconds()
        frac = (t - self.start).total_seconds() / span
        return LEFT + max(0.0, min(1.0, frac)) * (W - LEFT - RIGHT)

    def ticks(self, tz: timezone, height: float) -> list[str]:
        days = max(1, (self.end - self.start).days)
        step = 7 if days > 21 else 1
        out, d = [], self.start.astimezone(tz).date()
        while datetime.combine(d, time(), tz) <= self.end:
            t = datetime.combine(d, time(), tz)
            if t >= self.start and (d.toordinal() % step == 0):
                x = self.x(t)
                out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 14}"'
                           ' class="grid"/>'
                           f'<text x="{x:.1f}" y="{height - 2}" class="tick">{d:%m-%d}</text>')
            d += timedelta(days=1)
        return out


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def _event(e: Event, s: Scale, y: float) -> str:
    x0 = s.x(e.start)
    tip = _title(e.text)
    if e.kind in ("outage", "local cut", "work order") or (e.end and e.quality == "bounded"):
        x1 = max(s.x(e.end or e.start), x0 + 4)
        colour = COLOURS[e.quality or e.kind]
        cls = "bounded" if e.quality == "bounded" else e.kind.replace(" ", "-")
        return (f'<rect class="ev {cls}" x="{x0:.1f}" y="{y - 7}" width="{x1 - x0:.1f}"'
                f' height="14" fill="{colour}" fill-opacity="0.75">{tip}</rect>')
    if e.kind in ("opening", "terminal opening"):
        q = e.quality or "unknown"
        cls = e.kind.replace(" ", "-")
        if q in ("unsynced", "unknown"):
            return (f'<circle class="ev {cls} {q}" cx="{x0:.1f}" cy="{y}" r="6" fill="none"'
                    f' stroke="{COLOURS[q]}" stroke-width="2" stroke-dasharray="2,2">{tip}'
                    "</circle>")
        return (f'<circle class="ev {cls} {q}" cx="{x0:.1f}" cy="{y}" r="6"'
                f' fill="{COLOURS[q]}">{tip}</circle>')
    colour = COLOURS[e.kind]
    return (f'<path class="ev {e.kind.replace(" ", "-")}" d="M{x0:.1f},{y - 7} l6,12 h-12 z"'
            f' fill="{colour}">{tip}</path>')


def timeline_svg(t: Timeline, start: datetime, end: datetime) -> str:
    tz = timezone(timedelta(hours=t.offset_h))
    s = Scale(start, end)
    h = 30 * len(LANES) + 24
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}"'
             f' viewBox="0 0 {W} {h}" role="img" aria-label="timeline of {t.suspect.address}">',
             *s.ticks(tz, h)]
    lane_of = {"local cut": "outage"}
    for i, lane in enumerate(LANES):
        parts.append(f'<text x="4" y="{30 * i + 19}" class="lane">{lane}s</text>')
    for e in t.events:
        i = LANES.index(lane_of.get(e.kind, e.kind))
        parts.append(_event(e, s, 30 * i + 15))
    parts.append("</svg>")
    return "".join(parts)


def _polyline(points: Sequence[tuple[date, float]], s: Scale, tz: timezone, top: float,
              y_of: float, cls: str) -> str:
    pts = " ".join(f"{s.x(datetime.combine(d, time(12), tz)):.1f},{y_of - k * top:.1f}"
                   for d, k in points)
    return f'<polyline class="{cls}" points="{pts}" fill="none"/>'


def usage_svg(t: Timeline, start: datetime, end: datetime) -> str:
    tz = timezone(timedelta(hours=t.offset_h))
    s = Scale(start, end)
    h, plot = 200, 170
    peak = max([k for _d, k in t.usage] + [k for _d, k in t.peer_usage] + [1.0])
    k_to_px = (plot - 10) / peak
    parts = [f'<svg id="usage" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}"'
             f' viewBox="0 0 {W} {h}" role="img" aria-label="daily consumption">',
             *s.ticks(tz, h),
             f'<text x="4" y="14" class="lane">kWh/day (max {peak:.1f})</text>',
             _polyline(t.peer_usage, s, tz, k_to_px, plot, "peers"),
             _polyline(t.usage, s, tz, k_to_px, plot, "mine")]
    for e in t.events:
        if e.kind == "opening":
            x = s.x(e.start)
            parts.append(f'<line class="mark" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{plot}">'
                         f"{_title(e.text)}</line>")
    parts.append(f'<text x="{W - 300}" y="14" class="legend">— this meter   - - peers'
                 " (median)</text></svg>")
    return "".join(parts)


def feeder_svg(rows: Sequence[tuple[str, Sequence[Event]]], start: datetime, end: datetime,
               offset_h: float) -> str:
    """One lane per meter: its outages (its own cuts in red) and its openings."""
    tz = timezone(timedelta(hours=offset_h))
    s = Scale(start, end)
    h = 18 * len(rows) + 24
    parts = [f'<svg id="feeder" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}"'
             f' viewBox="0 0 {W} {h}" role="img" aria-label="outages by meter">',
             *s.ticks(tz, h)]
    for i, (address, events) in enumerate(rows):
        y = 18 * i + 10
        parts.append(f'<text x="4" y="{y + 4}" class="lane">{escape(address)}</text>')
        for e in events:
            if e.kind in ("outage", "local cut", "opening"):
                parts.append(_event(e, s, y).replace('height="14"', 'height="10"'))
    parts.append("</svg>")
    return "".join(parts)
