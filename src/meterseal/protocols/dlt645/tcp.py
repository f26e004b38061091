"""Asyncio TCP transport for DL/T 645: many clients at once, one decoder and one session each.

Owns: accepting connections, reading and writing bytes, and the limits that keep one client
from hurting the others — a cap on clients, bounded read buffers, an idle timeout, a write
timeout for a client that does not read — and survival: whatever a client sends or a handler
raises, the server goes on serving.

Must not know: what frames mean or what to answer (the :class:`FrameHandler` decides, including
whether a damaged frame gets an answer), the meter's data, serial ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

from meterseal.protocols.dlt645.errors import LinkError
from meterseal.protocols.dlt645.frame import FrameDecoder
from meterseal.protocols.dlt645.handler import FrameHandler, dispatch

log = logging.getLogger(__name__)

HandlerFactory = Callable[[], FrameHandler]


class Dlt645TcpServer:
    """Serve DL/T 645 over TCP; ``handler_factory()`` makes the session of each new connection.

    To share one session between connections, pass ``lambda: session``. Handlers run in the
    event loop and must not block. ``port=0`` picks a free port (read :attr:`port` after
    :meth:`start`).
    """

    def __init__(
        self,
        handler_factory: HandlerFactory,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_clients: int = 64,
        idle_timeout_s: float | None = 300.0,
        write_timeout_s: float = 10.0,
        read_size: int = 1024,
    ) -> None:
        if max_clients < 1:
            raise ValueError(f"max_clients must be at least 1, got {max_clients}")
        if read_size < 1:
            raise ValueError(f"read_size must be at least 1, got {read_size}")
        self._handler_factory = handler_factory
        self._host = host
        self._requested_port = port
        self._max_clients = max_clients
        self._idle_timeout_s = idle_timeout_s
        self._write_timeout_s = write_timeout_s
        self._read_size = read_size
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the DL/T 645 TCP server is not started: call start() first")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        return self._host

    @property
    def client_count(self) -> int:
        """Connections being served now."""
        return len(self._clients)

    async def start(self) -> None:
        """Bind and listen; raise :class:`LinkError` if the address cannot be bound."""
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(
                self._serve_client,
                self._host,
                self._requested_port,
                # StreamReader stops reading the socket past 2 × limit: a flood stays bounded.
                limit=max(self._read_size, 1024),
            )
        except OSError as exc:
            raise LinkError(
                f"cannot listen for DL/T 645 on {self._host}:{self._requested_port}: {exc.strerror}"
                " (is the port in use?)"
            ) from exc
        log.info("dlt645 TCP server listening on %s:%d", self._host, self.port)

    async def serve_forever(self) -> None:
        """Start if needed and serve until cancelled or :meth:`close`."""
        await self.start()
        assert self._server is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        clients = list(self._clients)
        for task in clients:
            task.cancel()
        if clients:
            await asyncio.gather(*clients, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> Dlt645TcpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        if len(self._clients) >= self._max_clients:
            log.warning(
                "dlt645 %s: refused, already %d clients (max_clients)", peer, len(self._clients)
            )
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        log.info("dlt645 %s: connected", peer)
        try:
            await self._converse(peer, reader, writer)
        except asyncio.CancelledError:
            raise
        except (ConnectionError, TimeoutError) as exc:
            log.info("dlt645 %s: closed (%s)", peer, exc.__class__.__name__)
        except Exception:
            log.exception("dlt645 %s: connection failed; other clients unaffected", peer)
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            log.info("dlt645 %s: disconnected", peer)

    async def _converse(
        self, peer: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        handler = self._handler_factory()
        decoder = FrameDecoder()
        while True:
            try:
                async with asyncio.timeout(self._idle_timeout_s):
                    chunk = await reader.read(self._read_size)
            except TimeoutError:
                log.info("dlt645 %s: idle for %s s, closing", peer, self._idle_timeout_s)
                return
            if not chunk:
                return
            replies = dispatch(handler, decoder.feed(chunk), peer)
            if replies:
                writer.write(b"".join(replies))
                async with asyncio.timeout(self._write_timeout_s):
                    await writer.drain()
            else:
                # A flood of garbage never suspends on I/O; give the other clients their turn.
                await asyncio.sleep(0)
