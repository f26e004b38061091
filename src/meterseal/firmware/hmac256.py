"""HMAC-SHA256 (RFC 2104) built on hashlib.sha256 alone.

MicroPython ports have hashlib.sha256 but often no hmac module, so the firmware carries the
construction itself. Owns the construction only; knows nothing of keys' origin or what is signed.
"""

import hashlib

_BLOCK = 64  # SHA-256's block size, in bytes


def _xor(key, pad):
    out = bytearray(_BLOCK)
    for i in range(_BLOCK):
        out[i] = key[i] ^ pad
    return bytes(out)


def hmac_sha256(key, msg):
    """The 32-byte HMAC-SHA256 of msg under key (bytes of any length)."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = bytes(key) + bytes(_BLOCK - len(key))
    inner = hashlib.sha256(_xor(key, 0x36))
    inner.update(msg)
    outer = hashlib.sha256(_xor(key, 0x5C))
    outer.update(inner.digest())
    return outer.digest()
