"""DL/T 645-2007, the meter's native face: frame codec, sans-I/O sessions, thin transports.

``frame`` is the codec; ``catalog``, ``values`` and ``events`` the data catalogue (every value a
meter serves as a class with to_bytes/from_bytes, and the DI table); ``session`` answers as a
meter (sans-I/O, against the MeterModel of ``model``; what each DI answers is ``answers``'s);
``tcp`` and ``serial`` (needs pyserial) serve a session; ``client`` asks meters. The meter's
identifiers: docs/dlt645.md.
"""

from meterseal.protocols.dlt645.catalog import TABLE, DataItem, decode_as, lookup
from meterseal.protocols.dlt645.client import Dlt645Client, SerialLink, TcpLink
from meterseal.protocols.dlt645.errors import (
    CatalogError,
    Dlt645Error,
    InvalidFrameField,
    LinkError,
    MeterNotAnswering,
    MeterRefused,
)
from meterseal.protocols.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    BadChecksum,
    BadEnd,
    BadLength,
    BadSecondStart,
    ErrorCode,
    Frame,
    FrameDecoder,
    FrameError,
    FunctionCode,
    NotOneFrame,
    Truncated,
    abnormal_reply,
    address_from_string,
    address_matches,
    address_to_string,
    decode,
    di_from_bytes,
    di_to_bytes,
    encode,
    is_broadcast,
    normal_reply,
    read_request,
)
from meterseal.protocols.dlt645.handler import FrameHandler, dispatch
from meterseal.protocols.dlt645.tcp import Dlt645TcpServer

__all__ = [
    "BROADCAST_ADDRESS",
    "TABLE",
    "WILDCARD_ADDRESS",
    "BadChecksum",
    "BadEnd",
    "BadLength",
    "BadSecondStart",
    "CatalogError",
    "DataItem",
    "Dlt645Client",
    "Dlt645Error",
    "Dlt645TcpServer",
    "ErrorCode",
    "Frame",
    "FrameDecoder",
    "FrameError",
    "FrameHandler",
    "FunctionCode",
    "InvalidFrameField",
    "LinkError",
    "MeterNotAnswering",
    "MeterRefused",
    "NotOneFrame",
    "SerialLink",
    "TcpLink",
    "Truncated",
    "abnormal_reply",
    "address_from_string",
    "address_matches",
    "address_to_string",
    "decode",
    "decode_as",
    "di_from_bytes",
    "di_to_bytes",
    "dispatch",
    "encode",
    "is_broadcast",
    "lookup",
    "normal_reply",
    "read_request",
]
