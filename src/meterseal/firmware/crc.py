"""CRC-32 (IEEE 802.3, the zlib/binascii one) for the NVM pages and the retained-RAM block.

Owns only the checksum; knows nothing of what it protects. Uses binascii.crc32 where the port has
it and a table-free fallback elsewhere, so both give the same value bit for bit.
"""

try:
    from binascii import crc32 as _native
except ImportError:  # pragma: no cover - ports built without binascii
    _native = None


def crc32_soft(data, crc=0):
    # Bitwise on purpose: a 1 KiB table would cost more RAM than the few pages we check per boot.
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0xEDB88320
            else:
                crc >>= 1
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    if _native is not None:
        return _native(data, crc) & 0xFFFFFFFF
    return crc32_soft(data, crc)


def page_crc_ok(data, end):
    """Do the first `end` bytes of `data` end in the little-endian CRC-32 of those before it?
    (A page is tag | fields | [chain trailer] | CRC.)"""
    return len(data) >= end and crc32(bytes(data[: end - 4])) == int.from_bytes(
        bytes(data[end - 4 : end]), "little")
