"""The DL/T 645 data catalogue, part four: the record chain served under our vendor block.

Owns the byte layout of the chain head (``04 80 AC 00``) and of one chained page
(``04 80 AC 01``…): binary, little-endian, not BCD, because they carry the NVM's own bytes and
MACs (docs/dlt645.md). What the bytes mean and how they are verified is chainproof.py's.

Must not know: frames, sessions, keys, the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from meterseal.protocols.dlt645.values import check_uint, expect_length

PAGE_FIELD = 64  # a journal page, as the NVM holds it (zero-padded after its CRC)
SEAL_FIELD = 27  # its seal page (zeros: none)
MAC_FIELD = 8


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The chain as the meter holds it: how many chained pages it serves, the chain_seq and
    MAC of the newest (zeros while that one awaits its seal), how many await their seal."""

    entries: int = 0
    chain_seq: int = 0
    mac: bytes = bytes(MAC_FIELD)
    unsealed: int = 0

    LENGTH: ClassVar[int] = 16
    WHAT: ClassVar[str] = "a chain head"

    def __post_init__(self) -> None:
        check_uint(self.entries, 1 << 16, "entries")
        check_uint(self.chain_seq, 1 << 32, "chain_seq")
        check_uint(self.unsealed, 1 << 16, "unsealed")
        if len(self.mac) != MAC_FIELD:
            raise ValueError(f"a MAC is {MAC_FIELD} bytes")

    def to_bytes(self) -> bytes:
        return (self.entries.to_bytes(2, "little") + self.chain_seq.to_bytes(4, "little")
                + self.mac + self.unsealed.to_bytes(2, "little"))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        return cls(int.from_bytes(data[0:2], "little"), int.from_bytes(data[2:6], "little"),
                   bytes(data[6:14]), int.from_bytes(data[14:16], "little"))


@dataclass(frozen=True, slots=True)
class ChainPage:
    """One chained journal page: its page number, its 64 bytes as the NVM holds them, its seal
    page's bytes (b"" when it has none). Page number 0 (and no bytes): no such entry."""

    page: int = 0
    data: bytes = b""
    seal: bytes = b""

    LENGTH: ClassVar[int] = 2 + PAGE_FIELD + SEAL_FIELD
    WHAT: ClassVar[str] = "a chained page"

    def __post_init__(self) -> None:
        check_uint(self.page, 1 << 16, "page")
        if len(self.data) != (PAGE_FIELD if self.page else 0):
            raise ValueError(f"a page is {PAGE_FIELD} bytes (none for entry 0)")
        if len(self.seal) not in (0, SEAL_FIELD) or (self.seal and not any(self.seal)):
            raise ValueError(f"a seal is {SEAL_FIELD} bytes, not all zero, or none")

    @property
    def is_empty(self) -> bool:
        return self.page == 0

    def to_bytes(self) -> bytes:
        return (self.page.to_bytes(2, "little") + self.data + bytes(PAGE_FIELD - len(self.data))
                + (self.seal or bytes(SEAL_FIELD)))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        expect_length(data, cls.LENGTH, cls.WHAT)
        page = int.from_bytes(data[0:2], "little")
        seal = bytes(data[2 + PAGE_FIELD:])
        return cls(page, bytes(data[2:2 + PAGE_FIELD]) if page else b"",
                   seal if any(seal) else b"")
