"""The asyncio TCP transport both meter faces share: many clients, one decoder and one session
each, and the limits that keep one client from hurting the others.

Owns accepting connections, moving bytes between the socket and a face's decoder and session,
and the guards:
- **bounded work per event-loop turn**: received bytes queue per connection; one turn decodes
  and answers at most ``TURN_BYTES`` of them, then yields to the loop (reading from that client
  is paused until its queue is worked off), so a peer that pipelines thousands of requests or
  floods garbage cannot starve the others;
- **idle time from the last valid frame**, not from any byte: one FE byte a minute does not
  keep a connection alive;
- **connections per peer address** capped below the server's total, so one address cannot take
  every slot;
- **a client that does not read its answers** stops being read at once (its write buffer over
  ``WRITE_HIGH_WATER``) and is dropped after ``write_timeout_s``;
- **survival**: whatever a client sends or a handler raises, the server goes on serving.
A session that offers ``memo(bytes)`` and ``remember(bytes, frame)`` (DL/T 645's) answers a
request it has seen before, byte for byte, without it being decoded.
No assertion on the transport's class: any asyncio-compatible loop (uvloop) works.

Must not know: what frames mean or what to answer (the face's session decides), the meter's data,
serial ports. A face plugs in its decoder, its dispatch and its name (:class:`Face`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

WRITE_HIGH_WATER = 64 * 1024  # answers queued for a client before we stop reading from it
TURN_BYTES = 8 * 1024  # received bytes one connection may work through in one loop turn
SEND_BUFFER = 64 * 1024  # the kernel's send buffer per connection


@dataclass(frozen=True, slots=True)
class Face:
    """What a protocol brings to the transport."""

    name: str  # for logs, e.g. "dlt645"
    title: str  # for messages, e.g. "DL/T 645"
    decoder: Callable[[], Any]  # a fresh streaming decoder: .feed(bytes) -> list of items
    dispatch: Callable[[Any, Iterable[Any], str], list[bytes]]  # (handler, items, peer)
    is_frame: Callable[[Any], bool]  # a decoded item that is a valid frame (not an error)
    link_error: type[Exception]


class _Connection(asyncio.Protocol):
    """One client: its decoder, its session, its queue of received bytes, its timers."""

    def __init__(self, server: GuardedTcpServer) -> None:
        self._server = server
        self._face = server.face
        self._transport: asyncio.Transport | None = None
        self._decoder = self._face.decoder()
        self._handler: Any = None
        self._peer = "?"
        self._host = "?"
        self._pending = bytearray()
        self._scheduled = False
        self._paused_work = False
        self._paused_write = False
        self._last_frame = time.monotonic()
        self._idle_handle: asyncio.TimerHandle | None = None
        self._write_handle: asyncio.TimerHandle | None = None
        self.closed = asyncio.get_running_loop().create_future()

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple):
            self._host, self._peer = str(peername[0]), f"{peername[0]}:{peername[1]}"
        else:
            self._host = self._peer = str(peername)
        server = self._server
        refusal = server._refusal(self._host)
        if refusal:
            log.warning("%s %s: refused, %s", self._face.name, self._peer, refusal)
            transport.abort()
            return
        try:
            self._handler = server._handler_factory()
        except Exception:
            log.exception("%s %s: could not make a session; connection dropped",
                          self._face.name, self._peer)
            transport.abort()
            return
        server._admit(self)
        with contextlib.suppress(AttributeError, OSError):
            # a modest kernel send buffer, so a client that does not read is noticed after
            # ~SEND_BUFFER + WRITE_HIGH_WATER bytes of answers, not after megabytes
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        with contextlib.suppress(AttributeError):
            self._transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)  # type: ignore[union-attr]
        self._arm_idle()
        log.info("%s %s: connected", self._face.name, self._peer)

    def data_received(self, data: bytes) -> None:
        if self._handler is None or self._closing():
            return
        self._pending += data
        if not self._scheduled:
            self._work()

    def _work(self) -> None:
        """Work through at most TURN_BYTES of the queue; come back next turn for the rest."""
        self._scheduled = False
        transport = self._transport
        if transport is None or self._closing():
            return
        chunk = bytes(self._pending[:TURN_BYTES])
        del self._pending[:TURN_BYTES]
        self._server.turns += 1
        try:
            replies = self._answer(chunk)
        except Exception:  # the decoder never raises; a bug must still cost one client only
            log.exception("%s %s: connection failed; other clients unaffected",
                          self._face.name, self._peer)
            transport.abort()
            return
        if replies:
            transport.write(replies[0] if len(replies) == 1 else b"".join(replies))
        if self._pending and not self._paused_write:
            self._pause(work=True)
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._work)
        elif not self._pending and self._paused_work:
            self._resume(work=True)

    def _answer(self, chunk: bytes) -> list[bytes]:
        """The replies to ``chunk``: from the session's memo of exact request bytes when it
        has one (no decoding at all), else decoded and dispatched (and remembered)."""
        handler = self._handler
        memo = getattr(handler, "memo", None)
        fresh = memo is not None and not self._decoder.buffered_bytes
        if fresh:
            hit = memo(chunk)
            if hit is not None:
                self._last_frame = time.monotonic()
                return [hit]
        items = self._decoder.feed(chunk)
        if any(self._face.is_frame(item) for item in items):
            self._last_frame = time.monotonic()
        replies = self._face.dispatch(handler, items, self._peer)
        if (fresh and len(items) == 1 and replies and self._face.is_frame(items[0])
                and not self._decoder.buffered_bytes):
            handler.remember(chunk, items[0])
        return replies

    def eof_received(self) -> bool:
        return False  # close our side too

    def pause_writing(self) -> None:
        # The client does not read its answers: stop reading (and working) until it does, and
        # drop it if it stays stuck.
        if self._transport is None:
            return
        self._pause(work=False)
        loop = asyncio.get_running_loop()
        self._write_handle = loop.call_later(self._server._write_timeout_s, self._write_stuck)

    def resume_writing(self) -> None:
        if self._write_handle is not None:
            self._write_handle.cancel()
            self._write_handle = None
        self._resume(work=False)
        if self._pending and not self._scheduled and not self._closing():
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._work)

    def _pause(self, *, work: bool) -> None:
        if not (self._paused_work or self._paused_write) and self._transport is not None:
            with contextlib.suppress(RuntimeError):
                self._transport.pause_reading()
        if work:
            self._paused_work = True
        else:
            self._paused_write = True

    def _resume(self, *, work: bool) -> None:
        if work:
            self._paused_work = False
        else:
            self._paused_write = False
        if self._paused_work or self._paused_write or self._closing():
            return
        with contextlib.suppress(RuntimeError):
            self._transport.resume_reading()  # type: ignore[union-attr]

    def _closing(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    def connection_lost(self, exc: Exception | None) -> None:
        for handle in (self._idle_handle, self._write_handle):
            if handle is not None:
                handle.cancel()
        self._idle_handle = self._write_handle = None
        self._pending.clear()
        if self._server._discard(self):
            if exc is None:
                log.info("%s %s: disconnected", self._face.name, self._peer)
            else:
                log.info("%s %s: closed (%s)", self._face.name, self._peer,
                         exc.__class__.__name__)
        if not self.closed.done():
            self.closed.set_result(None)

    # --- timers ------------------------------------------------------------------------------

    def _arm_idle(self) -> None:
        timeout = self._server._idle_timeout_s
        if timeout is None:
            return
        due = self._last_frame + timeout
        self._idle_handle = asyncio.get_running_loop().call_later(
            max(0.0, due - time.monotonic()), self._check_idle
        )

    def _check_idle(self) -> None:
        self._idle_handle = None
        timeout = self._server._idle_timeout_s
        if self._closing() or timeout is None:
            return
        if time.monotonic() - self._last_frame >= timeout:
            log.info("%s %s: no valid frame for %s s, closing", self._face.name, self._peer,
                     timeout)
            self._transport.close()  # type: ignore[union-attr]
        else:
            self._arm_idle()

    def _write_stuck(self) -> None:
        self._write_handle = None
        if self._transport is not None:
            log.info("%s %s: did not read its answers for %s s, dropped", self._face.name,
                     self._peer, self._server._write_timeout_s)
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class GuardedTcpServer:
    """Serve one protocol face over TCP; ``handler_factory()`` makes each connection's session.

    ``max_clients``: connections at once; ``max_clients_per_peer``: from one peer address
    (default: three quarters of ``max_clients``, at least 1); ``idle_timeout_s``: a connection
    with no valid frame for this long is closed (None: never); ``write_timeout_s``: a client
    that leaves its answers unread this long is dropped. ``port=0`` picks a free port.
    """

    def __init__(
        self,
        face: Face,
        handler_factory: Callable[[], Any],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_clients: int = 64,
        max_clients_per_peer: int | None = None,
        idle_timeout_s: float | None = 300.0,
        write_timeout_s: float = 2.0,
        read_size: int = 1024,
    ) -> None:
        if max_clients < 1:
            raise ValueError(f"max_clients must be at least 1, got {max_clients}")
        per_peer = max_clients_per_peer
        if per_peer is None:
            per_peer = max(1, max_clients - max_clients // 4)
        if not 1 <= per_peer <= max_clients:
            raise ValueError(f"max_clients_per_peer must be 1..{max_clients}, got {per_peer}")
        if read_size < 1:
            raise ValueError(f"read_size must be at least 1, got {read_size}")
        self.face = face
        self._handler_factory = handler_factory
        self._host = host
        self._requested_port = port
        self._max_clients = max_clients
        self._max_per_peer = per_peer
        self._idle_timeout_s = idle_timeout_s
        self._write_timeout_s = write_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._per_host: Counter[str] = Counter()
        self.turns = 0  # work turns so far (each bounded by TURN_BYTES)

    def _refusal(self, host: str) -> str:
        if len(self._connections) >= self._max_clients:
            return f"already {len(self._connections)} clients (max_clients)"
        if self._per_host[host] >= self._max_per_peer:
            return f"already {self._per_host[host]} clients from {host} (max_clients_per_peer)"
        return ""

    def _admit(self, conn: _Connection) -> None:
        self._connections.add(conn)
        self._per_host[conn._host] += 1

    def _discard(self, conn: _Connection) -> bool:
        if conn not in self._connections:
            return False
        self._connections.discard(conn)
        self._per_host[conn._host] -= 1
        if self._per_host[conn._host] <= 0:
            del self._per_host[conn._host]
        return True

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError(f"the {self.face.title} TCP server is not started: call start()"
                               " first")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def host(self) -> str:
        return self._host

    @property
    def client_count(self) -> int:
        """Connections being served now."""
        return len(self._connections)

    async def start(self) -> None:
        """Bind and listen; raise the face's link error if the address cannot be bound."""
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _Connection(self), self._host, self._requested_port, backlog=1024
            )
        except OSError as exc:
            raise self.face.link_error(
                f"cannot listen for {self.face.title} on {self._host}:{self._requested_port}:"
                f" {exc.strerror} (is the port in use?)"
            ) from exc
        log.info("%s TCP server listening on %s:%d", self.face.name, self._host, self.port)

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

    async def __aenter__(self) -> GuardedTcpServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
