"""One serial line, several protocol faces: the meter's RS-485 port (or a pty) answering DL/T 645
and DL/T 698.45 on the same wire, as State Grid's dual-protocol meters do.

Owns: a reading thread that feeds every byte to each face's decoder (a frame of one protocol is
stray bytes to the other's decoder, which skips them), writes each face's answers, and drops a
half-received frame after a silent gap. Both decoders check a checksum before a frame counts
(DL/T 645 its sum, DL/T 698.45 its HCS and FCS), so a frame of one is not taken for the other.

Must not know: what frames mean (the sessions decide), TCP, the meter.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Protocol

import serial as pyserial

from meterseal.protocols.dlt645 import frame as f645
from meterseal.protocols.dlt645.errors import LinkError
from meterseal.protocols.dlt645.handler import FrameHandler as Handler645
from meterseal.protocols.dlt645.handler import dispatch as dispatch645
from meterseal.protocols.dlt645.serial import open_port
from meterseal.protocols.dlt698 import frame as f698
from meterseal.protocols.dlt698.handler import FrameHandler as Handler698
from meterseal.protocols.dlt698.handler import dispatch as dispatch698

log = logging.getLogger(__name__)


class Face(Protocol):
    """One protocol on the line: bytes in, answers out."""

    name: str

    def feed(self, data: bytes) -> list[bytes]: ...

    def flush(self) -> list[bytes]:
        """The line went silent: drop a half-received frame; any answer to that."""
        ...

    @property
    def buffered(self) -> int: ...


class Dlt645Face:
    name = "DL/T 645"

    def __init__(self, handler: Handler645, port: str = "serial") -> None:
        self._decoder = f645.FrameDecoder()
        self._handler = handler
        self._port = port

    def feed(self, data: bytes) -> list[bytes]:
        return dispatch645(self._handler, self._decoder.feed(data), self._port)

    def flush(self) -> list[bytes]:
        return dispatch645(self._handler, self._decoder.flush(), self._port)

    @property
    def buffered(self) -> int:
        return self._decoder.buffered_bytes


class Dlt698Face:
    name = "DL/T 698.45"

    def __init__(self, handler: Handler698, port: str = "serial") -> None:
        self._decoder = f698.FrameDecoder()
        self._handler = handler
        self._port = port

    def feed(self, data: bytes) -> list[bytes]:
        return dispatch698(self._handler, self._decoder.feed(data), self._port)

    def flush(self) -> list[bytes]:
        self._decoder.flush()
        return []

    @property
    def buffered(self) -> int:
        return self._decoder.buffered_bytes


class LineServer:
    """Serve ``faces`` on one serial port from a background thread.

    ``inter_byte_timeout_s``: a frame left incomplete for this long is dropped (None: never).
    The port opens 8E1 at ``baudrate`` (2400 by default, DL/T 645's usual; DL/T 698.45 meters
    often run 9600 on the same line — one line has one speed).
    """

    def __init__(
        self, port: str, faces: list[Face], *, baudrate: int = 2400, parity: str = "E",
        inter_byte_timeout_s: float | None = 0.5, poll_s: float = 0.05,
    ) -> None:
        if not faces:
            raise ValueError("a line needs at least one protocol face")
        self._port_name = port
        self._faces = faces
        self._baudrate = baudrate
        self._parity = parity
        self._gap_s = inter_byte_timeout_s
        self._poll_s = poll_s
        self._serial: pyserial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open the port (LinkError naming it if it cannot be) and serve it from a thread."""
        if self.running:
            return
        if self._serial is None:
            self._serial = open_port(
                self._port_name, baudrate=self._baudrate, parity=self._parity,
                timeout_s=self._poll_s,
            )
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._serve, name=f"line-{self._port_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        port, self._serial = self._serial, None
        if port is not None:
            port.close()

    def __enter__(self) -> LineServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        port = self._serial
        assert port is not None
        last_byte_at = time.monotonic()
        while not self._stop.is_set():
            try:
                chunk = port.read(max(1, port.in_waiting))
            except (pyserial.SerialException, OSError, TypeError) as exc:
                if not self._stop.is_set():
                    log.error("line %s: read failed, stopping: %s", self._port_name, exc)
                return
            now = time.monotonic()
            replies: list[bytes] = []
            if chunk:
                last_byte_at = now
                for face in self._faces:
                    replies += face.feed(bytes(chunk))
            elif self._gap_s is not None and now - last_byte_at >= self._gap_s:
                for face in self._faces:
                    if face.buffered:
                        replies += face.flush()
            if replies and not self._write(port, replies):
                return

    def _write(self, port: pyserial.Serial, replies: list[bytes]) -> bool:
        try:
            for reply in replies:
                port.write(reply)
            port.flush()
        except (pyserial.SerialException, OSError) as exc:
            log.error("line %s: write failed, stopping: %s", self._port_name, exc)
            return False
        return True


__all__ = ["Dlt645Face", "Dlt698Face", "Face", "LineServer", "LinkError"]
