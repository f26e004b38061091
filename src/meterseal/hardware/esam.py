"""The meter's security module (ESAM), simulated: it holds the meter's key and opens the data of
a level-98 command — checks its MAC, then decrypts it.

The cipher. Field ESAMs of State Grid meters run the national algorithms (SM4 for data and
MACs; SM2/SM3 for key exchange); this model uses SM4 too (the ``cryptography`` package, on
OpenSSL): SM4-CBC with a zero IV over ISO/IEC 7816-4 padded data (80 00 …), and a 4-byte MAC,
the first bytes of SM4-CMAC over the header the caller names (the frame's address, control and
operator code) followed by the ciphertext. The layout of the data inside is the protocol's
(protocols/dlt645/security.py builds it; docs/dlt645.md documents it). The key exchange and the
session keys of a real ESAM are not modelled: one per-meter key (profile key ``security.key``).

Must not know: frames, sessions, the meter's records.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
MAC_LENGTH = 4
# The record chain (firmware/chain.py documents the message and why 8 bytes): HMAC-SHA256 under
# a key derived from the meter's key, so the key that authorises commands never signs records.
RECORD_MAC_LENGTH = 8
RECORD_KEY_LABEL = b"meterseal record chain v1"
_IV = bytes(BLOCK)


class Esam:
    """A security module holding one 16-byte SM4 key. ``failures`` counts rejected data.

    It also refuses data it has already opened (the latest ``REMEMBERED`` MACs, in RAM): within
    its deadline a recorded command cannot be played again. A real ESAM binds each command to a
    random challenge instead; the deadline bounds what a restart forgets here.
    """

    __slots__ = ("_key", "_record_hmac", "_record_key", "_seen", "failures", "record_macs")

    REMEMBERED = 256

    def __init__(self, key: bytes) -> None:
        if len(key) != BLOCK:
            raise ValueError(f"an SM4 key is {BLOCK} bytes, got {len(key)}")
        self._key = bytes(key)
        self._seen: dict[bytes, None] = {}
        self.failures = 0
        self._record_key = hmac.new(self._key, RECORD_KEY_LABEL, hashlib.sha256).digest()
        # HMAC keyed once: each record MAC copies it instead of keying it again (the same
        # HMAC-SHA256, about a third cheaper, and one is computed for every record page).
        self._record_hmac = hmac.new(self._record_key, digestmod="sha256")
        self.record_macs = 0  # record MACs computed: the module's own count

    def record_mac(self, data: bytes) -> bytes:
        """The MAC of one journal page's chain message (HMAC-SHA256 under the record key,
        truncated to RECORD_MAC_LENGTH)."""
        self.record_macs += 1
        h = self._record_hmac.copy()
        h.update(data)
        return h.digest()[:RECORD_MAC_LENGTH]

    def open(self, header: bytes, sealed: bytes) -> bytes | None:
        """The plaintext of ``sealed`` (ciphertext + MAC) if its MAC over ``header`` and the
        ciphertext is right, its padding sound and it was not opened before; else None (and
        counted)."""
        body, mac = sealed[:-MAC_LENGTH], sealed[-MAC_LENGTH:]
        if len(sealed) <= MAC_LENGTH or len(body) % BLOCK:
            self.failures += 1
            return None
        if not hmac.compare_digest(self._mac(header + body), mac) or body in self._seen:
            self.failures += 1
            return None
        self._seen[body] = None
        if len(self._seen) > self.REMEMBERED:
            del self._seen[next(iter(self._seen))]
        dec = Cipher(algorithms.SM4(self._key), modes.CBC(_IV)).decryptor()
        plain = dec.update(body) + dec.finalize()
        end = plain.rstrip(b"\x00")
        if not end or end[-1] != 0x80 or len(plain) - len(end) >= BLOCK:
            self.failures += 1
            return None
        return end[:-1]

    def _mac(self, data: bytes) -> bytes:
        c = cmac.CMAC(algorithms.SM4(self._key))
        c.update(data)
        return c.finalize()[:MAC_LENGTH]
