"""DL/T 645 client side: send a request to a meter over TCP or serial, wait for its answer.

Owns: the request/answer exchange — clearing stale input, sending with a wake-up preamble,
decoding what comes back, picking the reply that answers this request (bit 7, same function,
an address the request matched) out of echoes and noise, and the timeout that becomes
:class:`MeterNotAnswering`. Links (:class:`TcpLink`, :class:`SerialLink`) only move bytes.

Must not know: what the data means (the head-end decodes it), the meter side, asyncio.
"""

from __future__ import annotations

import logging
import socket
import time
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from meterseal.protocols.dlt645.errors import (
    InvalidFrameField,
    LinkError,
    MeterNotAnswering,
    MeterRefused,
)
from meterseal.protocols.dlt645.frame import (
    MAX_PREAMBLE,
    ErrorCode,
    Frame,
    FrameDecoder,
    FunctionCode,
    address_matches,
    address_to_string,
    di_from_bytes,
    di_to_bytes,
    encode,
    is_broadcast,
    read_request,
)

if TYPE_CHECKING:
    import serial as pyserial

log = logging.getLogger(__name__)


class Link(Protocol):
    """A byte pipe to one meter (or a bus of meters)."""

    @property
    def name(self) -> str: ...

    def write(self, data: bytes) -> None:
        """Send all of ``data``; raise :class:`LinkError` if the link is lost."""
        ...

    def read(self, timeout_s: float) -> bytes:
        """What arrives within ``timeout_s`` (b"" if nothing); :class:`LinkError` if lost."""
        ...

    def discard_input(self) -> None:
        """Throw away whatever arrived unasked (a late answer to an earlier request)."""
        ...

    def close(self) -> None: ...


class TcpLink:
    """A TCP connection to a meter or a serial-to-Ethernet gateway."""

    def __init__(self, host: str, port: int, *, connect_timeout_s: float = 5.0) -> None:
        self._name = f"tcp://{host}:{port}"
        try:
            self._sock: socket.socket | None = socket.create_connection(
                (host, port), timeout=connect_timeout_s
            )
        except OSError as exc:
            raise LinkError(
                f"cannot connect to meter at {host}:{port}: {exc.strerror or exc}"
                " (check host, port and that the meter or gateway is up)"
            ) from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def name(self) -> str:
        return self._name

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise LinkError(f"link {self._name} is closed; open a new client")
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._socket()
        try:
            sock.settimeout(None)
            sock.sendall(data)
        except OSError as exc:
            self.close()
            raise LinkError(f"lost the connection to {self._name} while sending: {exc}") from exc

    def read(self, timeout_s: float) -> bytes:
        sock = self._socket()
        try:
            sock.settimeout(max(timeout_s, 0.0))
            data = sock.recv(1024)
        except TimeoutError:
            return b""
        except BlockingIOError:
            return b""
        except OSError as exc:
            self.close()
            raise LinkError(f"lost the connection to {self._name}: {exc}") from exc
        if not data:
            self.close()
            raise LinkError(f"{self._name} closed the connection")
        return data

    def discard_input(self) -> None:
        sock = self._socket()
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            pass  # a lost link shows itself on the next read or write
        finally:
            sock.setblocking(True)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


class SerialLink:
    """A serial port (RS-485 adapter, optical probe), 2400 baud 8E1 by default."""

    POLL_S = 0.02

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 2400,
        bytesize: int = 8,
        parity: str = "E",
        stopbits: float = 1,
    ) -> None:
        from meterseal.protocols.dlt645.serial import open_port

        self._name = f"serial:{port} {baudrate} {bytesize}{parity}{stopbits:g}"
        # The port's own timeout stays fixed: changing it re-applies every line setting, which
        # a pseudo-terminal refuses once it has dropped the parity bit it cannot keep.
        self._port: pyserial.Serial | None = open_port(
            port,
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout_s=self.POLL_S,
        )

    @property
    def name(self) -> str:
        return self._name

    def _serial(self) -> pyserial.Serial:
        if self._port is None:
            raise LinkError(f"link {self._name} is closed; open a new client")
        return self._port

    def write(self, data: bytes) -> None:
        port = self._serial()
        try:
            port.write(data)
            port.flush()
        except (OSError, ValueError) as exc:  # SerialException is an OSError
            raise LinkError(f"cannot write to {self._name}: {exc}") from exc

    def read(self, timeout_s: float) -> bytes:
        port = self._serial()
        deadline = time.monotonic() + max(timeout_s, 0.0)
        try:
            while True:
                data = bytes(port.read(max(1, port.in_waiting)))
                if data or time.monotonic() >= deadline:
                    return data
        except (OSError, ValueError, TypeError) as exc:
            raise LinkError(f"cannot read from {self._name}: {exc}") from exc

    def discard_input(self) -> None:
        try:
            self._serial().reset_input_buffer()
        except (OSError, ValueError) as exc:
            raise LinkError(f"cannot use {self._name}: {exc}") from exc

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            port.close()


def _function_name(code: int) -> str:
    try:
        return f"{FunctionCode(code).name.lower().replace('_', ' ')} ({code:02X})"
    except ValueError:
        return f"function {code:02X}"


