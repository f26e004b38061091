"""A bus gateway on TCP: one endpoint, one :class:`BusRouter` of many meters behind it.

Owns: serving a router one request at a time for all of its clients, as one RS-485 bus carries
one exchange at a time. Without bus timing (the default) the router is served by the plain
asyncio TCP transport (tcp.py): its callbacks run one at a time on the event loop, which is
already one exchange at a time, and costs nothing. With a :class:`BusTiming` every exchange
takes the bus (a lock per gateway) for the wire time of the request and of the answer, so a
head-end meets the delays of a real 2400-baud bus.

Must not know: what meters answer (the router and its sessions), how meters are built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from meterseal.protocols.dlt645.errors import LinkError
from meterseal.protocols.dlt645.frame import MAX_PREAMBLE, Frame, FrameDecoder, encode
from meterseal.protocols.dlt645.handler import dispatch
from meterseal.protocols.dlt645.router import BusRouter, BusTiming
from meterseal.protocols.dlt645.tcp import Dlt645TcpServer

log = logging.getLogger(__name__)


class Dlt645Gateway:
    """Serve ``router`` on ``host:port`` (port 0 picks a free one; read :attr:`port`)."""

    def __init__(
        self, router: BusRouter, host: str = "127.0.0.1", port: int = 0, *,
        timing: BusTiming | None = None, max_clients: int = 64, name: str = "",
    ) -> None:
        self.router = router
        self.name = name
        self._host = host
        self._requested_port = port
        self._timing = timing
        self._max_clients = max_clients
        self._plain: Dlt645TcpServer | None = None
        self._server: asyncio.Server | None = None
        self._bus = asyncio.Lock()
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._plain is not None:
            return self._plain.port
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the gateway is not started: call start() first")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"tcp://{self._host}:{self.port}"

    async def start(self) -> None:
        if self._timing is None:
            router = self.router
            self._plain = Dlt645TcpServer(lambda: router, self._host, self._requested_port,
                                          max_clients=self._max_clients)
            await self._plain.start()
            return
        try:
            self._server = await asyncio.start_server(
                self._serve_timed, self._host, self._requested_port
            )
        except OSError as exc:
            raise LinkError(
                f"cannot listen for DL/T 645 on {self._host}:{self._requested_port}:"
                f" {exc.strerror} (is the port in use?)"
            ) from exc

    async def _serve_timed(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._clients) >= self._max_clients:
            writer.close()
            return
        self._clients.add(task)
        decoder = FrameDecoder()
        try:
            while data := await reader.read(4096):
                for item in decoder.feed(data):
                    answer = await self._exchange(item)
                    if answer:
                        writer.write(answer)
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _exchange(self, item: object) -> bytes:
        """One request on the bus: its wire time, the answer (if any), the answer's wire time."""
        timing = self._timing
        assert timing is not None
        async with self._bus:
            if isinstance(item, Frame):
                await asyncio.sleep(timing.wire_s(len(encode(item, MAX_PREAMBLE))))
            replies = dispatch(self.router, [item])  # type: ignore[list-item]
            answer = b"".join(replies)
            if answer:
                await asyncio.sleep(timing.turnaround_s + timing.wire_s(len(answer)))
        return answer

    async def close(self) -> None:
        if self._plain is not None:
            await self._plain.close()
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for task in list(self._clients):
                task.cancel()
            await server.wait_closed()
