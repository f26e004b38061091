"""The record chain over DL/T 698.45: our manufacturer object FFAC (docs/dlt698.md), the same
chain the DL/T 645 face serves under `04 80 AC` (docs/dlt645.md).

Owns the A-XDR of its two attributes: 2, the chain head — structure {entries (long-unsigned),
the newest page's chain_seq (double-long-unsigned), its MAC (octet-string, 8), how many pages
await their seal (long-unsigned)}; 3, the chained pages, newest first — array of structure
{NVM page number (long-unsigned), the page's bytes as the NVM holds them (octet-string), its
seal page's bytes (octet-string, empty when it has none)}. A GET of attribute 3 with element
index n answers the n-th page alone, as `04 80 AC nn` does, so no answer outgrows a frame. What
the bytes mean and how they are verified is protocols/chainproof.py's.

Must not know: frames, sessions, keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, Self

from meterseal.protocols.dlt698.axdr import (
    Data,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
    Structure,
)
from meterseal.protocols.dlt698.errors import InvalidField
from meterseal.protocols.dlt698.values import _Value, as_type, items, u32

OI_MFR_CHAIN: Final = 0xFFAC  # ours: FF + AC, the DL/T 645 vendor block's chain DI1
ATTR_CHAIN_HEAD: Final = 2
ATTR_CHAIN_PAGES: Final = 3
MAC_SIZE: Final = 8
PAGE_MAX: Final = 64  # a journal page
SEAL_MAX: Final = 64


def _u16(value: Data, what: str) -> int:
    return as_type(value, LongUnsigned, what).value


def _octets(value: Data, what: str, most: int) -> bytes:
    raw = as_type(value, OctetString, what).value
    if len(raw) > most:
        raise InvalidField(f"{what}: at most {most} bytes, got {len(raw)}")
    return bytes(raw)


def _check(value: int, bits: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise InvalidField(f"{what} must fit {bits} bits, got {value!r}")


@dataclass(frozen=True, slots=True)
class ChainHead698(_Value):
    """Attribute 2 of FFAC: the chain as the meter holds it."""

    entries: int = 0
    chain_seq: int = 0
    mac: bytes = bytes(MAC_SIZE)
    unsealed: int = 0
    WHAT: ClassVar[str] = "a chain head (FFAC 2)"

    def __post_init__(self) -> None:
        _check(self.entries, 16, "entries")
        _check(self.chain_seq, 32, "chain_seq")
        _check(self.unsealed, 16, "unsealed")
        if not isinstance(self.mac, bytes) or len(self.mac) != MAC_SIZE:
            raise InvalidField(f"a MAC is {MAC_SIZE} bytes, got {self.mac!r}")

    def to_data(self) -> Data:
        return Structure((LongUnsigned(self.entries), DoubleLongUnsigned(self.chain_seq),
                          OctetString(self.mac), LongUnsigned(self.unsealed)))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        entries, seq, mac, unsealed = items(value, Structure, 4, cls.WHAT)
        raw = as_type(mac, OctetString, "MAC").value
        if len(raw) != MAC_SIZE:
            raise InvalidField(f"a MAC is {MAC_SIZE} bytes, got {len(raw)}")
        return cls(_u16(entries, "entries"), u32(seq, "chain_seq"), bytes(raw),
                   _u16(unsealed, "unsealed"))


@dataclass(frozen=True, slots=True)
class ChainPage698(_Value):
    """One element of attribute 3 of FFAC: a chained journal page and its seal."""

    page: int
    data: bytes
    seal: bytes = b""
    WHAT: ClassVar[str] = "a chained page (FFAC 3)"

    def __post_init__(self) -> None:
        _check(self.page, 16, "page")
        for field_, most, what in ((self.data, PAGE_MAX, "page bytes"),
                                   (self.seal, SEAL_MAX, "seal bytes")):
            if not isinstance(field_, bytes) or len(field_) > most:
                raise InvalidField(f"{what}: at most {most} bytes, got {field_!r}")

    def to_data(self) -> Data:
        return Structure((LongUnsigned(self.page), OctetString(self.data),
                          OctetString(self.seal)))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        page, data, seal = items(value, Structure, 3, cls.WHAT)
        return cls(_u16(page, "page"), _octets(data, "page bytes", PAGE_MAX),
                   _octets(seal, "seal bytes", SEAL_MAX))
