"""pyserial transport for DL/T 645 (RS-485, infrared, a pseudo-terminal): one line, one session.

Owns: opening the port (2400 baud 8E1 by default, the standard's usual setting), a reading
thread that feeds one decoder and hands frames to the session, writing its answers, and the
inter-byte timeout after which a half-received frame is dropped (a silent line means the
sender gave up).

Must not know: what frames mean or what to answer (the :class:`FrameHandler` decides), the
meter's data, TCP.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import serial as pyserial

from meterseal.protocols.dlt645.errors import LinkError
from meterseal.protocols.dlt645.frame import FrameDecoder
from meterseal.protocols.dlt645.handler import FrameHandler, dispatch

log = logging.getLogger(__name__)

DEFAULT_BAUDRATE = 2400


def open_port(
    port: str,
    *,
    baudrate: int = DEFAULT_BAUDRATE,
    bytesize: int = 8,
    parity: str = "E",
    stopbits: float = 1,
    timeout_s: float | None = 0.05,
) -> pyserial.Serial:
    """Open ``port`` (8E1 by default); raise :class:`LinkError` naming the port on failure."""
    try:
        return pyserial.Serial(
            port,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout_s,
        )
    except (pyserial.SerialException, ValueError) as exc:
        raise LinkError(
            f"cannot open serial port {port} at {baudrate} {bytesize}{parity}{stopbits:g}: {exc}"
        ) from exc


class Dlt645SerialServer:
    """Serve DL/T 645 on a serial port from a background thread (or the caller's, via
    :meth:`serve_forever`).

    ``inter_byte_timeout_s``: a frame left incomplete for this long is dropped and reported
    to the handler as :class:`~meterseal.protocols.dlt645.frame.Truncated` (None: never).
    """

    def __init__(
        self,
        port: str,
        handler: FrameHandler,
        *,
        baudrate: int = DEFAULT_BAUDRATE,
        bytesize: int = 8,
        parity: str = "E",
        stopbits: float = 1,
        inter_byte_timeout_s: float | None = 0.5,
        poll_s: float = 0.05,
    ) -> None:
        self._port_name = port
        self._handler = handler
        self._baudrate = baudrate
        self._bytesize = bytesize
        self._parity = parity
        self._stopbits = stopbits
        self._inter_byte_timeout_s = inter_byte_timeout_s
        self._poll_s = poll_s
        self._serial: pyserial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def settings(self) -> dict[str, object]:
        """The open port's settings as pyserial holds them (baudrate, bytesize, parity, ...)."""
        if self._serial is None:
            raise RuntimeError(f"serial port {self._port_name} is not open: call start() first")
        return dict(self._serial.get_settings())

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def open(self) -> None:
        """Open the port (idempotent); raise :class:`LinkError` if it cannot be opened."""
        if self._serial is None:
            self._serial = open_port(
                self._port_name,
                baudrate=self._baudrate,
                bytesize=self._bytesize,
                parity=self._parity,
                stopbits=self._stopbits,
                timeout_s=self._poll_s,
            )
            log.info("dlt645 serial server on %s (%s)", self._port_name, self._serial)

    def start(self) -> None:
        """Open the port and serve it from a daemon thread."""
        if self.running:
            return
        self.open()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.serve_forever, name=f"dlt645-serial-{self._port_name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop serving and close the port."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        port, self._serial = self._serial, None
        if port is not None:
            port.close()

    def __enter__(self) -> Dlt645SerialServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Read, decode, answer, until :meth:`stop` is called or the port fails."""
        self.open()
        port = self._serial
        assert port is not None
        decoder = FrameDecoder()
        last_byte_at = time.monotonic()
        while not self._stop.is_set():
            try:
                chunk = port.read(max(1, port.in_waiting))
            except (pyserial.SerialException, OSError, TypeError) as exc:
                if not self._stop.is_set():
                    log.error("dlt645 serial %s: read failed, stopping: %s", self._port_name, exc)
                return
            now = time.monotonic()
            if chunk:
                last_byte_at = now
                items = decoder.feed(chunk)
            elif (
                self._inter_byte_timeout_s is not None
                and decoder.buffered_bytes
                and now - last_byte_at >= self._inter_byte_timeout_s
            ):
                items = list(decoder.flush())
            else:
                continue
            replies = dispatch(self._handler, items, self._port_name)
            if not replies:
                continue
            try:
                for reply in replies:
                    port.write(reply)
                port.flush()
            except (pyserial.SerialException, OSError) as exc:
                log.error("dlt645 serial %s: write failed, stopping: %s", self._port_name, exc)
                return
