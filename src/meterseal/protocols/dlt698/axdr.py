"""A-XDR data of DL/T 698.45: every value on the wire is a type tag and a body.

Owns: the cursor that reads bodies (:class:`Reader`), the length coding, the type tags, and one
small immutable class per basic type with a symmetric codec — ``to_bytes()`` gives the tag and
the body, ``from_bytes(data)`` takes exactly that back. Integers are big-endian. The calendar
types (date_time_s…) are in axdr_time.py, the object references (OAD, OMD, ROAD, CSD, RSD,
RCSD…) in refs.py; both register their tags here, and the package imports both, so
:func:`decode_data` reads any value.

Decoding is total and bounded: bytes that are not a value raise :class:`CodecError` naming the
offset, never anything else; nesting is limited to :data:`MAX_DEPTH` and a count can never
claim more elements than bytes remain, so a hostile length costs nothing.

Must not know: APDUs, frames, objects of the meter, the firmware. Times are kept as their wire
fields (a meter may send FF for "unspecified"); what they mean as an instant is the catalogue's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final, Protocol, Self

from meterseal.protocols.dlt698.errors import CodecError, InvalidField

MAX_DEPTH: Final = 16


class Tag(IntEnum):
    NULL = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOL = 3
    BIT_STRING = 4
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27
    DATE_TIME_S = 28
    OI = 80
    OAD = 81
    ROAD = 82
    OMD = 83
    TI = 84
    TSA = 85
    MAC = 86
    RN = 87
    SCALER_UNIT = 89
    RSD = 90
    CSD = 91
    RCSD = 96


# --------------------------------------------------------------------------------------------
# reading and writing bodies


class Reader:
    """A cursor over bytes; every read checks that the bytes are there."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    @property
    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def fail(self, what: str) -> CodecError:
        return CodecError(f"{what} at byte {self.pos}")

    def take(self, n: int, what: str = "value") -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.buf):
            raise self.fail(f"{what}: {n} bytes wanted, {self.remaining} left")
        out = self.buf[self.pos : end]
        self.pos = end
        return out

    def u8(self, what: str = "byte") -> int:
        if self.pos >= len(self.buf):
            raise self.fail(f"{what}: no bytes left")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def uint(self, n: int, what: str = "integer") -> int:
        return int.from_bytes(self.take(n, what), "big")

    def sint(self, n: int, what: str = "integer") -> int:
        return int.from_bytes(self.take(n, what), "big", signed=True)

    def length(self, what: str = "length") -> int:
        """An A-XDR length: one byte below 80h, else 8n and n big-endian bytes (n ≤ 4)."""
        first = self.u8(what)
        if first < 0x80:
            return first
        n = first & 0x7F
        if not 1 <= n <= 4:
            raise self.fail(f"{what}: {n}-byte length form")
        return self.uint(n, what)

    def count(self, what: str) -> int:
        """An element count, refused when more elements than bytes remain."""
        n = self.length(what)
        if n > self.remaining:
            raise self.fail(f"{what}: {n} elements claimed, {self.remaining} bytes left")
        return n

    def optional(self, what: str) -> bool:
        flag = self.u8(what)
        if flag > 1:
            raise self.fail(f"{what}: OPTIONAL flag {flag:02X}")
        return flag == 1

    def done(self, what: str) -> None:
        if self.remaining:
            raise self.fail(f"{what}: {self.remaining} bytes left over")


def length_bytes(n: int) -> bytes:
    if n < 0:
        raise InvalidField(f"a length cannot be negative: {n}")
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > 4:
        raise InvalidField(f"length {n} does not fit the A-XDR length form")
    return bytes((0x80 | len(body),)) + body


# --------------------------------------------------------------------------------------------
# the value protocol and the decoder


class Data(Protocol):
    """What every A-XDR value class is."""

    TAG: ClassVar[int]

    def body(self) -> bytes: ...

    def to_bytes(self) -> bytes: ...


_DECODERS: dict[int, type[_Value]] = {}


def decode_data(r: Reader, depth: int = 0) -> Data:
    """One tagged value from ``r``."""
    if depth > MAX_DEPTH:
        raise r.fail(f"data nested deeper than {MAX_DEPTH}")
    tag = r.u8("data tag")
    cls = _DECODERS.get(tag)
    if cls is None:
        r.pos -= 1
        raise r.fail(f"unknown data type {tag}")
    return cls.read_body(r, depth)


