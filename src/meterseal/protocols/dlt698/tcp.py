"""Asyncio TCP transport for DL/T 698.45: the shared guarded transport (protocols/tcpserve.py)
with DL/T 698.45's decoder and dispatch.

Must not know: what frames mean or what to answer (the :class:`FrameHandler` decides), the
meter's data, serial ports.
"""

from __future__ import annotations

from collections.abc import Callable

from meterseal.protocols.dlt698.errors import LinkError
from meterseal.protocols.dlt698.frame import FrameDecoder
from meterseal.protocols.dlt698.handler import FrameHandler, dispatch
from meterseal.protocols.tcpserve import Face, GuardedTcpServer

HandlerFactory = Callable[[], FrameHandler]

# The DL/T 698.45 decoder yields frames only (rejections are counted, not returned).
FACE = Face(
    name="dlt698", title="DL/T 698.45", decoder=FrameDecoder, dispatch=dispatch,
    is_frame=lambda item: True, link_error=LinkError,
)

__all__ = ["FACE", "Dlt698TcpServer", "HandlerFactory"]


class Dlt698TcpServer(GuardedTcpServer):
    """Serve DL/T 698.45 over TCP; ``handler_factory()`` makes each connection's session."""

    def __init__(self, handler_factory: HandlerFactory, host: str = "127.0.0.1", port: int = 0,
                 **limits: object) -> None:
        super().__init__(FACE, handler_factory, host, port, **limits)  # type: ignore[arg-type]
