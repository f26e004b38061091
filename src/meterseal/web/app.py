"""The dashboard's web application (FastAPI): every page has a JSON twin, every view is a URL.

Owns: routing, the filters of the ranking (feeder, customer type, meter model, time quality,
how many), 404s (an HTML page for a person, JSON for the API), and the analysis it serves —
made once from the store when the app starts (the store is read, never written; a simulation
is never run). Restart the dashboard to see a newer collection.

Must not know: how evidence is computed (headend.analytics), how HTML looks (pages.py, svg.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from meterseal.headend.analytics import Analysis, AnalyticsError, Suspect
from meterseal.web import pages, svg

DEFAULT_LIMIT = 50


def _span(a: Analysis) -> tuple[datetime, datetime]:
    """The time the store covers: its consumption days, widened to its events."""
    row = a.con.execute(
        "SELECT least((SELECT min(day) FROM usage), (SELECT CAST(min(started_at) AS DATE)"
        " FROM power_down), (SELECT CAST(min(opened_at) AS DATE) FROM cover_open)),"
        " greatest((SELECT max(day) FROM usage), (SELECT CAST(max(started_at) AS DATE)"
        " FROM power_down), (SELECT CAST(max(opened_at) AS DATE) FROM cover_open))").fetchone()
    first, last = (row or (None, None))
    if first is None or last is None:
        now = datetime.now(UTC)
        return now - timedelta(days=30), now
    tz = UTC
    return datetime.combine(first, time(), tz), datetime.combine(last, time(), tz) + \
        timedelta(days=1)


def _filtered(ranking: list[Suspect], q: dict[str, str | None]) -> list[tuple[int, Suspect]]:
    out = []
    for i, s in enumerate(ranking, start=1):
        if q.get("feeder") and s.feeder != q["feeder"]:
            continue
        if q.get("type") and s.customer_type != q["type"]:
            continue
        if q.get("model") and s.meter_model != q["model"]:
            continue
        if q.get("quality") and q["quality"] not in s.qualities:
            continue
        out.append((i, s))
    return out


def _limit(text: str | None) -> int:
    try:
        return max(1, min(int(text or DEFAULT_LIMIT), 100_000))
    except ValueError:
        return DEFAULT_LIMIT


def create_app(analysis: Analysis) -> FastAPI:
    app = FastAPI(title="meterseal dashboard", docs_url=None, redoc_url=None,
                  openapi_url=None)
    ranking = analysis.ranking
    span = _span(analysis)
    choices = {"feeder": sorted({s.feeder for s in ranking}),
               "type": sorted({s.customer_type for s in ranking}),
               "model": sorted({s.meter_model for s in ranking})}

    def query(request: Request) -> tuple[dict[str, str | None], int]:
        q = {k: request.query_params.get(k) or None for k in ("feeder", "type", "model",
                                                              "quality")}
        return q, _limit(request.query_params.get("limit"))

    @app.exception_handler(HTTPException)
    async def not_found(request: Request, exc: HTTPException) -> Response:
        detail = str(exc.detail) if exc.status_code == 404 else "bad request"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": detail}, status_code=exc.status_code)
        return HTMLResponse(pages.not_found_page(detail), status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> str:
        q, limit = query(request)
        rows = _filtered(ranking, q)
        return pages.ranking_page(rows[:limit], len(rows), choices, q, limit)

    @app.get("/api/suspects")
    def api_suspects(request: Request) -> list[dict[str, Any]]:
        q, limit = query(request)
        return [{"rank": i, **s.as_json()} for i, s in _filtered(ranking, q)[:limit]]

    def timeline(address: str) -> Any:
        try:
            return analysis.timeline(address)
        except AnalyticsError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/meter/{address}", response_class=HTMLResponse)
    def meter(address: str) -> str:
        t = timeline(address)
        return pages.meter_page(t, svg.timeline_svg(t, *span), svg.usage_svg(t, *span))

    @app.get("/api/meter/{address}")
    def api_meter(address: str) -> dict[str, Any]:
        return dict(timeline(address).as_json())

    def feeder_rows(feeder: str) -> list[tuple[int, Suspect]]:
        rows = _filtered(ranking, {"feeder": feeder})
        if not rows:
            raise HTTPException(404, f"no feeder {feeder!r} in the store's register")
        return rows

    @app.get("/feeder/{feeder}", response_class=HTMLResponse)
    def feeder(feeder: str) -> str:
        rows = feeder_rows(feeder)
        lanes = [(s.address, analysis.timeline(s.address).events) for _i, s in rows]
        offset = analysis.timeline(rows[0][1].address).offset_h
        return pages.feeder_page(feeder, rows, svg.feeder_svg(lanes, *span, offset), span)

    @app.get("/api/feeder/{feeder}")
    def api_feeder(feeder: str) -> dict[str, Any]:
        rows = feeder_rows(feeder)
        return {"feeder": feeder, "meters": [{"rank": i, **s.as_json()} for i, s in rows]}

    return app