def data_from_bytes(data: bytes) -> Data:
    """Exactly one tagged value."""
    r = Reader(bytes(data))
    value = decode_data(r)
    r.done("data")
    return value


class _Value:
    """Base of the value classes: the tagged encoding and the exact decode."""

    __slots__ = ()
    TAG: ClassVar[int]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        tag = cls.__dict__.get("TAG")
        if tag is not None:
            _DECODERS[int(tag)] = cls

    def body(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Self:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        return bytes((self.TAG,)) + self.body()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        r = Reader(bytes(data))
        tag = r.u8("data tag")
        if tag != cls.TAG:
            raise CodecError(f"expected {cls.__name__} (type {cls.TAG}), got type {tag}")
        value = cls.read_body(r, 0)
        r.done(cls.__name__)
        return value


def _check_int(value: object, lo: int, hi: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidField(f"{what} must be an integer in {lo}..{hi}, got {value!r}")


# --------------------------------------------------------------------------------------------
# simple types


@dataclass(frozen=True, slots=True)
class Null(_Value):
    TAG: ClassVar[int] = Tag.NULL

    def body(self) -> bytes:
        return b""

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Null:
        return NULL


NULL: Final = Null()


@dataclass(frozen=True, slots=True)
class Bool(_Value):
    value: bool
    TAG: ClassVar[int] = Tag.BOOL

    def __post_init__(self) -> None:
        if not isinstance(self.value, bool):
            raise InvalidField(f"bool value must be True or False, got {self.value!r}")

    def body(self) -> bytes:
        return b"\x01" if self.value else b"\x00"

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Bool:
        b = r.u8("bool")
        if b > 1:
            r.pos -= 1
            raise r.fail(f"bool byte {b:02X}")
        return cls(b == 1)


class _Int(_Value):
    """Fixed-size integers: SIZE bytes, big-endian, SIGNED or not."""

    __slots__ = ()
    SIZE: ClassVar[int]
    SIGNED: ClassVar[bool]
    value: int

    def __post_init__(self) -> None:
        bits = 8 * self.SIZE
        if self.SIGNED:
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        else:
            lo, hi = 0, (1 << bits) - 1
        _check_int(self.value, lo, hi, type(self).__name__)

    def body(self) -> bytes:
        return self.value.to_bytes(self.SIZE, "big", signed=self.SIGNED)

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Self:
        raw = r.take(cls.SIZE, cls.__name__)
        return cls(int.from_bytes(raw, "big", signed=cls.SIGNED))  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class Integer(_Int):
    value: int
    TAG: ClassVar[int] = Tag.INTEGER
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Long(_Int):
    value: int
    TAG: ClassVar[int] = Tag.LONG
    SIZE: ClassVar[int] = 2
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class DoubleLong(_Int):
    value: int
    TAG: ClassVar[int] = Tag.DOUBLE_LONG
    SIZE: ClassVar[int] = 4
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Long64(_Int):
    value: int
    TAG: ClassVar[int] = Tag.LONG64
    SIZE: ClassVar[int] = 8
    SIGNED: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Unsigned(_Int):
    value: int
    TAG: ClassVar[int] = Tag.UNSIGNED
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class LongUnsigned(_Int):
    value: int
    TAG: ClassVar[int] = Tag.LONG_UNSIGNED
    SIZE: ClassVar[int] = 2
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class DoubleLongUnsigned(_Int):
    value: int
    TAG: ClassVar[int] = Tag.DOUBLE_LONG_UNSIGNED
    SIZE: ClassVar[int] = 4
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Long64Unsigned(_Int):
    value: int
    TAG: ClassVar[int] = Tag.LONG64_UNSIGNED
    SIZE: ClassVar[int] = 8
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Enum(_Int):
    value: int
    TAG: ClassVar[int] = Tag.ENUM
    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Float64(_Value):
    """float64 (IEEE 754, big-endian); compared by its bits, so NaN equals itself."""

    raw: bytes
    TAG: ClassVar[int] = Tag.FLOAT64

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != 8:
            raise InvalidField("a float64 is 8 bytes")

    @property
    def value(self) -> float:
        return float(struct.unpack(">d", self.raw)[0])

    @classmethod
    def of(cls, value: float) -> Float64:
        return cls(struct.pack(">d", value))

    def body(self) -> bytes:
        return self.raw

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Float64:
        return cls(r.take(8, "float64"))


class _Octets(_Value):
    """Length-prefixed octets."""

    __slots__ = ()
    value: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes):
            object.__setattr__(self, "value", bytes(self.value))

    def body(self) -> bytes:
        return length_bytes(len(self.value)) + self.value

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Self:
        n = r.length(cls.__name__)
        return cls(r.take(n, cls.__name__))  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class OctetString(_Octets):
    value: bytes
    TAG: ClassVar[int] = Tag.OCTET_STRING


@dataclass(frozen=True, slots=True)
class Mac(_Octets):
    value: bytes
    TAG: ClassVar[int] = Tag.MAC


@dataclass(frozen=True, slots=True)
class Rn(_Octets):
    value: bytes
    TAG: ClassVar[int] = Tag.RN


@dataclass(frozen=True, slots=True)
class Tsa(_Octets):
    """A target server address as data: its own flag byte and address, length-prefixed."""

    value: bytes
    TAG: ClassVar[int] = Tag.TSA


@dataclass(frozen=True, slots=True)
class VisibleString(_Value):
    value: str
    TAG: ClassVar[int] = Tag.VISIBLE_STRING

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value.isascii():
            raise InvalidField(f"a visible-string is ASCII text, got {self.value!r}")

    def body(self) -> bytes:
        raw = self.value.encode("ascii")
        return length_bytes(len(raw)) + raw

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> VisibleString:
        raw = r.take(r.length("visible-string"), "visible-string")
        if not raw.isascii():
            raise r.fail("visible-string holds non-ASCII bytes")
        return cls(raw.decode("ascii"))


@dataclass(frozen=True, slots=True)
class Utf8String(_Value):
    value: str
    TAG: ClassVar[int] = Tag.UTF8_STRING

    def body(self) -> bytes:
        raw = self.value.encode("utf-8")
        return length_bytes(len(raw)) + raw

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Utf8String:
        raw = r.take(r.length("utf8-string"), "utf8-string")
        try:
            return cls(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise r.fail("utf8-string is not UTF-8") from None


@dataclass(frozen=True, slots=True)
class BitString(_Value):
    """``bits`` bits, first bit in the high bit of the first byte; unused bits are zero."""

    bits: int
    value: bytes
    TAG: ClassVar[int] = Tag.BIT_STRING

    def __post_init__(self) -> None:
        _check_int(self.bits, 0, 0xFFFF, "bit count")
        if not isinstance(self.value, bytes) or len(self.value) != (self.bits + 7) // 8:
            raise InvalidField(f"{self.bits} bits take {(self.bits + 7) // 8} bytes")
        spare = -self.bits % 8
        if spare and self.value[-1] & ((1 << spare) - 1):
            raise InvalidField("the unused bits of a bit-string must be zero")

    def body(self) -> bytes:
        return length_bytes(self.bits) + self.value

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> BitString:
        bits = r.length("bit-string")
        raw = r.take((bits + 7) // 8, "bit-string")
        try:
            return cls(bits, raw)
        except InvalidField as exc:
            raise r.fail(str(exc)) from None


class _Sequence(_Value):
    """array and structure: a count and tagged elements."""

    __slots__ = ()
    items: tuple[Data, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple):
            object.__setattr__(self, "items", tuple(self.items))

    def body(self) -> bytes:
        return length_bytes(len(self.items)) + b"".join(i.to_bytes() for i in self.items)

    @classmethod
    def read_body(cls, r: Reader, depth: int) -> Self:
        n = r.count(cls.__name__)
        return cls(tuple(decode_data(r, depth + 1) for _ in range(n)))  # type: ignore[call-arg]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Data:
        return self.items[i]


@dataclass(frozen=True, slots=True)
class Array(_Sequence):
    items: tuple[Data, ...]
    TAG: ClassVar[int] = Tag.ARRAY


@dataclass(frozen=True, slots=True)
class Structure(_Sequence):
    items: tuple[Data, ...]
    TAG: ClassVar[int] = Tag.STRUCTURE
