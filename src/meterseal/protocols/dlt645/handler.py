"""The contract between DL/T 645 transports and the sans-I/O session they drive.

Owns: :class:`FrameHandler` (what a session offers a transport) and :func:`dispatch`, the one
place where a transport hands decoded frames and errors to it and survives its failures.

Must not know: sockets, serial ports, threads or event loops (transports own those), and what a
session answers (the session owns that).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from meterseal.protocols.dlt645.frame import Frame, FrameError

log = logging.getLogger(__name__)


class FrameHandler(Protocol):
    """A sans-I/O session: frames in, bytes to send back out.

    Both methods return the exact bytes to put on the line (encoded frames, preamble
    included, in order); an empty list means stay silent. They must not block: a transport
    calls them from its event loop or reading thread.
    """

    def handle(self, frame: Frame) -> list[bytes]:
        """Answer one well-formed frame (any address: matching it is the session's job)."""
        ...

    def handle_error(self, error: FrameError) -> list[bytes]:
        """Answer (usually: ignore) a damaged frame the decoder dropped."""
        ...


def dispatch(
    handler: FrameHandler, items: Iterable[Frame | FrameError], peer: str = "?"
) -> list[bytes]:
    """Feed decoded items to ``handler`` in order; what to send back.

    An exception from the handler is logged with its traceback and costs only the answer to
    that one item: the connection and the server go on.
    """
    out: list[bytes] = []
    for item in items:
        try:
            if isinstance(item, Frame):
                replies = list(handler.handle(item) or ())
            else:
                log.debug("dlt645 %s: %s", peer, item)
                replies = list(handler.handle_error(item) or ())
        except Exception:
            log.exception("dlt645 %s: handler failed on %r; no answer sent", peer, item)
            continue
        for reply in replies:
            if not isinstance(reply, bytes | bytearray | memoryview):
                log.error(
                    "dlt645 %s: handler returned %s instead of bytes for %r; dropped",
                    peer,
                    type(reply).__name__,
                    item,
                )
                continue
            out.append(bytes(reply))
    return out
