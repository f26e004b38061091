"""Data access services of DL/T 698.45: GET, SET, ACTION and REPORT, and the APDU decoder.

Owns: one small immutable class per request and answer a meter and a head-end exchange here,
each with a symmetric codec, and :func:`decode_apdu` (bytes → the class of any APDU of this
package, or :class:`CodecError`).

    05 01/02 GET Normal, NormalList       85 01/02 GET-Response                (GetRequest)
    05 03/04 GET Record, RecordList       85 03/04                   (GetRecordRequest)
    05 05    GET Next                     85 05                        (GetNextRequest)
    06 01    SET-Request-Normal           86 01 SET-Response-Normal
    07 01/02 ACTION Normal, List          87 01/02 ACTION-Response
    08 02    REPORT-Response-Record-List  88 02 REPORT-Notification-Record-List

Must not know: frames, sessions, the meter's objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self

from meterseal.protocols.dlt698.apdu import (
    FollowReport,
    GetRecord,
    ResultNormal,
    ResultRecord,
    TimeTag,
    _Part,
    check_dar,
    follow_report_bytes,
    read_follow_report,
    read_time_tag,
    sequence_bytes,
    time_tag_bytes,
)
from meterseal.protocols.dlt698.axdr import Data, Reader, _check_int, decode_data
from meterseal.protocols.dlt698.errors import CodecError, InvalidField
from meterseal.protocols.dlt698.refs import Oad, Omd
from meterseal.protocols.dlt698.services import (
    ConnectRequest,
    ConnectResponse,
    ErrorResponse,
    LinkRequest,
    LinkResponse,
    ReleaseRequest,
    ReleaseResponse,
)


class _Access(_Part):
    """Base of the classes here: ``from_bytes`` goes through :func:`decode_apdu` (GET's
    requests share one APDU type and differ by their choice byte)."""

    __slots__ = ()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        apdu = decode_apdu(data)
        if not isinstance(apdu, cls):
            raise CodecError(f"expected {cls.__name__}, got {type(apdu).__name__}")
        return apdu


# --------------------------------------------------------------------------------------------
# GET


@dataclass(frozen=True, slots=True)
class GetRequest(_Access):
    """GET-Request Normal (one OAD) or NormalList (``as_list``: several)."""

    piid: int
    oads: tuple[Oad, ...]
    as_list: bool = False
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x05

    def __post_init__(self) -> None:
        _check_int(self.piid, 0, 0xFF, "PIID")
        object.__setattr__(self, "oads", tuple(self.oads))
        if not self.as_list and len(self.oads) != 1:
            raise InvalidField("GET-Request-Normal names exactly one OAD")

    def to_bytes(self) -> bytes:
        if self.as_list:
            body = bytes((self.TAG, 2, self.piid)) + sequence_bytes(self.oads)
        else:
            body = bytes((self.TAG, 1, self.piid)) + self.oads[0].to_bytes()
        return body + time_tag_bytes(self.time_tag)


@dataclass(frozen=True, slots=True)
class GetRecordRequest(_Access):
    """GET-Request Record (one query) or RecordList (``as_list``: several)."""

    piid: int
    records: tuple[GetRecord, ...]
    as_list: bool = False
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x05

    def __post_init__(self) -> None:
        _check_int(self.piid, 0, 0xFF, "PIID")
        object.__setattr__(self, "records", tuple(self.records))
        if not self.as_list and len(self.records) != 1:
            raise InvalidField("GET-Request-Record holds exactly one query")

    def to_bytes(self) -> bytes:
        if self.as_list:
            body = bytes((self.TAG, 4, self.piid)) + sequence_bytes(self.records)
        else:
            body = bytes((self.TAG, 3, self.piid)) + self.records[0].to_bytes()
        return body + time_tag_bytes(self.time_tag)


@dataclass(frozen=True, slots=True)
class GetNextRequest(_Access):
    """GET-Request-Next: the block after ``block`` of an answer split by the application."""

    piid: int
    block: int
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x05

    def __post_init__(self) -> None:
        _check_int(self.piid, 0, 0xFF, "PIID")
        _check_int(self.block, 0, 0xFFFF, "block number")

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, 5, self.piid)) + self.block.to_bytes(2, "big")
            + time_tag_bytes(self.time_tag)
        )


@dataclass(frozen=True, slots=True)
class GetResponse(_Access):
    """GET-Response Normal/NormalList: one result per OAD asked."""

    piid: int
    results: tuple[ResultNormal, ...]
    as_list: bool = False
    follow_report: FollowReport = None
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x85

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))
        if not self.as_list and len(self.results) != 1:
            raise InvalidField("GET-Response-Normal holds exactly one result")

    def to_bytes(self) -> bytes:
        if self.as_list:
            body = bytes((self.TAG, 2, self.piid)) + sequence_bytes(self.results)
        else:
            body = bytes((self.TAG, 1, self.piid)) + self.results[0].to_bytes()
        return body + follow_report_bytes(self.follow_report) + time_tag_bytes(self.time_tag)


@dataclass(frozen=True, slots=True)
class GetRecordResponse(_Access):
    """GET-Response Record/RecordList."""

    piid: int
    results: tuple[ResultRecord, ...]
    as_list: bool = False
    follow_report: FollowReport = None
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x85

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))
        if not self.as_list and len(self.results) != 1:
            raise InvalidField("GET-Response-Record holds exactly one result")

    def to_bytes(self) -> bytes:
        if self.as_list:
            body = bytes((self.TAG, 4, self.piid)) + sequence_bytes(self.results)
        else:
            body = bytes((self.TAG, 3, self.piid)) + self.results[0].to_bytes()
        return body + follow_report_bytes(self.follow_report) + time_tag_bytes(self.time_tag)


@dataclass(frozen=True, slots=True)
class GetNextResponse(_Access):
    """GET-Response-Next carrying a DAR: this meter never splits answers in the application
    layer (the link layer segments them), so a GET-Next is always refused."""

    piid: int
    last: bool
    block: int
    dar: int
    TAG: ClassVar[int] = 0x85

    def __post_init__(self) -> None:
        check_dar(self.dar)
        _check_int(self.block, 0, 0xFFFF, "block number")

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, 5, self.piid, int(self.last))) + self.block.to_bytes(2, "big")
            + bytes((0, self.dar, 0, 0))
        )


# --------------------------------------------------------------------------------------------
# SET and ACTION


@dataclass(frozen=True, slots=True)
class SetRequest(_Access):
    """SET-Request-Normal: write one attribute."""

    piid: int
    oad: Oad
    value: Data
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x06

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, 1, self.piid)) + self.oad.to_bytes() + self.value.to_bytes()
            + time_tag_bytes(self.time_tag)
        )


@dataclass(frozen=True, slots=True)
class SetResponse(_Access):
    piid: int
    oad: Oad
    dar: int
    follow_report: FollowReport = None
    TAG: ClassVar[int] = 0x86

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, 1, self.piid)) + self.oad.to_bytes() + bytes((check_dar(self.dar),))
            + follow_report_bytes(self.follow_report) + b"\x00"
        )


@dataclass(frozen=True, slots=True)
class ActionRequest(_Access):
    """ACTION-Request Normal (one method) or List (``as_list``)."""

    piid: int
    calls: tuple[tuple[Omd, Data], ...]
    as_list: bool = False
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x07

    def __post_init__(self) -> None:
        object.__setattr__(self, "calls", tuple(self.calls))
        if not self.as_list and len(self.calls) != 1:
            raise InvalidField("ACTION-Request-Normal calls exactly one method")

    def to_bytes(self) -> bytes:
        calls = b"".join(omd.to_bytes() + value.to_bytes() for omd, value in self.calls)
        if self.as_list:
            head = bytes((self.TAG, 2, self.piid, len(self.calls)))
        else:
            head = bytes((self.TAG, 1, self.piid))
        return head + calls + time_tag_bytes(self.time_tag)


@dataclass(frozen=True, slots=True)
class ActionResult(_Part):
    omd: Omd
    dar: int = 0
    data: Data | None = None

    def to_bytes(self) -> bytes:
        tail = b"\x00" if self.data is None else b"\x01" + self.data.to_bytes()
        return self.omd.to_bytes() + bytes((check_dar(self.dar),)) + tail

    @classmethod
    def read(cls, r: Reader) -> ActionResult:
        omd, dar = Omd.read(r), r.u8("DAR")
        return cls(omd, dar, decode_data(r) if r.optional("action data") else None)


@dataclass(frozen=True, slots=True)
class ActionResponse(_Access):
    piid: int
    results: tuple[ActionResult, ...]
    as_list: bool = False
    follow_report: FollowReport = None
    TAG: ClassVar[int] = 0x87

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))

    def to_bytes(self) -> bytes:
        if self.as_list:
            body = bytes((self.TAG, 2, self.piid)) + sequence_bytes(self.results)
        else:
            body = bytes((self.TAG, 1, self.piid)) + self.results[0].to_bytes()
        return body + follow_report_bytes(self.follow_report) + b"\x00"


# --------------------------------------------------------------------------------------------
# REPORT


@dataclass(frozen=True, slots=True)
class ReportNotification(_Access):
    """REPORT-Notification-Record-List: rows of record tables the meter pushes (88 02)."""

    piid: int
    results: tuple[ResultRecord, ...]
    TAG: ClassVar[int] = 0x88

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))

    def to_bytes(self) -> bytes:
        # The trailing two bytes: no follow report, no time tag (the PyPI dlt698 encoder and a
        # public terminal's report code both end the APDU so).
        return bytes((self.TAG, 2, self.piid)) + sequence_bytes(self.results) + b"\x00\x00"


@dataclass(frozen=True, slots=True)
class ReportResponse(_Access):
    """REPORT-Response-Record-List: the master confirms the tables it received (08 02)."""

    piid: int
    oads: tuple[Oad, ...]
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x08

    def __post_init__(self) -> None:
        object.__setattr__(self, "oads", tuple(self.oads))

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, 2, self.piid)) + sequence_bytes(self.oads) + time_tag_bytes(
            self.time_tag
        )


# --------------------------------------------------------------------------------------------
# decoding


Apdu = (
    LinkRequest | LinkResponse | ConnectRequest | ConnectResponse | ReleaseRequest
    | ReleaseResponse | ErrorResponse | GetRequest | GetRecordRequest | GetNextRequest
    | GetResponse | GetRecordResponse | GetNextResponse | SetRequest | SetResponse
    | ActionRequest | ActionResponse | ReportNotification | ReportResponse
)


def _seq(r: Reader, read: Callable[[Reader], object], what: str) -> tuple:  # type: ignore[type-arg]
    n = r.count(what)
    return tuple(read(r) for _ in range(n))


def _get(r: Reader) -> Apdu:
    choice, piid = r.u8("GET choice"), r.u8("PIID")
    if choice in (1, 2):
        oads = (Oad.read(r),) if choice == 1 else _seq(r, Oad.read, "OADs")
        return GetRequest(piid, oads, choice == 2, read_time_tag(r))
    if choice in (3, 4):
        records = (GetRecord.read(r),) if choice == 3 else _seq(r, GetRecord.read, "records")
        return GetRecordRequest(piid, records, choice == 4, read_time_tag(r))
    if choice == 5:
        return GetNextRequest(piid, r.uint(2, "block"), read_time_tag(r))
    raise CodecError(f"GET-Request choice {choice}")


def _get_response(r: Reader) -> Apdu:
    choice, piid = r.u8("GET-Response choice"), r.u8("PIID")
    if choice in (1, 2):
        res = (ResultNormal.read(r),) if choice == 1 else _seq(r, ResultNormal.read, "results")
        return GetResponse(piid, res, choice == 2, read_follow_report(r), read_time_tag(r))
    if choice in (3, 4):
        res = (ResultRecord.read(r),) if choice == 3 else _seq(r, ResultRecord.read, "results")
        return GetRecordResponse(piid, res, choice == 4, read_follow_report(r), read_time_tag(r))
    if choice == 5:
        last, block = r.u8("last block"), r.uint(2, "block")
        if r.u8("GET-Next result") != 0:
            raise CodecError("a GET-Next answer with data (this package reads DARs only)")
        dar = r.u8("DAR")
        read_follow_report(r)
        read_time_tag(r)
        return GetNextResponse(piid, bool(last), block, dar)
    raise CodecError(f"GET-Response choice {choice}")


def _action(r: Reader) -> Apdu:
    choice, piid = r.u8("ACTION choice"), r.u8("PIID")
    if choice not in (1, 2):
        raise CodecError(f"ACTION-Request choice {choice}")
    n = 1 if choice == 1 else r.count("methods")
    calls = tuple((Omd.read(r), decode_data(r)) for _ in range(n))
    return ActionRequest(piid, calls, choice == 2, read_time_tag(r))


def _action_response(r: Reader) -> Apdu:
    choice, piid = r.u8("ACTION-Response choice"), r.u8("PIID")
    if choice not in (1, 2):
        raise CodecError(f"ACTION-Response choice {choice}")
    results = (ActionResult.read(r),) if choice == 1 else _seq(r, ActionResult.read, "results")
    follow = read_follow_report(r)
    read_time_tag(r)
    return ActionResponse(piid, results, choice == 2, follow)


def _set(r: Reader) -> Apdu:
    choice, piid = r.u8("SET choice"), r.u8("PIID")
    if choice != 1:
        raise CodecError(f"SET-Request choice {choice} (this meter reads SET-Normal only)")
    return SetRequest(piid, Oad.read(r), decode_data(r), read_time_tag(r))


def _set_response(r: Reader) -> Apdu:
    choice, piid = r.u8("SET-Response choice"), r.u8("PIID")
    if choice != 1:
        raise CodecError(f"SET-Response choice {choice}")
    oad, dar = Oad.read(r), r.u8("DAR")
    follow = read_follow_report(r)
    read_time_tag(r)
    return SetResponse(piid, oad, dar, follow)


def _report(r: Reader) -> Apdu:
    if r.u8("REPORT choice") != 2:
        raise CodecError("REPORT-Notification other than a record list")
    piid = r.u8("PIID-ACD")
    results = _seq(r, ResultRecord.read, "report results")
    read_follow_report(r)
    read_time_tag(r)
    return ReportNotification(piid, results)


def _report_response(r: Reader) -> Apdu:
    if r.u8("REPORT-Response choice") != 2:
        raise CodecError("REPORT-Response other than a record list")
    piid = r.u8("PIID")
    return ReportResponse(piid, _seq(r, Oad.read, "OADs"), read_time_tag(r))


_BY_TAG: dict[int, Callable[[Reader], Apdu]] = {
    0x01: LinkRequest.read,
    0x81: LinkResponse.read,
    0x02: ConnectRequest.read,
    0x82: ConnectResponse.read,
    0x03: ReleaseRequest.read,
    0x83: ReleaseResponse.read,
    0xEE: ErrorResponse.read,
    0x05: _get,
    0x85: _get_response,
    0x06: _set,
    0x86: _set_response,
    0x07: _action,
    0x87: _action_response,
    0x88: _report,
    0x08: _report_response,
}


_SELF_TAGGED = frozenset((0x01, 0x81, 0x02, 0x82, 0x03, 0x83, 0xEE))  # their read() takes the tag


def decode_apdu(data: bytes) -> Apdu:
    """The APDU in ``data`` (exactly one), or CodecError naming what is wrong."""
    r = Reader(bytes(data))
    tag = r.u8("APDU tag")
    read = _BY_TAG.get(tag)
    if read is None:
        raise CodecError(f"APDU type {tag:02X} is not one this package reads")
    if tag in _SELF_TAGGED:
        r.pos = 0
    try:
        apdu = read(r)
    except InvalidField as exc:  # a field the wire allows but the class does not
        raise CodecError(f"APDU {tag:02X}: {exc}") from None
    r.done(f"APDU {tag:02X}")
    return apdu


def encode_apdu(apdu: Apdu) -> bytes:
    return apdu.to_bytes()