class Dlt645Client:
    """Ask meters over one link; one request at a time.

    ``timeout_s`` bounds the wait for each answer; ``preamble`` FE bytes (0..4) lead each
    request to wake the meter's receiver.
    """

    def __init__(self, link: Link, *, timeout_s: float = 2.0, preamble: int = MAX_PREAMBLE) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if not 0 <= preamble <= MAX_PREAMBLE:
            raise InvalidFrameField(f"preamble must be 0..{MAX_PREAMBLE} FE bytes, got {preamble}")
        self._link = link
        self._timeout_s = timeout_s
        self._preamble = preamble

    @classmethod
    def tcp(
        cls,
        host: str,
        port: int,
        *,
        timeout_s: float = 2.0,
        connect_timeout_s: float = 5.0,
        preamble: int = MAX_PREAMBLE,
    ) -> Dlt645Client:
        """Connect to a meter (or gateway) over TCP; :class:`LinkError` if unreachable."""
        link = TcpLink(host, port, connect_timeout_s=connect_timeout_s)
        return cls(link, timeout_s=timeout_s, preamble=preamble)

    @classmethod
    def serial(
        cls,
        port: str,
        *,
        baudrate: int = 2400,
        bytesize: int = 8,
        parity: str = "E",
        stopbits: float = 1,
        timeout_s: float = 2.0,
        preamble: int = MAX_PREAMBLE,
    ) -> Dlt645Client:
        """Open a serial port (8E1 by default); :class:`LinkError` if it cannot be opened."""
        link = SerialLink(
            port, baudrate=baudrate, bytesize=bytesize, parity=parity, stopbits=stopbits
        )
        return cls(link, timeout_s=timeout_s, preamble=preamble)

    @property
    def link(self) -> Link:
        return self._link

    def send(self, frame: Frame) -> None:
        """Send without waiting for an answer (broadcast time setting, broadcast freeze)."""
        self._link.write(encode(frame, self._preamble))

    def request(self, frame: Frame, *, timeout_s: float | None = None) -> Frame:
        """Send ``frame`` and return the meter's reply to it (normal or abnormal).

        Frames that do not answer this request (an echo on a half-duplex bus, a late answer,
        another meter's reply) and damaged frames are skipped. :class:`MeterNotAnswering` if
        no reply comes within the timeout.
        """
        if is_broadcast(frame.address):
            raise InvalidFrameField(
                "meters never answer the broadcast address 99×6: use send() for broadcasts"
            )
        wait_s = self._timeout_s if timeout_s is None else timeout_s
        self._link.discard_input()
        self._link.write(encode(frame, self._preamble))
        decoder = FrameDecoder()
        deadline = time.monotonic() + wait_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MeterNotAnswering(
                    f"meter {address_to_string(frame.address)} on {self._link.name} did not"
                    f" answer {_function_name(frame.function_code)} within {wait_s:g} s:"
                    " check the address, the link and the baud rate"
                )
            chunk = self._link.read(remaining)
            for item in decoder.feed(chunk):
                if isinstance(item, Frame) and self._answers(frame, item):
                    return item
                log.debug("dlt645 %s: skipped %r while waiting", self._link.name, item)

    @staticmethod
    def _answers(request: Frame, reply: Frame) -> bool:
        return (
            reply.is_reply
            and reply.function_code == request.function_code
            and address_matches(request.address, reply.address)
        )

    def read(self, address: bytes, di: int, *, timeout_s: float | None = None) -> bytes:
        """Read data identifier ``di``; the value bytes after the echoed DI (plain, wire order).

        :class:`MeterRefused` on an abnormal reply, :class:`MeterNotAnswering` on a timeout.
        A reply whose DI differs from the one asked for is a :class:`MeterRefused` too.
        """
        reply = self.request(read_request(address, di), timeout_s=timeout_s)
        who = address_to_string(reply.address)
        self._check_read(reply, di)
        if reply.has_follow_up:
            log.warning(
                "dlt645 meter %s: %08X has follow-up frames; only the first is returned"
                " (use read_all)", who, di
            )
        return reply.data[len(di_to_bytes(di)) :]

    def read_all(
        self, address: bytes, di: int, *, timeout_s: float | None = None, max_frames: int = 64
    ) -> bytes:
        """Read ``di`` and every follow-up frame (function 12) the meter announces; the data
        joined, without the echoed DI and the follow-up sequence bytes."""
        reply = self.request(read_request(address, di), timeout_s=timeout_s)
        self._check_read(reply, di)
        head = di_to_bytes(di)
        out = bytearray(reply.data[4:])
        seq = 0
        while reply.has_follow_up:
            seq += 1
            if seq > max_frames:
                raise MeterRefused(
                    f"meter {address_to_string(reply.address)} announced more than {max_frames}"
                    f" follow-up frames for {di:08X}",
                    ErrorCode.OTHER,
                )
            follow = Frame(address, FunctionCode.READ_FOLLOW_UP, head + bytes((seq,)))
            reply = self.request(follow, timeout_s=timeout_s)
            self._check_read(reply, di)
            if len(reply.data) < 5 or reply.data[-1] != seq:
                raise MeterRefused(
                    f"meter {address_to_string(reply.address)} answered follow-up {seq} of"
                    f" {di:08X} out of sequence",
                    ErrorCode.OTHER,
                )
            out.extend(reply.data[4:-1])
        return bytes(out)

    @staticmethod
    def _check_read(reply: Frame, di: int) -> None:
        who = address_to_string(reply.address)
        if reply.is_abnormal:
            code = reply.data[0] if reply.data else 0
            names = ", ".join(
                flag.name.lower().replace("_", " ")
                for flag in ErrorCode
                if code & flag and flag.name is not None
            )
            raise MeterRefused(
                f"meter {who} refused to read {di:08X}: {names or 'no reason given'}"
                f" (error byte {code:02X})",
                code,
            )
        if len(reply.data) < 4 or di_from_bytes(reply.data[:4]) != di:
            raise MeterRefused(
                f"meter {who} answered a read of {di:08X} with data for another identifier"
                f" ({reply.data[:4][::-1].hex().upper() or 'none'})",
                ErrorCode.OTHER,
            )

    def close(self) -> None:
        self._link.close()

    def __enter__(self) -> Dlt645Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
