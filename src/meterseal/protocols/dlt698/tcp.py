"""Asyncio TCP transport for DL/T 698.45: many clients at once, one decoder and one session each.

Owns accepting connections, reading and writing bytes, and the limits that keep one client
from hurting the others — a cap on clients, bounded buffers, an idle timeout, a write timeout
for a client that does not read — and survival: whatever a client sends or a handler raises,
the server goes on serving.

Built on asyncio's protocol callbacks (no stream objects, no timer per read): bytes go from
the socket to the decoder and the answers back in one callback, which is what lets a head-end
poll the meter at the rate its client allows. Memory per connection stays bounded: the decoder
keeps at most one incomplete frame, and while a client leaves its answers unread the server
stops reading from it (and drops it after the write timeout).

It follows the DL/T 645 transport (protocols/dlt645/tcp.py) line for line but for the decoder
and the handler contract: a shared generic transport would serve both faces.

Must not know: what frames mean or what to answer (the :class:`FrameHandler` decides), the
meter's data, serial ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from types import TracebackType

from meterseal.protocols.dlt698.errors import LinkError
from meterseal.protocols.dlt698.frame import FrameDecoder
from meterseal.protocols.dlt698.handler import FrameHandler, dispatch

log = logging.getLogger(__name__)

HandlerFactory = Callable[[], FrameHandler]

WRITE_HIGH_WATER = 64 * 1024  # answers queued for a client before we stop reading from it


class _Connection(asyncio.Protocol):
    """One client: its decoder, its session, its timers."""

    def __init__(self, server: Dlt698TcpServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._decoder = FrameDecoder()
        self._handler: FrameHandler | None = None
        self._peer = "?"
        self._last_activity = time.monotonic()
        self._idle_handle: asyncio.TimerHandle | None = None
        self._write_handle: asyncio.TimerHandle | None = None
        self.closed = asyncio.get_running_loop().create_future()

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peername = transport.get_extra_info("peername")
        self._peer = (
            f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        )
        server = self._server
        if len(server._connections) >= server._max_clients:
            log.warning(
                "dlt698 %s: refused, already %d clients (max_clients)",
                self._peer, len(server._connections),
            )
            transport.abort()
            return
        try:
            self._handler = server._handler_factory()
        except Exception:
            log.exception("dlt698 %s: could not make a session; connection dropped", self._peer)
            transport.abort()
            return
        server._connections.add(self)
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        self._arm_idle()
        log.info("dlt698 %s: connected", self._peer)

    def data_received(self, data: bytes) -> None:
        handler = self._handler
        transport = self._transport
        if handler is None or transport is None or transport.is_closing():
            return
        self._last_activity = time.monotonic()
        try:
            replies = dispatch(handler, self._decoder.feed(data), self._peer)
        except Exception:  # the decoder never raises; a bug must still cost one client only
            log.exception("dlt698 %s: connection failed; other clients unaffected", self._peer)
            transport.abort()
            return
        if replies:
            transport.write(replies[0] if len(replies) == 1 else b"".join(replies))

    def eof_received(self) -> bool:
        return False  # close our side too

    def pause_writing(self) -> None:
        # The client does not read its answers: stop reading its requests until it does, and
        # drop it if it stays stuck.
        transport = self._transport
        if transport is None:
            return
        with contextlib.suppress(RuntimeError):
            transport.pause_reading()
        loop = asyncio.get_running_loop()
        self._write_handle = loop.call_later(self._server._write_timeout_s, self._write_stuck)

    def resume_writing(self) -> None:
        if self._write_handle is not None:
            self._write_handle.cancel()
            self._write_handle = None
        transport = self._transport
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(RuntimeError):
                transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        for handle in (self._idle_handle, self._write_handle):
            if handle is not None:
                handle.cancel()
        self._idle_handle = self._write_handle = None
        if self in self._server._connections:
            self._server._connections.discard(self)
            if exc is None:
                log.info("dlt698 %s: disconnected", self._peer)
            else:
                log.info("dlt698 %s: closed (%s)", self._peer, exc.__class__.__name__)
        if not self.closed.done():
            self.closed.set_result(None)

    # --- timers ------------------------------------------------------------------------------

    def _arm_idle(self) -> None:
        timeout = self._server._idle_timeout_s
        if timeout is None:
            return
        due = self._last_activity + timeout
        self._idle_handle = asyncio.get_running_loop().call_later(
            max(0.0, due - time.monotonic()), self._check_idle
        )

    def _check_idle(self) -> None:
        self._idle_handle = None
        transport = self._transport
        timeout = self._server._idle_timeout_s
        if transport is None or transport.is_closing() or timeout is None:
            return
        if time.monotonic() - self._last_activity >= timeout:
            log.info("dlt698 %s: idle for %s s, closing", self._peer, timeout)
            transport.close()
        else:
            self._arm_idle()

    def _write_stuck(self) -> None:
        self._write_handle = None
        if self._transport is not None:
            log.info(
                "dlt698 %s: did not read its answers for %s s, dropped",
                self._peer, self._server._write_timeout_s,
            )
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class Dlt698TcpServer:
    """Serve DL/T 698.45 over TCP; ``handler_factory()`` makes the session of each new connection.

    To share one session between connections, pass ``lambda: session``. Handlers run in the
    event loop and must not block. ``port=0`` picks a free port (read :attr:`port` after
    :meth:`start`). ``read_size`` is kept for compatibility: reads take what the socket holds,
    and the decoder bounds what stays buffered.
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
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the DL/T 698.45 TCP server is not started: call start() first")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        return self._host

    @property
    def client_count(self) -> int:
        """Connections being served now."""
        return len(self._connections)

    async def start(self) -> None:
        """Bind and listen; raise :class:`LinkError` if the address cannot be bound."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _Connection(self), self._host, self._requested_port
            )
        except OSError as exc:
            raise LinkError(
                f"cannot listen for DL/T 698.45 on {self._host}:{self._requested_port}:"
                f" {exc.strerror} (is the port in use?)"
            ) from exc
        log.info("dlt698 TCP server listening on %s:%d", self._host, self.port)

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
        connections = list(self._connections)
        for conn in connections:
            conn.close()
        if connections:
            await asyncio.wait([c.closed for c in connections], timeout=5)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> Dlt698TcpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
