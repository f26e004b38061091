"""The contract between DL/T 698.45 transports and the sans-I/O session they drive.

Owns: :class:`FrameHandler` (what a session offers a transport) and :func:`dispatch`, the one
place where a transport hands decoded frames to it and survives its failures.

Must not know: sockets, serial ports, threads or event loops (transports own those), and what a
session answers (the session owns that).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from meterseal.protocols.dlt698.frame import Frame

log = logging.getLogger(__name__)


class FrameHandler(Protocol):
    """A sans-I/O session: frames in, bytes to send back out.

    ``handle`` returns the exact bytes to put on the line (encoded frames, preamble included, in
    order); an empty list means stay silent. It must not block. Damaged frames never reach it:
    the decoder drops and counts them.
    """

    def handle(self, frame: Frame) -> list[bytes]: ...


def dispatch(handler: FrameHandler, frames: Iterable[Frame], peer: str = "?") -> list[bytes]:
    """Feed frames to ``handler`` in order; what to send back.

    An exception from the handler is logged with its traceback and costs only the answer to
    that one frame: the connection and the server go on.
    """
    out: list[bytes] = []
    for frame in frames:
        try:
            replies = handler.handle(frame)
        except Exception:
            log.exception("dlt698 %s: handler failed on %r; no answer sent", peer, frame)
            continue
        for reply in replies or ():
            if isinstance(reply, bytes | bytearray | memoryview):
                out.append(bytes(reply))
            else:
                log.error("dlt698 %s: handler returned %s instead of bytes; dropped", peer,
                          type(reply).__name__)
    return out
