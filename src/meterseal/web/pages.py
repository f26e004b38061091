"""The dashboard's pages as HTML text: the ranking with its filters, a meter, a feeder, and the
page for a meter nobody knows. Every user-supplied or stored string is escaped; links carry
their filters in the query string, so any view can be shared by copying its address.

Must not know: the web framework (app.py routes requests here), the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from meterseal.headend.analytics import Suspect, Timeline
from meterseal.headend.analytics.explain import Event

QUALITIES = ("exact", "deferred", "bounded", "unknown", "unsynced")

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
a{color:#1f5fa8}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top;font-size:.9em}th{background:#f3f5f7}
.score{font-weight:bold;text-align:right}.blind{color:#a15c00}
form{margin:.6em 0;display:flex;gap:.8em;align-items:end;flex-wrap:wrap}
label{font-size:.85em;display:flex;flex-direction:column}
.grid{stroke:#eee}.tick{font-size:10px;fill:#888}.lane{font-size:11px;fill:#444}
.legend{font-size:11px;fill:#444}.mine{stroke:#1f5fa8;stroke-width:1.6}
.peers{stroke:#888;stroke-dasharray:4,3;stroke-width:1.2}.mark{stroke:#c0392b;stroke-width:1}
ul.reasons li{margin:.3em 0}nav{margin-bottom:1em;font-size:.9em}
"""


def page(title: str, body: str) -> str:
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)} — meterseal</title><style>{CSS}</style></head><body>"
            "<nav><a href='/'>suspects</a></nav>"
            f"{body}</body></html>")


def _select(name: str, label: str, options: Sequence[str], chosen: str | None) -> str:
    opts = ["<option value=''>all</option>"] + [
        f"<option value='{escape(o)}'{' selected' if o == chosen else ''}>{escape(o)}</option>"
        for o in options]
    return f"<label>{label}<select name='{name}'>{''.join(opts)}</select></label>"


def meter_link(address: str) -> str:
    return f"<a href='/meter/{escape(address)}'>{escape(address)}</a>"


def feeder_link(feeder: str) -> str:
    return f"<a href='/feeder/{escape(feeder)}'>{escape(feeder)}</a>"


def ranking_table(rows: Sequence[tuple[int, Suspect]]) -> str:
    head = ("<table id='ranking'><thead><tr><th>#</th><th>meter</th><th>score</th>"
            "<th>feeder</th><th>type</th><th>model</th><th>time quality</th>"
            "<th>strongest reason</th></tr></thead><tbody>")
    body = []
    for rank, s in rows:
        model = escape(s.meter_model) + ("" if s.sees_outage_openings else
                                         " <span class='blind'>(blind in outages)</span>")
        reason = escape(s.reasons[0]) if s.reasons else (
            "<span class='blind'>nothing recorded; blind in outages</span>" if s.caveats
            else "nothing found")
        body.append(f"<tr data-address='{escape(s.address)}'><td>{rank}</td>"
                    f"<td>{meter_link(s.address)}</td><td class='score'>{s.score:.1f}</td>"
                    f"<td>{feeder_link(s.feeder)}</td><td>{escape(s.customer_type)}</td>"
                    f"<td>{model}</td><td>{escape(', '.join(s.qualities)) or '—'}</td>"
                    f"<td>{reason}</td></tr>")
    return head + "".join(body) + "</tbody></table>"


def ranking_page(rows: Sequence[tuple[int, Suspect]], total: int,
                 choices: Mapping[str, Sequence[str]], chosen: Mapping[str, str | None],
                 limit: int) -> str:
    form = ("<form method='get' action='/'>"
            + _select("feeder", "feeder", choices["feeder"], chosen.get("feeder"))
            + _select("type", "customer type", choices["type"], chosen.get("type"))
            + _select("model", "meter model", choices["model"], chosen.get("model"))
            + _select("quality", "time quality", QUALITIES, chosen.get("quality"))
            + f"<label>show<input name='limit' type='number' min='1' value='{limit}'></label>"
            "<button type='submit'>filter</button></form>")
    shared = urlencode({k: v for k, v in chosen.items() if v} | {"limit": limit})
    body = (f"<h1>Theft suspicion: {len(rows)} of {total} meters</h1>{form}"
            f"<p>Link to this view: <a id='share' href='/?{escape(shared)}'>/?"
            f"{escape(shared)}</a> · <a href='/api/suspects?{escape(shared)}'>JSON</a></p>"
            + ranking_table(rows))
    return page("suspects", body)


def events_table(events: Sequence[Event]) -> str:
    rows = "".join(f"<tr class='event'><td>{escape(e.kind)}</td><td>{escape(e.text)}</td></tr>"
                   for e in events)
    return (f"<table id='events'><thead><tr><th>what</th><th>detail</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def meter_page(t: Timeline, timeline_svg: str, usage_svg: str) -> str:
    s = t.suspect
    blind = "".join(f"<p class='blind caveat'>{escape(c)}</p>" for c in s.caveats)
    reasons = "".join(f"<li>{escape(r)}</li>" for r in s.reasons) or "<li>nothing found</li>"
    body = (f"<h1>Meter {escape(s.address)}</h1>"
            f"<p><span id='score' class='score'>score {s.score:.1f}</span> of 100 — rank "
            f"<span id='rank'>{t.rank}</span> of {t.of} · {escape(s.customer_type)} on feeder "
            f"{feeder_link(s.feeder)} · model {escape(s.meter_model)} · "
            f"<a href='/api/meter/{escape(s.address)}'>JSON</a></p>{blind}"
            f"<h2>Reasons</h2><ul id='reasons' class='reasons'>{reasons}</ul>"
            f"<h2>Timeline (UTC{t.offset_h:+g})</h2>{timeline_svg}<p class='legend'>"
            "● opening, time exact or deferred · ▬ opening, bounded: the interval it lies in"
            " · ○ opening at a time nobody can trust (unsynced, unknown) · red bar: a supply"
            " cut only this meter saw · hover a mark for its record</p>"
            f"<h2>Consumption</h2>{usage_svg}<h2>Events</h2>{events_table(t.events)}")
    return page(f"meter {s.address}", body)


def feeder_page(feeder: str, rows: Sequence[tuple[int, Suspect]], chart: str,
                span: tuple[datetime, datetime]) -> str:
    body = (f"<h1>Feeder {escape(feeder)}</h1><p>{len(rows)} meters · "
            f"{span[0]:%Y-%m-%d} → {span[1]:%Y-%m-%d} · <a href='/?feeder="
            f"{escape(feeder)}'>its ranking</a> · <a href='/api/feeder/{escape(feeder)}'>JSON"
            f"</a></p><h2>Outages and openings by meter</h2>{chart}<h2>Meters</h2>"
            + ranking_table(rows))
    return page(f"feeder {feeder}", body)


def not_found_page(what: str) -> str:
    return page("not found", f"<h1>Not found</h1><p id='missing'>{escape(what)}</p>"
                "<p><a href='/'>Back to the ranking</a></p>")
