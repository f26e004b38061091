"""The application services (APDUs) of DL/T 698.45 a meter and a head-end exchange.

Owns: one small immutable class per APDU this meter reads or sends, each with a symmetric codec
(``to_bytes`` / ``from_bytes``), for link management, association and errors. Requests end
with an optional time tag; the server's answers with an optional follow report and an optional
time tag.

    01 LINK-Request (server: login, heartbeat, logout)   81 LINK-Response
    02 CONNECT-Request                                    82 CONNECT-Response
    03 RELEASE-Request                                    83 RELEASE-Response
                                                          EE ERROR-Response (server)

GET, SET, ACTION and REPORT are in access.py, with :func:`~access.decode_apdu`.

PIID (client) and PIID-ACD (server) are one byte: bits 5-0 the service number, bit 7 priority,
bit 6 (server) "access demand". Byte layouts were checked against the PyPI ``dlt698``
package's encoder (tests/test_dlt698_apdu.py).

Must not know: frames, sessions, the meter's objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from meterseal.protocols.dlt698.apdu import (
    FollowReport,
    TimeTag,
    _Part,
    follow_report_bytes,
    read_follow_report,
    read_time_tag,
    time_tag_bytes,
)
from meterseal.protocols.dlt698.axdr import (
    Reader,
    _check_int,
    length_bytes,
)
from meterseal.protocols.dlt698.axdr_time import DateTime
from meterseal.protocols.dlt698.errors import InvalidField

LINK_LOGIN: Final = 0
LINK_HEARTBEAT: Final = 1
LINK_LOGOUT: Final = 2

CONNECT_OK: Final = 0
CONNECT_BAD_PASSWORD: Final = 1
MECHANISM_NULL: Final = 0
MECHANISM_PASSWORD: Final = 1
MECHANISM_SYMMETRY: Final = 2
MECHANISM_SIGNATURE: Final = 3

ERROR_UNREADABLE: Final = 1  # ERROR-Response: the APDU cannot be parsed
ERROR_UNSUPPORTED: Final = 2  # the service is not supported
ERROR_OTHER: Final = 255


def _piid(value: int, what: str = "PIID") -> None:
    _check_int(value, 0, 0xFF, what)


def expect_tag(r: Reader, tag: int, what: str) -> None:
    got = r.u8("APDU tag")
    if got != tag:
        r.pos -= 1
        raise r.fail(f"{what}: APDU type {got:02X}, expected {tag:02X}")


# --------------------------------------------------------------------------------------------
# link management


@dataclass(frozen=True, slots=True)
class LinkRequest(_Part):
    """The server's login, heartbeat or logout (sent with link function 1)."""

    piid: int
    kind: int
    heartbeat_s: int
    at: DateTime
    TAG: ClassVar[int] = 0x01

    def __post_init__(self) -> None:
        _piid(self.piid)
        _check_int(self.kind, 0, 0xFF, "link request type")
        _check_int(self.heartbeat_s, 0, 0xFFFF, "heartbeat period")

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, self.piid, self.kind)) + self.heartbeat_s.to_bytes(2, "big")
            + self.at.body()
        )

    @classmethod
    def read(cls, r: Reader) -> LinkRequest:
        expect_tag(r, cls.TAG, "LinkRequest")
        piid, kind, heartbeat = r.u8("PIID"), r.u8("link type"), r.uint(2, "heartbeat")
        return cls(piid, kind, heartbeat, DateTime.read_body(r, 0))


@dataclass(frozen=True, slots=True)
class LinkResponse(_Part):
    """The master's answer to a login or heartbeat: result, and its three clock readings."""

    piid: int
    result: int
    requested_at: DateTime
    received_at: DateTime
    responded_at: DateTime
    TAG: ClassVar[int] = 0x81

    def __post_init__(self) -> None:
        _piid(self.piid)
        _check_int(self.result, 0, 0xFF, "link result")

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, self.piid, self.result)) + self.requested_at.body()
            + self.received_at.body() + self.responded_at.body()
        )

    @classmethod
    def read(cls, r: Reader) -> LinkResponse:
        expect_tag(r, cls.TAG, "LinkResponse")
        piid, result = r.u8("PIID"), r.u8("link result")
        return cls(piid, result, *(DateTime.read_body(r, 0) for _ in range(3)))


