"""Asyncio TCP transport for DL/T 645: the shared guarded transport (protocols/tcpserve.py) with
DL/T 645's decoder and dispatch.

The guards (bounded work per loop turn, idle time from the last valid frame, a cap per peer
address, dropping a client that does not read its answers) are tcpserve's; the decoder's
resynchronisation is linear in the bytes whatever they are (frame.py).

Must not know: what frames mean or what to answer (the :class:`FrameHandler` decides, including
whether a damaged frame gets an answer), the meter's data, serial ports.
"""

from __future__ import annotations

from collections.abc import Callable

from meterseal.protocols.dlt645.errors import LinkError
from meterseal.protocols.dlt645.frame import Frame, FrameDecoder
from meterseal.protocols.dlt645.handler import FrameHandler, dispatch
from meterseal.protocols.tcpserve import TURN_BYTES, WRITE_HIGH_WATER, Face, GuardedTcpServer

HandlerFactory = Callable[[], FrameHandler]

FACE = Face(
    name="dlt645", title="DL/T 645", decoder=FrameDecoder, dispatch=dispatch,
    is_frame=lambda item: isinstance(item, Frame), link_error=LinkError,
)

__all__ = ["FACE", "TURN_BYTES", "WRITE_HIGH_WATER", "Dlt645TcpServer", "HandlerFactory"]


class Dlt645TcpServer(GuardedTcpServer):
    """Serve DL/T 645 over TCP; ``handler_factory()`` makes the session of each new connection.

    To share one session between connections, pass ``lambda: session``. Handlers run in the
    event loop and must not block. See :class:`GuardedTcpServer` for the limits.
    """

    def __init__(self, handler_factory: HandlerFactory, host: str = "127.0.0.1", port: int = 0,
                 **limits: object) -> None:
        super().__init__(FACE, handler_factory, host, port, **limits)  # type: ignore[arg-type]
