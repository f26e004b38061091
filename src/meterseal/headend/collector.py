"""The collector: every meter of every gateway into the store, incrementally and idempotently.

Owns the concurrency and the failure policy. One task per gateway (an asyncio TaskGroup owns
them all); a gateway's meters are read one at a time, as one bus carries one exchange at a time;
at most ``concurrency`` gateways are worked at once (a Semaphore), which also bounds the open
connections. Each answer has a timeout; a meter that does not answer, or answers garbage, is
tried again after a back-off (``retries`` times), then becomes a problem row — never a crash. A
lost connection is reopened once per meter attempt. Harvests go through a queue to one writer,
which ingests each batch of meters in one transaction (watermarks with their rows), on one
database thread so the event loop never waits for the disk.

Must not know: the simulator, the firmware, sockets below the async client, SQL (the store).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from meterseal.headend.endpoints import Endpoints, Gateway
from meterseal.headend.harvest import Harvest, MeterState
from meterseal.headend.harvester import Garbage, MeterHarvester
from meterseal.headend.store import Store
from meterseal.protocols.dlt645.aclient import AsyncClient, AsyncDlt645Client, ThreadedClient
from meterseal.protocols.dlt645.client import Dlt645Client
from meterseal.protocols.dlt645.errors import (
    CatalogError,
    Dlt645Error,
    LinkError,
    MeterNotAnswering,
    MeterRefused,
)
from meterseal.protocols.dlt645.frame import (
    WILDCARD_ADDRESS,
    Frame,
    FunctionCode,
    address_to_string,
)

DEFAULT_CONCURRENCY: Final = 64  # gateways worked at once (each: one exchange at a time)
BATCH: Final = 200  # meters per transaction at most
_RETRYABLE = (MeterNotAnswering, LinkError, Garbage, MeterRefused, CatalogError)


@dataclass(frozen=True, slots=True)
class Settings:
    concurrency: int = DEFAULT_CONCURRENCY
    timeout_s: float = 2.0
    connect_timeout_s: float = 5.0
    retries: int = 2
    backoff_s: float = 0.2  # doubled at each retry


@dataclass(slots=True)
class Summary:
    run_id: int = 0
    meters_total: int = 0
    meters_read: int = 0
    meters_failed: int = 0
    new_events: int = 0
    gateways_down: list[str] = field(default_factory=list)
    problems: int = 0
    seconds: float = 0.0

    @property
    def meters_per_s(self) -> float:
        return self.meters_read / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Seen:
    """A meter read with nothing new: only its last_seen changes."""

    address: str
    endpoint: str


Progress = Callable[[str, bool], None]  # (meter address, read?) after each meter


class Collector:
    def __init__(self, store: Store, endpoints: Endpoints, settings: Settings = Settings(),
                 progress: Progress | None = None) -> None:
        self._store = store
        self._endpoints = endpoints
        self._s = settings
        self._progress = progress or (lambda _a, _ok: None)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._queue: asyncio.Queue[Harvest | _Seen | None] = asyncio.Queue(maxsize=4 * BATCH)
        self._states: dict[str, MeterState] = {}
        self.summary = Summary()

    async def _in_db(self, fn: Callable[..., object], *args: object) -> object:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def run(self) -> Summary:
        t0 = time.monotonic()
        s = self.summary
        s.meters_total = self._endpoints.meter_count
        self._states = await self._in_db(self._store.meter_states)  # type: ignore[assignment]
        s.run_id = await self._in_db(self._store.begin_run, self._endpoints.source,  # type: ignore[assignment]
                                     s.meters_total)
        gate = asyncio.Semaphore(self._s.concurrency)
        writer = asyncio.create_task(self._writer())
        try:
            async with asyncio.TaskGroup() as tg:
                for gw in self._endpoints.gateways:
                    tg.create_task(self._gateway(gw, gate))
        finally:
            await self._queue.put(None)
            await writer
        s.seconds = time.monotonic() - t0
        await self._in_db(lambda: self._store.end_run(
            s.run_id, read=s.meters_read, failed=s.meters_failed, new_events=s.new_events))
        self._db.shutdown()
        return s

    # --- one gateway -------------------------------------------------------------------------

    async def _connect(self, gw: Gateway) -> AsyncClient:
        s = self._s
        tcp = gw.tcp
        if tcp is not None:
            return await AsyncDlt645Client.tcp(tcp[0], tcp[1], timeout_s=s.timeout_s,
                                               connect_timeout_s=s.connect_timeout_s)
        serial = gw.serial
        assert serial is not None
        try:
            blocking = await asyncio.to_thread(Dlt645Client.serial, serial[0],
                                               baudrate=serial[1], timeout_s=s.timeout_s)
        except (OSError, Dlt645Error) as exc:
            raise LinkError(f"cannot open {gw.url}: {exc}") from None
        return ThreadedClient(blocking)

    async def _gateway(self, gw: Gateway, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                client = await self._connect(gw)
            except LinkError as exc:
                await self._gateway_down(gw, str(exc))
                return
            try:
                meters = list(gw.meters) or await self._discover(client, gw)
                for address in meters:
                    client = await self._meter(client, gw, address)
            finally:
                await client.close()

    async def _gateway_down(self, gw: Gateway, why: str) -> None:
        s = self.summary
        s.gateways_down.append(gw.name)
        await self._problems([(None, gw.url, why)])
        for address in gw.meters or ("?",):
            s.meters_failed += 1
            self._progress(address, False)

    async def _discover(self, client: AsyncClient, gw: Gateway) -> list[str]:
        """Who is on a line listed without its meters: read-address to AA×6 (one meter only)."""
        try:
            reply = await client.request(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS))
            if reply.is_abnormal or len(reply.data) != 6:
                raise Garbage(f"answered read-address with {reply!r}")
            return [address_to_string(reply.data)]
        except (Dlt645Error, Garbage) as exc:
            self.summary.meters_failed += 1
            self._progress("?", False)
            await self._problems([(None, gw.url, f"no meter answered read-address ({exc});"
                                   " a bus of several meters stays silent: list them in an"
                                   " endpoints file")])
            return []

    async def _meter(self, client: AsyncClient, gw: Gateway, address: str) -> AsyncClient:
        """Collect one meter with retries; the client to go on with (reopened if lost)."""
        state = self._states.get(address, MeterState())
        last = ""
        for attempt in range(self._s.retries + 1):
            if attempt:
                await asyncio.sleep(self._s.backoff_s * 2 ** (attempt - 1))
            try:
                harvest = await MeterHarvester(client, address, state, endpoint=gw.url,
                                               utc_offset_h=gw.utc_offset_h).harvest()
            except _RETRYABLE as exc:
                last = " ".join(str(exc).split()) or exc.__class__.__name__
                if isinstance(exc, LinkError):
                    client = await self._reopen(client, gw)
                continue
            if state.vendor_records is None or harvest.changed or state.endpoint != gw.url:
                await self._queue.put(harvest)
            else:
                await self._queue.put(_Seen(address, gw.url))
            self.summary.meters_read += 1
            self.summary.new_events += harvest.new_events
            self._progress(address, True)
            return client
        self.summary.meters_failed += 1
        await self._problems([(address, gw.url,
                               f"no reading after {self._s.retries + 1} tries: {last}")])
        self._progress(address, False)
        return client

    async def _reopen(self, client: AsyncClient, gw: Gateway) -> AsyncClient:
        await client.close()
        try:
            return await self._connect(gw)
        except LinkError:
            return client  # still closed: the next attempt fails fast and is counted

    # --- the writer --------------------------------------------------------------------------

    async def _problems(self, rows: list[tuple[str | None, str, str]]) -> None:
        self.summary.problems += len(rows)
        await self._in_db(self._store.add_problems, self.summary.run_id, rows)

    async def _writer(self) -> None:
        done = False
        while not done:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            done = batch[-1] is None
            harvests = [h for h in batch if isinstance(h, Harvest)]
            seen = [(h.address, h.endpoint) for h in batch if isinstance(h, _Seen)]
            self.summary.problems += sum(len(h.problems) for h in harvests)
            await self._in_db(self._store.ingest_many, harvests, self.summary.run_id, seen)