# --------------------------------------------------------------------------------------------
# association


@dataclass(frozen=True, slots=True)
class Association(_Part):
    """The parameters both sides state in CONNECT: protocol version, conformance bits, frame and
    APDU sizes, and the association's timeout."""

    version: int = 0x0016
    protocol: bytes = b"\xff\xff\xf8\x00\x00\x00\x00\x00"
    function: bytes = bytes(16)
    send_frame: int = 1024
    receive_frame: int = 1024
    window: int = 1
    max_apdu: int = 1024
    timeout_s: int = 7200

    def __post_init__(self) -> None:
        for name, hi in (("version", 0xFFFF), ("send_frame", 0xFFFF), ("receive_frame", 0xFFFF),
                         ("window", 0xFF), ("max_apdu", 0xFFFF), ("timeout_s", 0xFFFFFFFF)):
            _check_int(getattr(self, name), 0, hi, name)
        if len(self.protocol) != 8 or len(self.function) != 16:
            raise InvalidField("conformance blocks are 8 (protocol) and 16 (function) bytes")

    def to_bytes(self) -> bytes:
        return (
            self.version.to_bytes(2, "big") + self.protocol + self.function
            + self.send_frame.to_bytes(2, "big") + self.receive_frame.to_bytes(2, "big")
            + bytes((self.window,)) + self.max_apdu.to_bytes(2, "big")
            + self.timeout_s.to_bytes(4, "big")
        )

    @classmethod
    def read(cls, r: Reader) -> Association:
        return cls(
            r.uint(2, "version"), r.take(8, "protocol conformance"),
            r.take(16, "function conformance"), r.uint(2, "send frame size"),
            r.uint(2, "receive frame size"), r.u8("window"), r.uint(2, "APDU size"),
            r.uint(4, "timeout"),
        )


def _octets(r: Reader, what: str) -> bytes:
    return r.take(r.length(what), what)


@dataclass(frozen=True, slots=True)
class ConnectRequest(_Part):
    """CONNECT: the association asked for, and how the client proves who it is (0 public,
    1 password, 2 symmetric, 3 signature)."""

    piid: int
    association: Association = Association()
    mechanism: int = MECHANISM_NULL
    password: str = ""
    secrets: tuple[bytes, ...] = ()  # ciphertext and signature (2, 3)
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x02

    def __post_init__(self) -> None:
        _piid(self.piid)
        if self.mechanism not in (0, 1, 2, 3):
            raise InvalidField(f"connect mechanism must be 0..3, got {self.mechanism}")
        if (self.mechanism == MECHANISM_PASSWORD) != bool(self.password) and self.password:
            raise InvalidField("a password goes with the password mechanism only")
        if len(self.secrets) != (2 if self.mechanism >= MECHANISM_SYMMETRY else 0):
            raise InvalidField("symmetric and signature mechanisms carry two octet-strings")
        if not self.password.isascii():
            raise InvalidField("a connect password is ASCII text (visible-string)")

    def to_bytes(self) -> bytes:
        out = bytes((self.TAG, self.piid)) + self.association.to_bytes() + bytes((self.mechanism,))
        if self.mechanism == MECHANISM_PASSWORD:
            raw = self.password.encode("ascii")
            out += length_bytes(len(raw)) + raw
        for s in self.secrets:
            out += length_bytes(len(s)) + s
        return out + time_tag_bytes(self.time_tag)

    @classmethod
    def read(cls, r: Reader) -> ConnectRequest:
        expect_tag(r, cls.TAG, "ConnectRequest")
        piid = r.u8("PIID")
        association = Association.read(r)
        mechanism = r.u8("connect mechanism")
        password, secrets = "", ()
        if mechanism == MECHANISM_PASSWORD:
            raw = _octets(r, "password")
            if not raw.isascii():
                raise r.fail("password is not ASCII")
            password = raw.decode("ascii")
        elif mechanism in (MECHANISM_SYMMETRY, MECHANISM_SIGNATURE):
            secrets = (_octets(r, "ciphertext"), _octets(r, "signature"))
        elif mechanism != MECHANISM_NULL:
            raise r.fail(f"connect mechanism {mechanism}")
        return cls(piid, association, mechanism, password, secrets, read_time_tag(r))


