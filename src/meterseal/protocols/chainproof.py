"""Verifying a meter's record chain with its key: which records are intact, which fail and why.

Owns the reader's side of the chain (firmware/chain.py documents the trailer, the seal page and
what a MAC covers): every chained page's MAC is recomputed here with Python's own hmac (not the
firmware's construction, so the two check each other), and the links between pages are walked:
a page whose predecessor should still be held but is not, or is older than the chain says, was
deleted or put back; a page whose MAC fails was rewritten, moved or forged. A page that still
awaits its seal (written on backup without its MAC) is listed as not yet verifiable, never as
good. Deleting the newest records of all is visible only against a head the reader saw before
(``expect_seq``): nothing in an image can vouch for its own end.

Must not know: frames, sockets, the simulator. Reads pages with the firmware's record codec.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from meterseal.firmware.authlog import TAG_BROADCAST, TAG_TIME_SET
from meterseal.firmware.chain import KEY_LABEL, MAC_SIZE, NO_MAC, decode_seal, mac_input, read_link
from meterseal.firmware.layout import (
    TAG_COVER_CLOSE,
    TAG_COVER_OPEN,
    TAG_EVENT_CLEAR,
    TAG_EVENT_CLEAR_T,
    TAG_FREEZE,
    TAG_PD_END,
    TAG_PD_START,
    TAG_REPORT,
    TAG_TERMINAL_CLOSE,
    TAG_TERMINAL_OPEN,
    TAG_TERMINAL_REPORT,
)

_KINDS = {
    TAG_COVER_OPEN: "cover-open {} (opening)",
    TAG_COVER_CLOSE: "cover-open {} (closing)",
    TAG_PD_START: "power-down {} (start)",
    TAG_PD_END: "power-down {} (end)",
    TAG_EVENT_CLEAR: "event clear {}",
    TAG_REPORT: "report status of cover-open {}",
    TAG_FREEZE: "daily freeze {}",
    TAG_TERMINAL_OPEN: "terminal-cover-open {} (opening)",
    TAG_TERMINAL_CLOSE: "terminal-cover-open {} (closing)",
    TAG_TERMINAL_REPORT: "report status of terminal-cover-open {}",
    TAG_EVENT_CLEAR_T: "event clear {}",
    TAG_TIME_SET: "time-setting record {}",
    TAG_BROADCAST: "broadcast-time record {}",
}


@dataclass(frozen=True, slots=True)
class Failure:
    page: int
    chain_seq: int  # 0 when the page holds no readable chain
    record: str  # what the page holds, as a revenue-protection engineer names it
    problem: str

    def line(self) -> str:
        at = f"chain {self.chain_seq}, " if self.chain_seq else ""
        return f"{self.record} ({at}NVM page {self.page}): {self.problem}"


@dataclass(slots=True)
class ChainVerdict:
    verified: list[str] = field(default_factory=list)  # names, newest first
    late_sealed: list[str] = field(default_factory=list)  # verified through a seal
    unsealed: list[str] = field(default_factory=list)  # awaiting their seal: not verifiable
    failures: list[Failure] = field(default_factory=list)
    head_seq: int = 0

    @property
    def clean(self) -> bool:
        return not self.failures


def record_name(page: int, data: bytes) -> str:
    """What a page holds, from its tag and seq alone (also when it fails every check)."""
    if len(data) >= 5 and data[0] in _KINDS:
        return _KINDS[data[0]].format(int.from_bytes(data[1:5], "little"))
    return f"unreadable page {page}"


def chain_key(meter_key: bytes) -> bytes:
    return hmac.new(meter_key, KEY_LABEL, hashlib.sha256).digest()


@dataclass(slots=True)
class _Entry:
    page: int
    name: str
    link: object  # firmware chain.Link
    chain_seq: int
    prev_page: int
    prev: bytes | None = None  # the MAC this page chains over, when known
    mac: bytes | None = None  # its own MAC, when verified


def verify_chain(pages: Iterable[tuple[int, bytes, bytes]], meter_key: bytes,
                 expect_seq: int = 0) -> ChainVerdict:
    """Check every (page number, page bytes, seal bytes or b"") the meter served."""
    key = chain_key(meter_key)
    v = ChainVerdict()
    by_page: dict[int, _Entry] = {}
    by_seq: dict[int, _Entry] = {}
    for page, data, seal in pages:
        e = _check_page(key, page, bytes(data), bytes(seal), v)
        if e is None:
            continue
        if e.chain_seq in by_seq:
            v.failures.append(Failure(page, e.chain_seq, e.name,
                                      "a second record claims the same place in the chain"))
            continue
        by_page[page] = e
        by_seq[e.chain_seq] = e
    for e in sorted(by_seq.values(), key=lambda x: -x.chain_seq):
        if e.mac is not None:
            _check_link(e, by_page, v)
    _check_unsealed_suffix(by_seq, v)
    head = max(by_seq, default=0)
    v.head_seq = head
    if expect_seq > head:
        v.failures.append(Failure(0, expect_seq, "the newest records",
                                  f"the chain ends at {head}, but this meter's chain was "
                                  f"already at {expect_seq}: records after {head} were removed"))
    return v


def _check_page(key: bytes, page: int, data: bytes, seal: bytes,
                v: ChainVerdict) -> _Entry | None:
    name = record_name(page, data)
    link = read_link(page, data)
    if link is None:
        v.failures.append(Failure(page, 0, name, "holds no chained record (its chain trailer or "
                                                  "CRC is broken)"))
        return None
    e = _Entry(page, name, link, link.chain_seq, link.prev_page)
    prev, mac = link.prev_mac, link.mac
    if link.late():
        if link.prev_mac != NO_MAC or link.mac != NO_MAC:
            v.failures.append(Failure(page, link.chain_seq, name,
                                      "flagged as written without its MAC, yet it carries one: "
                                      "the record was altered"))
            return e
        got = decode_seal(seal) if seal else None
        if got is None:
            v.unsealed.append(name)
            e.prev = None
            return e
        if got[0] != page or got[1] != link.chain_seq:
            v.failures.append(Failure(page, link.chain_seq, name,
                                      "its seal belongs to another record"))
            return e
        prev, mac = got[2], got[3]
    want = hmac.new(key, mac_input(page, link.head, prev), hashlib.sha256).digest()[:MAC_SIZE]
    if not hmac.compare_digest(want, mac):
        v.failures.append(Failure(page, link.chain_seq, name,
                                  "MAC does not verify: the record was rewritten, moved or "
                                  "forged"))
        return e
    e.prev, e.mac = prev, mac
    (v.late_sealed if link.late() else v.verified).append(name)
    return e


def _check_unsealed_suffix(by_seq: dict[int, _Entry], v: ChainVerdict) -> None:
    """Pages await their seal only after the newest page that has its MAC: the firmware seals in
    chain order before it MACs anything new, so an unsealed page older than a MAC'd one had its
    seal taken away, or its flag set by hand."""
    verified = [c for c, e in by_seq.items() if e.mac is not None]
    newest = max(verified, default=0)
    for c, e in by_seq.items():
        if e.mac is None and e.prev is None and c < newest and e.name in v.unsealed:
            v.unsealed.remove(e.name)
            v.failures.append(Failure(e.page, c, e.name,
                                      f"waits for its seal, but chain {newest} after it has its "
                                      "MAC: its seal was removed or the record altered"))


def _check_link(e: _Entry, by_page: dict[int, _Entry], v: ChainVerdict) -> None:
    """Does the verified page e follow the record the chain says came before it?"""
    c = e.chain_seq
    if c == 1 or e.prev_page == 0:
        if not (c == 1 and e.prev_page == 0 and e.prev == NO_MAC):
            v.failures.append(Failure(e.page, c, e.name, "claims to start the chain but is not "
                                                          "its first record"))
        return
    p = by_page.get(e.prev_page)
    if p is None:
        v.failures.append(Failure(e.page, c, e.name,
                                  f"the record before it (chain {c - 1}, NVM page "
                                  f"{e.prev_page}) is missing: deleted or erased"))
    elif p.chain_seq < c - 1:
        v.failures.append(Failure(e.page, c, e.name,
                                  f"NVM page {e.prev_page} holds an older record (chain "
                                  f"{p.chain_seq}) than the one before it (chain {c - 1}): "
                                  "an old page was put back"))
    elif p.chain_seq == c - 1 and p.mac is not None and p.mac != e.prev:
        v.failures.append(Failure(e.page, c, e.name,
                                  f"does not follow {p.name} (chain {c - 1}): reordered or "
                                  "replaced"))
    # p.chain_seq > c - 1: its predecessor's page was reused by a newer record (aged out).
