"""The parts APDUs of DL/T 698.45 are built from: time tags, results, record rows, follow
reports, and the record query.

Owns: each of them as a small immutable class with a symmetric codec (``to_bytes`` and
``read(r)`` from a :class:`~meterseal.protocols.dlt698.axdr.Reader`; ``from_bytes`` for a whole
buffer). The services that use them are in services.py.

Layouts (no type tags unless a Data is named)::

    TimeTag      OPTIONAL: 01 | date_time_s (7) | TI (3)          absent: 00
    ResultNormal OAD | 01 Data  or  00 DAR
    ResultRecord OAD | RCSD | 01 count rows (each: one Data per column)  or  00 DAR
    FollowReport OPTIONAL: 01 | 01 SEQUENCE OF ResultNormal  or  02 SEQUENCE OF ResultRecord
    GetRecord    OAD | RSD | RCSD

Must not know: frames, sessions, the meter's objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from meterseal.protocols.dlt698.axdr import (
    Data,
    Reader,
    decode_data,
    length_bytes,
)
from meterseal.protocols.dlt698.axdr_time import DateTimeS, Ti
from meterseal.protocols.dlt698.errors import CodecError, InvalidField
from meterseal.protocols.dlt698.refs import (
    Csd,
    Oad,
    Rsd,
    rcsd_bytes,
    read_rcsd,
    read_rsd,
)


class _Part:
    """Base: ``from_bytes`` reads exactly one part."""

    __slots__ = ()

    def to_bytes(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def read(cls, r: Reader) -> Self:
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        r = Reader(bytes(data))
        part = cls.read(r)
        r.done(cls.__name__)
        return part


def check_dar(dar: int) -> int:
    if isinstance(dar, bool) or not isinstance(dar, int) or not 0 <= dar <= 0xFF:
        raise InvalidField(f"a DAR is 0..255, got {dar!r}")
    return dar


@dataclass(frozen=True, slots=True)
class TimeTag(_Part):
    """When the request was sent and how long it may take to arrive."""

    sent_at: DateTimeS
    delay: Ti

    def to_bytes(self) -> bytes:
        return self.sent_at.body() + self.delay.body()

    @classmethod
    def read(cls, r: Reader) -> TimeTag:
        return cls(DateTimeS.read_body(r, 0), Ti.read_body(r, 0))


def time_tag_bytes(tag: TimeTag | None) -> bytes:
    return b"\x00" if tag is None else b"\x01" + tag.to_bytes()


def read_time_tag(r: Reader) -> TimeTag | None:
    return TimeTag.read(r) if r.optional("time tag") else None


@dataclass(frozen=True, slots=True)
class ResultNormal(_Part):
    """One attribute's answer: its data, or the DAR saying why not."""

    oad: Oad
    data: Data | None = None
    dar: int = 0

    def __post_init__(self) -> None:
        check_dar(self.dar)
        if (self.data is None) == (self.dar == 0):
            raise InvalidField("a result holds data, or a non-zero DAR, not both")

    def to_bytes(self) -> bytes:
        head = self.oad.to_bytes()
        if self.data is None:
            return head + bytes((0, self.dar))
        return head + b"\x01" + self.data.to_bytes()

    @classmethod
    def read(cls, r: Reader) -> ResultNormal:
        oad = Oad.read(r)
        choice = r.u8("Get-Result")
        if choice == 0:
            dar = r.u8("DAR")
            if dar == 0:
                raise r.fail("DAR 0 (success) given instead of data")
            return cls(oad, None, dar)
        if choice == 1:
            return cls(oad, decode_data(r))
        raise r.fail(f"Get-Result choice {choice}")


@dataclass(frozen=True, slots=True)
class ResultRecord(_Part):
    """A record table's answer: the columns, and the rows (one Data per column) or a DAR."""

    oad: Oad
    columns: tuple[Csd, ...]
    rows: tuple[tuple[Data, ...], ...] | None = ()
    dar: int = 0

    def __post_init__(self) -> None:
        check_dar(self.dar)
        if (self.rows is None) == (self.dar == 0):
            raise InvalidField("a record result holds rows, or a non-zero DAR, not both")
        if self.rows is not None:
            for row in self.rows:
                if len(row) != len(self.columns):
                    raise InvalidField(
                        f"a row of {len(row)} values under {len(self.columns)} columns"
                    )

    def to_bytes(self) -> bytes:
        head = self.oad.to_bytes() + rcsd_bytes(self.columns)
        if self.rows is None:
            return head + bytes((0, self.dar))
        body = b"".join(v.to_bytes() for row in self.rows for v in row)
        return head + b"\x01" + length_bytes(len(self.rows)) + body

    @classmethod
    def read(cls, r: Reader) -> ResultRecord:
        oad = Oad.read(r)
        columns = read_rcsd(r)
        choice = r.u8("record result")
        if choice == 0:
            dar = r.u8("DAR")
            if dar == 0:
                raise r.fail("DAR 0 (success) given instead of rows")
            return cls(oad, columns, None, dar)
        if choice != 1:
            raise r.fail(f"record result choice {choice}")
        n = r.count("record rows")
        if n and not columns:
            raise r.fail("rows without columns")
        rows = tuple(tuple(decode_data(r) for _ in columns) for _ in range(n))
        return cls(oad, columns, rows)


FollowReport = tuple[ResultNormal, ...] | tuple[ResultRecord, ...] | None


def follow_report_bytes(report: FollowReport) -> bytes:
    if not report:
        return b"\x00"
    kind = b"\x01" if isinstance(report[0], ResultNormal) else b"\x02"
    return b"\x01" + kind + length_bytes(len(report)) + b"".join(p.to_bytes() for p in report)


def read_follow_report(r: Reader) -> FollowReport:
    if not r.optional("follow report"):
        return None
    kind = r.u8("follow report choice")
    if kind not in (1, 2):
        raise r.fail(f"follow report choice {kind}")
    n = r.count("follow report")
    if kind == 1:
        return tuple(ResultNormal.read(r) for _ in range(n))
    return tuple(ResultRecord.read(r) for _ in range(n))


@dataclass(frozen=True, slots=True)
class GetRecord(_Part):
    """A record query: which table, which rows (RSD), which columns (RCSD; empty: all)."""

    oad: Oad
    rows: Rsd
    columns: tuple[Csd, ...] = ()

    def to_bytes(self) -> bytes:
        return self.oad.to_bytes() + self.rows.to_bytes() + rcsd_bytes(self.columns)

    @classmethod
    def read(cls, r: Reader) -> GetRecord:
        return cls(Oad.read(r), read_rsd(r), read_rcsd(r))


def sequence_bytes(parts: tuple[_Part, ...] | tuple[Oad, ...]) -> bytes:
    return length_bytes(len(parts)) + b"".join(p.to_bytes() for p in parts)


def expect(condition: bool, r: Reader, what: str) -> None:
    if not condition:
        raise CodecError(f"{what} at byte {r.pos}")