FACTORY_FIELDS: Final = (4, 4, 6, 4, 6, 8)  # maker, software version, its date, hardware, date, ext


@dataclass(frozen=True, slots=True)
class ConnectResponse(_Part):
    """The meter's answer to CONNECT: who made it (32 ASCII bytes: maker code 4, software
    version 4 and date 6, hardware version 4 and date 6, extension 8), the association it
    grants, and the result (0 granted, 1 wrong password, …)."""

    piid: int
    factory: bytes
    association: Association
    result: int = CONNECT_OK
    follow_report: FollowReport = None
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x82

    def __post_init__(self) -> None:
        _piid(self.piid)
        _check_int(self.result, 0, 0xFF, "connect result")
        if len(self.factory) != sum(FACTORY_FIELDS):
            raise InvalidField(f"factory version is {sum(FACTORY_FIELDS)} bytes")

    @property
    def maker(self) -> str:
        return self.factory[:4].decode("ascii", "replace")

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, self.piid)) + self.factory + self.association.to_bytes()
            + bytes((self.result, 0)) + follow_report_bytes(self.follow_report)
            + time_tag_bytes(self.time_tag)
        )

    @classmethod
    def read(cls, r: Reader) -> ConnectResponse:
        expect_tag(r, cls.TAG, "ConnectResponse")
        piid = r.u8("PIID")
        factory = r.take(sum(FACTORY_FIELDS), "factory version")
        association = Association.read(r)
        result = r.u8("connect result")
        if r.optional("security data"):
            _octets(r, "random number")  # our meter sends none; a foreign one is skipped
            _octets(r, "signature")
        return cls(piid, factory, association, result, read_follow_report(r), read_time_tag(r))


@dataclass(frozen=True, slots=True)
class ReleaseRequest(_Part):
    piid: int
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x03

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, self.piid)) + time_tag_bytes(self.time_tag)

    @classmethod
    def read(cls, r: Reader) -> ReleaseRequest:
        expect_tag(r, cls.TAG, "ReleaseRequest")
        return cls(r.u8("PIID"), read_time_tag(r))


@dataclass(frozen=True, slots=True)
class ReleaseResponse(_Part):
    piid: int
    result: int = 0
    follow_report: FollowReport = None
    time_tag: TimeTag | None = None
    TAG: ClassVar[int] = 0x83

    def to_bytes(self) -> bytes:
        return (
            bytes((self.TAG, self.piid, self.result)) + follow_report_bytes(self.follow_report)
            + time_tag_bytes(self.time_tag)
        )

    @classmethod
    def read(cls, r: Reader) -> ReleaseResponse:
        expect_tag(r, cls.TAG, "ReleaseResponse")
        return cls(r.u8("PIID"), r.u8("release result"), read_follow_report(r), read_time_tag(r))


@dataclass(frozen=True, slots=True)
class ErrorResponse(_Part):
    """The meter's answer to an APDU it cannot read (1) or a service it does not offer (2)."""

    piid: int
    error: int
    TAG: ClassVar[int] = 0xEE

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, self.piid, self.error, 0, 0))

    @classmethod
    def read(cls, r: Reader) -> ErrorResponse:
        expect_tag(r, cls.TAG, "ErrorResponse")
        piid, error = r.u8("PIID"), r.u8("error type")
        read_follow_report(r)
        read_time_tag(r)
        return cls(piid, error)
