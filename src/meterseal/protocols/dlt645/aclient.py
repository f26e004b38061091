"""DL/T 645 client side for asyncio: the same exchange as client.py over asyncio streams, so a
head-end can talk to many gateways at once from one event loop.

Owns: connecting (with a timeout), sending a request with its wake-up preamble, picking the
reply that answers it — bit 7, same function, an address the request matched and, for a read,
the same DI, so that a late answer to an earlier request is skipped rather than taken — and
:class:`MeterNotAnswering` on a timeout; follow-up frames (12) for a long value. A serial port
is driven through the blocking client in a worker thread (:class:`ThreadedClient`).

Must not know: what the data means (the head-end decodes it), the meter side.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from meterseal.protocols.dlt645.client import Dlt645Client, _function_name
from meterseal.protocols.dlt645.errors import LinkError, MeterNotAnswering, MeterRefused
from meterseal.protocols.dlt645.frame import (
    MAX_PREAMBLE,
    ErrorCode,
    Frame,
    FrameDecoder,
    FunctionCode,
    address_to_string,
    di_to_bytes,
    encode,
    read_request,
)


class AsyncClient(Protocol):
    """What a head-end asks of a link to a meter or a bus of meters."""

    name: str

    async def read(self, address: bytes, di: int) -> bytes: ...

    async def read_all(self, address: bytes, di: int) -> bytes: ...

    async def request(self, frame: Frame) -> Frame: ...

    async def close(self) -> None: ...


class AsyncDlt645Client:
    """Ask meters over one TCP connection; one request at a time (callers hold the bus)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str,
                 *, timeout_s: float = 2.0, preamble: int = MAX_PREAMBLE) -> None:
        self._reader = reader
        self._writer = writer
        self.name = name
        self._timeout_s = timeout_s
        self._preamble = preamble
        self._decoder = FrameDecoder()

    @classmethod
    async def tcp(cls, host: str, port: int, *, timeout_s: float = 2.0,
                  connect_timeout_s: float = 5.0,
                  preamble: int = MAX_PREAMBLE) -> AsyncDlt645Client:
        """Connect; :class:`LinkError` if the endpoint cannot be reached in time."""
        name = f"tcp://{host}:{port}"
        try:
            async with asyncio.timeout(connect_timeout_s):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            raise LinkError(f"cannot connect to {name}: no answer within {connect_timeout_s:g} s"
                            ) from None
        except OSError as exc:
            raise LinkError(f"cannot connect to {name}: {exc.strerror or exc}") from exc
        return cls(reader, writer, name, timeout_s=timeout_s, preamble=preamble)

    async def request(self, frame: Frame) -> Frame:
        """Send ``frame``; the reply that answers it. Stale and foreign frames are skipped."""
        self._decoder = FrameDecoder()  # what an earlier, abandoned exchange left is dropped
        try:
            self._writer.write(encode(frame, self._preamble))
            async with asyncio.timeout(self._timeout_s):
                while True:
                    chunk = await self._reader.read(4096)
                    if not chunk:
                        raise LinkError(f"{self.name} closed the connection")
                    for item in self._decoder.feed(chunk):
                        if isinstance(item, Frame) and _answers(frame, item):
                            return item
        except TimeoutError:
            raise MeterNotAnswering(
                f"meter {address_to_string(frame.address)} on {self.name} did not answer"
                f" {_function_name(frame.function_code)} within {self._timeout_s:g} s"
            ) from None
        except (ConnectionError, OSError) as exc:
            if isinstance(exc, LinkError):
                raise
            raise LinkError(f"lost the connection to {self.name}: {exc}") from exc

    async def read(self, address: bytes, di: int) -> bytes:
        """The value bytes of ``di`` (first frame only); MeterRefused on an abnormal reply."""
        reply = await self.request(read_request(address, di))
        Dlt645Client._check_read(reply, di)
        return reply.data[4:]

    async def read_all(self, address: bytes, di: int, *, max_frames: int = 64) -> bytes:
        """``di`` with every follow-up frame (12), joined."""
        reply = await self.request(read_request(address, di))
        Dlt645Client._check_read(reply, di)
        out = bytearray(reply.data[4:])
        head = di_to_bytes(di)
        seq = 0
        while reply.has_follow_up:
            seq += 1
            if seq > max_frames:
                raise MeterRefused(f"meter {address_to_string(address)} announced more than"
                                   f" {max_frames} follow-up frames for {di:08X}",
                                   ErrorCode.OTHER)
            reply = await self.request(Frame(address, FunctionCode.READ_FOLLOW_UP,
                                             head + bytes((seq,))))
            Dlt645Client._check_read(reply, di)
            if len(reply.data) < 5 or reply.data[-1] != seq:
                raise MeterRefused(f"meter {address_to_string(address)} answered follow-up {seq}"
                                   f" of {di:08X} out of sequence", ErrorCode.OTHER)
            out.extend(reply.data[4:-1])
        return bytes(out)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


def _answers(request: Frame, reply: Frame) -> bool:
    if not (reply.is_reply and reply.function_code == request.function_code):
        return False
    if not Dlt645Client._answers(request, reply):
        return False
    if request.function_code in (FunctionCode.READ, FunctionCode.READ_FOLLOW_UP) \
            and not reply.is_abnormal:
        return reply.data[:4] == request.data[:4]  # a late answer to another DI is not this one
    return True


class ThreadedClient:
    """A blocking :class:`Dlt645Client` (a serial port) driven from asyncio in a worker thread."""

    def __init__(self, client: Dlt645Client) -> None:
        self._client = client
        self.name = client.link.name

    async def request(self, frame: Frame) -> Frame:
        return await asyncio.to_thread(self._client.request, frame)

    async def read(self, address: bytes, di: int) -> bytes:
        return await asyncio.to_thread(self._client.read, address, di)

    async def read_all(self, address: bytes, di: int) -> bytes:
        return await asyncio.to_thread(self._client.read_all, address, di)

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)
