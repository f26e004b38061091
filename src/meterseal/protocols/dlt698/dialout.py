"""The meter's communication module dialling out to its master over TCP: login, active reports,
and answering whatever the master asks on that connection.

Owns: the connection to the master (and reconnecting after a loss), the login and heartbeats
(LINK-Request), pushing REPORT-Notification frames for rows whose report is due, and the timers
around them — a grace period for the master to associate before the first push (the PyPI
``dlt698`` master takes reports only once it has sent CONNECT), a retry for rows the master
has not confirmed. The session (session.py) decides what each frame says and answers the
master's requests; this module only moves bytes and keeps time.

Must not know: what frames mean, the meter's data, serial ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from meterseal.protocols.dlt698.frame import FrameDecoder
from meterseal.protocols.dlt698.handler import dispatch
from meterseal.protocols.dlt698.services import LINK_HEARTBEAT, LINK_LOGIN
from meterseal.protocols.dlt698.session import Dlt698Session, State

log = logging.getLogger(__name__)


class ReportLink:
    """Keep a connection to the master at ``host:port`` for ``session``'s meter.

    ``grace_s``: how long after login to wait for the master's CONNECT before pushing anyway;
    ``retry_s``: how long to wait for a confirmation before pushing the rows again;
    ``reconnect_s``: the pause before dialling again after a failure or a loss.
    """

    def __init__(
        self, session: Dlt698Session, host: str, port: int, *, heartbeat_s: int = 300,
        grace_s: float = 2.0, retry_s: float = 10.0, reconnect_s: float = 5.0,
    ) -> None:
        self.session = session
        self.host = host
        self.port = port
        self._heartbeat_s = heartbeat_s
        self._grace_s = grace_s
        self._retry_s = retry_s
        self._reconnect_s = reconnect_s
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.pushes = 0
        self._up = False
        self._login_at = 0.0
        self._pushed_at: float | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                log.info("dlt698 report link: cannot reach %s:%d (%s); retrying", self.host,
                         self.port, exc.strerror or exc)
                await asyncio.sleep(self._reconnect_s)
                continue
            self.connected = True
            log.info("dlt698 report link: connected to %s:%d", self.host, self.port)
            try:
                await self._serve(reader, writer)
            except (OSError, asyncio.IncompleteReadError) as exc:
                log.info("dlt698 report link: lost (%s)", exc)
            finally:
                self.connected = False
                self._link_down()
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            await asyncio.sleep(self._reconnect_s)

    def _link_down(self) -> None:
        self.session.logged_in = False
        if self._up:
            self._up = False
            self.session.desk.link_up(False)
        self.session.forget_unconfirmed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = self.session
        decoder = FrameDecoder()
        writer.write(session.link_request(LINK_LOGIN, self._heartbeat_s))
        await writer.drain()
        self._login_at = time.monotonic()
        self._pushed_at = None
        heartbeat_at = self._login_at + self._heartbeat_s
        while True:
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=0.2)
            except TimeoutError:
                data = None
            if data == b"":
                raise OSError("the master closed the connection")
            replies = dispatch(session, decoder.feed(data), "report link") if data else []
            now = time.monotonic()
            if session.logged_in:
                if not self._up:
                    self._up = True
                    session.desk.link_up(True)
                replies += self._reports(now)
            if now >= heartbeat_at:
                replies.append(session.link_request(LINK_HEARTBEAT, self._heartbeat_s))
                heartbeat_at = now + self._heartbeat_s
            if replies:
                writer.write(b"".join(replies))
                await writer.drain()

    def _reports(self, now: float) -> list[bytes]:
        """Report frames to send now: once the master associated (or the grace period ran
        out), and again after ``retry_s`` without a confirmation."""
        session = self.session
        if session.state == State.PRESET and now - self._login_at < self._grace_s:
            return []
        if session.reports_waiting():
            if self._pushed_at is not None and now - self._pushed_at < self._retry_s:
                return []
            session.forget_unconfirmed()
        frames = session.push_reports()
        if frames:
            self.pushes += 1
            self._pushed_at = now
        return frames
