"""Object references of DL/T 698.45: OI, OAD, OMD, ROAD, CSD, RCSD and the row selectors (RSD).

Owns: these structures as they appear inside APDUs (untagged: ``to_bytes``/``read``), and as
A-XDR data (tagged wrappers registered with axdr.py). An OAD names an attribute: OI (2 bytes),
attribute (bits 4-0: the attribute number, bits 7-5: its feature, e.g. 1 "at the event's start",
4 "after its end"), and an element index (0: all). An OMD names a method the same way.

Row selectors kept here: 0 (none), 1 (rows whose column equals a value), 2 (rows whose column
lies in [start, end), with an interval), 3 (several selector-2 ranges), 9 (the n-th latest
record), 10 (the latest n records, for a meter set). Others decode to :class:`OtherSelector`
only when their length can be known — they cannot, so a request with one is refused as a codec
error by the caller.

Must not know: the meter's objects and data, APDUs, frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from meterseal.protocols.dlt698.axdr import (
    Data,
    Reader,
    Tag,
    _check_int,
    _Value,
    decode_data,
    length_bytes,
)
from meterseal.protocols.dlt698.errors import InvalidField

FEATURE_SHIFT: Final = 5
ATTRIBUTE_MASK: Final = 0x1F


@dataclass(frozen=True, slots=True, order=True)
class Oad:
    """OAD: object identifier, attribute byte (feature in bits 7-5), element index."""

    oi: int
    attribute: int
    index: int = 0

    def __post_init__(self) -> None:
        _check_int(self.oi, 0, 0xFFFF, "OI")
        _check_int(self.attribute, 0, 0xFF, "attribute")
        _check_int(self.index, 0, 0xFF, "element index")

    @property
    def number(self) -> int:
        """The attribute number without its feature bits."""
        return self.attribute & ATTRIBUTE_MASK

    @property
    def feature(self) -> int:
        return self.attribute >> FEATURE_SHIFT

    @property
    def value(self) -> int:
        """The OAD as one 32-bit number, e.g. 0x301B0200."""
        return self.oi << 16 | self.attribute << 8 | self.index

    @classmethod
    def of(cls, value: int) -> Oad:
        _check_int(value, 0, 0xFFFFFFFF, "OAD")
        return cls(value >> 16, (value >> 8) & 0xFF, value & 0xFF)

    def whole(self) -> Oad:
        """The same attribute, all elements."""
        return Oad(self.oi, self.attribute, 0)

    def to_bytes(self) -> bytes:
        return self.value.to_bytes(4, "big")

    @classmethod
    def read(cls, r: Reader) -> Oad:
        return cls.of(r.uint(4, "OAD"))

    def __str__(self) -> str:
        return f"{self.value:08X}"


@dataclass(frozen=True, slots=True)
class Omd:
    """OMD: object identifier, method number, operation mode."""

    oi: int
    method: int
    mode: int = 0

    def __post_init__(self) -> None:
        _check_int(self.oi, 0, 0xFFFF, "OI")
        _check_int(self.method, 0, 0xFF, "method")
        _check_int(self.mode, 0, 0xFF, "mode")

    def to_bytes(self) -> bytes:
        return self.oi.to_bytes(2, "big") + bytes((self.method, self.mode))

    @classmethod
    def read(cls, r: Reader) -> Omd:
        raw = r.take(4, "OMD")
        return cls(raw[0] << 8 | raw[1], raw[2], raw[3])

    def __str__(self) -> str:
        return f"{self.oi:04X}{self.method:02X}{self.mode:02X}"


@dataclass(frozen=True, slots=True)
class Road:
    """ROAD: an OAD and the OADs associated with it (a frozen or event table's columns)."""

    oad: Oad
    associated: tuple[Oad, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.associated, tuple):
            object.__setattr__(self, "associated", tuple(self.associated))

    def to_bytes(self) -> bytes:
        return (
            self.oad.to_bytes()
            + length_bytes(len(self.associated))
            + b"".join(o.to_bytes() for o in self.associated)
        )

    @classmethod
    def read(cls, r: Reader) -> Road:
        oad = Oad.read(r)
        n = r.count("ROAD")
        return cls(oad, tuple(Oad.read(r) for _ in range(n)))


Csd = Oad | Road  # a column: CHOICE { OAD [0], ROAD [1] }


def csd_bytes(csd: Csd) -> bytes:
    return (b"\x00" if isinstance(csd, Oad) else b"\x01") + csd.to_bytes()


def read_csd(r: Reader) -> Csd:
    choice = r.u8("CSD choice")
    if choice == 0:
        return Oad.read(r)
    if choice == 1:
        return Road.read(r)
    r.pos -= 1
    raise r.fail(f"CSD choice {choice}")


def rcsd_bytes(columns: tuple[Csd, ...]) -> bytes:
    return length_bytes(len(columns)) + b"".join(csd_bytes(c) for c in columns)


def read_rcsd(r: Reader) -> tuple[Csd, ...]:
    n = r.count("RCSD")
    return tuple(read_csd(r) for _ in range(n))


# --------------------------------------------------------------------------------------------
# row selectors (RSD)


@dataclass(frozen=True, slots=True)
class SelectAll:
    """Selector 0: no selection (every row)."""

    NUMBER: ClassVar[int] = 0

    def to_bytes(self) -> bytes:
        return b"\x00"


@dataclass(frozen=True, slots=True)
class Selector1:
    """Selector 1: the rows whose column ``oad`` equals ``value``."""

    oad: Oad
    value: Data
    NUMBER: ClassVar[int] = 1

    def to_bytes(self) -> bytes:
        return b"\x01" + self.oad.to_bytes() + self.value.to_bytes()


@dataclass(frozen=True, slots=True)
class Selector2:
    """Selector 2: the rows whose column ``oad`` lies in [start, end), every ``interval``
    (null: every row)."""

    oad: Oad
    start: Data
    end: Data
    interval: Data
    NUMBER: ClassVar[int] = 2

    def body(self) -> bytes:
        return (
            self.oad.to_bytes() + self.start.to_bytes() + self.end.to_bytes()
            + self.interval.to_bytes()
        )

    def to_bytes(self) -> bytes:
        return b"\x02" + self.body()

    @classmethod
    def read_body(cls, r: Reader, depth: int = 0) -> Selector2:
        d = depth + 1
        return cls(Oad.read(r), decode_data(r, d), decode_data(r, d), decode_data(r, d))


@dataclass(frozen=True, slots=True)
class Selector3:
    """Selector 3: the union of several selector-2 ranges."""

    ranges: tuple[Selector2, ...]
    NUMBER: ClassVar[int] = 3

    def to_bytes(self) -> bytes:
        return b"\x03" + length_bytes(len(self.ranges)) + b"".join(s.body() for s in self.ranges)


@dataclass(frozen=True, slots=True)
class Selector9:
    """Selector 9: the ``last``-th latest record (1: the newest)."""

    last: int
    NUMBER: ClassVar[int] = 9

    def __post_init__(self) -> None:
        _check_int(self.last, 0, 0xFF, "selector 9 record")

    def to_bytes(self) -> bytes:
        return bytes((9, self.last))


Rsd = SelectAll | Selector1 | Selector2 | Selector3 | Selector9


def read_rsd(r: Reader, depth: int = 0) -> Rsd:
    """A row selector; CodecError for a selector this meter does not read (its length cannot be
    known without reading it, so the request is unreadable from there on)."""
    number = r.u8("RSD")
    if number == 0:
        return SelectAll()
    if number == 1:
        return Selector1(Oad.read(r), decode_data(r, depth + 1))
    if number == 2:
        return Selector2.read_body(r, depth)
    if number == 3:
        n = r.count("selector 3")
        return Selector3(tuple(Selector2.read_body(r, depth) for _ in range(n)))
    if number == 9:
        return Selector9(r.u8("selector 9"))
    r.pos -= 1
    raise r.fail(f"row selector {number} (this meter reads selectors 0, 1, 2, 3 and 9)")


# --------------------------------------------------------------------------------------------
# the references as A-XDR data


@dataclass(frozen=True, slots=True)
class OiData(_Value):
    value: int
    TAG: ClassVar[int] = Tag.OI

    def __post_init__(self) -> None:
        _check_int(self.value, 0, 0xFFFF, "OI")

    def body(self) -> bytes:
        return self.value.to_bytes(2, "big")

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> OiData:
        return cls(r.uint(2, "OI"))


@dataclass(frozen=True, slots=True)
class OadData(_Value):
    oad: Oad
    TAG: ClassVar[int] = Tag.OAD

    def body(self) -> bytes:
        return self.oad.to_bytes()

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> OadData:
        return cls(Oad.read(r))


@dataclass(frozen=True, slots=True)
class OmdData(_Value):
    omd: Omd
    TAG: ClassVar[int] = Tag.OMD

    def body(self) -> bytes:
        return self.omd.to_bytes()

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> OmdData:
        return cls(Omd.read(r))


@dataclass(frozen=True, slots=True)
class RoadData(_Value):
    road: Road
    TAG: ClassVar[int] = Tag.ROAD

    def body(self) -> bytes:
        return self.road.to_bytes()

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> RoadData:
        return cls(Road.read(r))


@dataclass(frozen=True, slots=True)
class CsdData(_Value):
    csd: Csd
    TAG: ClassVar[int] = Tag.CSD

    def body(self) -> bytes:
        return csd_bytes(self.csd)

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> CsdData:
        return cls(read_csd(r))


@dataclass(frozen=True, slots=True)
class RcsdData(_Value):
    columns: tuple[Csd, ...]
    TAG: ClassVar[int] = Tag.RCSD

    def body(self) -> bytes:
        return rcsd_bytes(self.columns)

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> RcsdData:
        return cls(read_rcsd(r))


@dataclass(frozen=True, slots=True)
class RsdData(_Value):
    rsd: Rsd
    TAG: ClassVar[int] = Tag.RSD

    def body(self) -> bytes:
        return self.rsd.to_bytes()

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> RsdData:
        return cls(read_rsd(r, depth))


def check_oad_list(oads: object, what: str) -> tuple[Oad, ...]:
    """A tuple of OADs, or InvalidField naming ``what``."""
    out = tuple(oads) if isinstance(oads, list | tuple) else None
    if out is None or not all(isinstance(o, Oad) for o in out):
        raise InvalidField(f"{what} must be a sequence of Oad")
    return out
