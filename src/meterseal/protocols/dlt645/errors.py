"""Errors of the DL/T 645 package, each with a message a user can act on.

Owns: the exception classes that frames, transports, the client and the data catalogue raise
(the decoder's :class:`~meterseal.protocols.dlt645.frame.FrameError` family lives beside the
decoder).

Must not know: anything else.
"""

from __future__ import annotations


class Dlt645Error(Exception):
    """Base of every error the DL/T 645 package raises."""


class InvalidFrameField(Dlt645Error, ValueError):
    """A frame, address or data identifier was built from a value the standard does not allow."""


class CatalogError(Dlt645Error, ValueError):
    """A value's bytes are not what the data catalogue says they are: wrong length, a nibble that
    is not BCD, an impossible date, fields that contradict each other. The message names which."""


class LinkError(Dlt645Error, OSError):
    """The link to a meter (TCP connection, serial port) cannot be opened or was lost."""


class MeterNotAnswering(Dlt645Error, TimeoutError):
    """No matching reply came within the timeout."""


class MeterRefused(Dlt645Error):
    """The meter answered with an abnormal reply (bits 7 and 6): it refused the request."""

    def __init__(self, message: str, error: int) -> None:
        super().__init__(message)
        self.error = error
