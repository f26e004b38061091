"""Errors of the DL/T 698.45 package, each with a message a user can act on.

Owns: the exception classes that frames, A-XDR data, APDUs, transports, the client and the data
catalogue raise, and the DAR codes (data access results) a meter answers with instead of data.

Must not know: anything else.
"""

from __future__ import annotations

from enum import IntEnum


class Dlt698Error(Exception):
    """Base of every error the DL/T 698.45 package raises."""


class InvalidField(Dlt698Error, ValueError):
    """A frame, address, APDU or value was built from something the standard does not allow."""


class CodecError(Dlt698Error, ValueError):
    """Bytes that are not what the codec expected: truncated, an unknown tag or choice, a length
    past the end, trailing bytes. The message names what and where (the byte offset)."""


class LinkError(Dlt698Error, OSError):
    """The link to a meter or a master (TCP connection, serial port) cannot be opened or was
    lost."""


class MeterNotAnswering(Dlt698Error, TimeoutError):
    """No matching reply came within the timeout."""


class MeterRefused(Dlt698Error):
    """The meter answered with a DAR (or refused the association) instead of data."""

    def __init__(self, message: str, dar: int) -> None:
        super().__init__(message)
        self.dar = dar


class Dar(IntEnum):
    """Data access results (DL/T 698.45 DAR): what a meter answers instead of data.

    The numbering is the one two public meter codecs agree on (a meter maker's ``pp_macro.h``
    ENUM_DAR and the PyPI ``dlt698`` package's answers); docs/dlt698.md lists the sources.
    """

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    INTERFACE_CLASS_MISMATCH = 5
    OBJECT_NOT_EXIST = 6
    TYPE_MISMATCH = 7
    OUT_OF_RANGE = 8
    BLOCK_UNAVAILABLE = 9
    SEGMENT_CANCELLED = 10
    NOT_IN_SEGMENT_TRANSFER = 11
    BLOCK_WRITE_CANCELLED = 12
    NO_BLOCK_WRITE = 13
    BLOCK_NUMBER_INVALID = 14
    PASSWORD_OR_UNAUTHORISED = 15
    BAUD_RATE_FIXED = 16
    YEAR_ZONES_EXCEEDED = 17
    DAY_PERIODS_EXCEEDED = 18
    TARIFFS_EXCEEDED = 19
    SECURITY_MISMATCH = 20
    DUPLICATE_RECHARGE = 21
    ESAM_FAILED = 22
    SECURITY_FAILED = 23
    CUSTOMER_MISMATCH = 24
    RECHARGE_COUNT = 25
    HOARDING_LIMIT = 26
    ADDRESS_ERROR = 27
    SYMMETRIC_DECRYPTION = 28
    ASYMMETRIC_DECRYPTION = 29
    SIGNATURE = 30
    METER_SUSPENDED = 31
    TIME_TAG_INVALID = 32
    REQUEST_TIMEOUT = 33
    OTHER = 255


def dar_name(code: int) -> str:
    """A DAR code as words ("object undefined (4)"), also for codes this table lacks."""
    try:
        return f"{Dar(code).name.lower().replace('_', ' ')} ({code})"
    except ValueError:
        return f"DAR {code}"
