"""In-process collections for the head-end tests: meters (built from images under any address)
behind real TCP gateways on loopback, collected by the real Collector into a real store."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from meterseal.headend.collector import Collector, Settings, Summary
from meterseal.headend.endpoints import Endpoints, Gateway
from meterseal.headend.store import Store
from meterseal.protocols.dlt645.frame import Frame, FrameError
from meterseal.protocols.dlt645.gateway import Dlt645Gateway
from meterseal.protocols.dlt645.handler import FrameHandler
from meterseal.protocols.dlt645.maker import OURS, MakerFace
from meterseal.protocols.dlt645.router import BusRouter
from meterseal.protocols.dlt645.session import Dlt645Session
from meterseal.sim.live import LiveMeter, address_wire
from tests.fleet_helpers import meter_of

FAST = Settings(concurrency=8, timeout_s=0.3, connect_timeout_s=1.0, retries=1, backoff_s=0.01)
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*[+-]\d\d:\d\d$")
DATA_TABLES = ("cover_open", "terminal_cover_open", "power_down", "event_clear", "daily_energy",
               "watermark")


def live(kind: str, address: str) -> LiveMeter:
    """The records of a test meter (fleet_helpers.meter_of) under another address."""
    src = meter_of(kind)
    return LiveMeter.from_image(src.nvm_image(), address=address, utc_offset_h=8.0,
                                energy_units=src.energy(), clock_local_ms=src.clock()[0])


def face(meter: LiveMeter, maker: str = OURS) -> FrameHandler:
    return MakerFace(Dlt645Session(meter), meter.address, maker)


class Counting:
    """A session wrapper that counts the requests that reach it."""

    def __init__(self, inner: FrameHandler) -> None:
        self.inner = inner
        self.requests = 0

    def handle(self, frame: Frame) -> list[bytes]:
        self.requests += 1
        return self.inner.handle(frame)

    def handle_error(self, error: FrameError) -> list[bytes]:
        return self.inner.handle_error(error)


Bus = MutableMapping[bytes, FrameHandler]


def bus_of(faces: Mapping[str, FrameHandler]) -> Bus:
    return {address_wire(a): f for a, f in faces.items()}


async def _collect(url: str, buses: Mapping[str, Bus], listed: Mapping[str, Sequence[str]],
                   settings: Settings) -> Summary:
    gateways = {name: Dlt645Gateway(BusRouter(b), name=name) for name, b in buses.items()}
    for gw in gateways.values():
        await gw.start()
    endpoints = Endpoints(tuple(
        Gateway(name, gw.url, tuple(listed.get(name, ())))
        for name, gw in gateways.items()
    ), source="test")
    store = Store.open(url)
    try:
        return await Collector(store, endpoints, settings).run()
    finally:
        store.close()
        for gw in gateways.values():
            await gw.close()


def collect(url: str, buses: Mapping[str, Bus], listed: Mapping[str, Sequence[str]] | None = None,
            settings: Settings = FAST) -> Summary:
    """Serve ``buses`` (gateway name -> address -> session) and collect every meter on them
    (or those ``listed`` per gateway) into the store at ``url``."""
    if listed is None:
        from meterseal.protocols.dlt645.frame import address_to_string

        listed = {name: [address_to_string(a) for a in b] for name, b in buses.items()}
    return asyncio.run(_collect(url, buses, listed, settings))


def snapshot(url: str, tables: Sequence[str] = DATA_TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """The data tables, row for row, values as text (so both databases compare alike)."""
    store = Store.open(url)
    try:
        out = {t: [tuple(_text(v) for v in row) for row in store.rows(t)] for t in tables}
        out["meter"] = [tuple(_text(v) for v in row) for row in store.db.query(
            "SELECT address, manufacturer, vendor_records, utc_offset_h, endpoint FROM meter"
            " ORDER BY address")]
        out["problems"] = sorted(tuple(_text(v) for v in row) for row in store.db.query(
            "SELECT meter_address, endpoint, problem FROM collection_problem"))
        return out
    finally:
        store.close()


def _text(v: object) -> object:
    """A value as both databases can agree on it: instants in UTC, flags as 0/1."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    if isinstance(v, str) and _INSTANT.match(v):
        return datetime.fromisoformat(v).astimezone(UTC).isoformat()
    return v
