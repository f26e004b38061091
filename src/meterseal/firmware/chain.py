"""The record chain: the trailer each journal page carries, what its MAC covers, and the seal
page that carries the MAC of a record written on backup without one.

Owns the byte layout of the chain (the trailer inside a journal page, the seal page) and the
message a MAC is computed over. It does not compute MACs with the meter's key itself on a board
with a security module (the HAL's security port does, with a key that never leaves the module);
SoftSecurity is that port in software, for boards without one. It knows nothing of where pages
live beyond their page number, nor of energy or power states.

Trailer (TRAILER_SIZE = 23 bytes, between a record page's payload and its CRC, little-endian):
    chain_seq 4 | prev_page 2 | flags 1 | prev_mac 8 | mac 8
chain_seq counts every chained page the journal ever committed (1, 2, ...); prev_page is the page
number of chain_seq - 1 (0 for the first). The MAC of a page is
    HMAC-SHA256(chain key, page number 2 | page bytes from its tag to flags | prev_mac)[:8]
so it binds the record's bytes, its place in the NVM and its place in the chain, and prev_mac
chains it over the MAC of the record before: a rewritten, moved, deleted or reordered record
breaks either its own MAC or its successor's link. The chain key is HMAC-SHA256(meter key,
KEY_LABEL): the MAC key is never the key that authorises commands.

Truncated to 8 bytes: a forger gets one try per page read back, and 2**-64 per try is far beyond
what any number of tries on a meter can reach, while 8 more bytes would not fit the 64-byte page
beside the longest record (35 bytes of payload) and the link to the previous MAC.

FLAG_LATE: the security module could not be afforded when the page was written (on backup); the
page's prev_mac and mac are zero, and the seal page written at the next restore carries both:
    tag 5E | page 2 | chain_seq 4 | prev_mac 8 | mac 8 | CRC-32 4
A record that waits for its seal says so; a reader counts it as not yet verifiable, never as good.
"""

from meterseal.firmware.compat import const
from meterseal.firmware.crc import crc32
from meterseal.firmware.hmac256 import hmac_sha256
from meterseal.firmware.layout import TAG_SEAL
from meterseal.firmware.pagecodec import PAGE_LEN, TRAILER_SIZE, decode_chained

MAC_SIZE = const(8)
FLAG_LATE = const(1)
NO_MAC = b"\x00" * 8
KEY_LABEL = b"meterseal record chain v1"
SEAL_LEN = const(27)
_HEAD_OF_TRAILER = const(7)  # chain_seq, prev_page, flags: the trailer bytes before prev_mac


def chain_key(meter_key):
    """The key record MACs are made with, derived from the meter's key."""
    return hmac_sha256(meter_key, KEY_LABEL)


class SoftSecurity:
    """The security port in software: a board without a security module keeps the chain key in
    its own flash. mac(data) -> MAC_SIZE bytes."""

    __slots__ = ("_key",)

    def __init__(self, meter_key):
        self._key = chain_key(meter_key)

    def mac(self, data):
        return hmac_sha256(self._key, data)[:MAC_SIZE]


def mac_input(page, head, prev_mac):
    """What a page's MAC covers: its page number, its bytes from tag to flags, prev_mac."""
    return page.to_bytes(2, "little") + head + prev_mac


def trailer(chain_seq, prev_page, flags, prev_mac, mac):
    return (chain_seq.to_bytes(4, "little") + prev_page.to_bytes(2, "little")
            + bytes((flags,)) + prev_mac + mac)


class Link:
    """One chained page as read back: its record and chain fields, and head (the page bytes
    from tag to flags, which the MAC covers)."""

    __slots__ = ("chain_seq", "flags", "head", "mac", "page", "prev_mac", "prev_page", "record")

    def __init__(self, page, record, head, chain_seq, prev_page, flags, prev_mac, mac):
        self.page = page
        self.record = record
        self.head = head
        self.chain_seq = chain_seq
        self.prev_page = prev_page
        self.flags = flags
        self.prev_mac = prev_mac
        self.mac = mac

    def late(self):
        return bool(self.flags & FLAG_LATE)


def read_link(page, data):
    """The Link of the journal page `page` holding `data`, or None if it holds no valid chained
    record (erased, torn, garbage, or a page written without a trailer)."""
    return link_of(page, data, decode_chained(data))


def link_of(page, data, got):
    """read_link when `got` is decode_chained(data), already at hand."""
    if got is None or not got[1]:
        return None
    rec, t = got
    start = PAGE_LEN[type(rec)] - 4  # the trailer follows the payload, where a plain CRC would
    head = bytes(data[: start + _HEAD_OF_TRAILER])
    return Link(page, rec, head, int.from_bytes(t[0:4], "little"),
                int.from_bytes(t[4:6], "little"), t[6], t[7:15], t[15:23])


def raw_chain_seq(data):
    """The chain_seq a chained page's trailer holds (data: tag to CRC, CRC checked)."""
    at = len(data) - 4 - TRAILER_SIZE
    return int.from_bytes(data[at : at + 4], "little")


def encode_seal(page, chain_seq, prev_mac, mac):
    buf = bytearray((TAG_SEAL,))
    buf.extend(page.to_bytes(2, "little"))
    buf.extend(chain_seq.to_bytes(4, "little"))
    buf.extend(prev_mac)
    buf.extend(mac)
    buf.extend(crc32(buf).to_bytes(4, "little"))
    return bytes(buf)


def decode_seal(data):
    """(page, chain_seq, prev_mac, mac) of a seal page, or None. Never raises."""
    if len(data) < SEAL_LEN or data[0] != TAG_SEAL:
        return None
    body = bytes(data[: SEAL_LEN - 4])
    if crc32(body) != int.from_bytes(bytes(data[SEAL_LEN - 4 : SEAL_LEN]), "little"):
        return None
    return (int.from_bytes(body[1:3], "little"), int.from_bytes(body[3:7], "little"),
            body[7:15], body[15:23])




def served_head(chain):
    """What a meter serves as its chain head, from its chained pages (page, bytes, seal bytes
    or b""), newest first: (entries, the newest page's chain_seq, its MAC — its own, or its
    seal's, zeros while it awaits one — and how many pages await their seal). Both protocol
    faces answer it."""
    if not chain:
        return 0, 0, NO_MAC, 0
    unsealed = 0
    link = None
    for i, (p, d, s) in enumerate(chain):
        got = read_link(p, d)  # each page decoded once; the first is the head
        if i == 0:
            link, seal = got, s
        if not s and got is not None and got.late():
            unsealed += 1
    if link is None or link.late():
        mac = seal[15:23] if seal else NO_MAC
    else:
        mac = link.mac
    return len(chain), 0 if link is None else link.chain_seq, mac, unsealed
