"""Packed-BCD fields of DL/T 645-2007 exactly as they go on the wire (before the +33h offset).

Owns the number <-> BCD byte conversions and the fixed-width wire fields built from them (time
YYMMDDhhmmss, energy XXXXXX.XX, count XXXXXX), every multi-byte field low byte first. It does not
know frames, DIs or the +33h transform; those belong to the protocol codec.
"""

from meterseal.firmware.caltime import MS_LIMIT, civil_from_ms, ms_from_civil

NO_TIME6 = b"\x00\x00\x00\x00\x00\x00"


def to_bcd(n):
    """Packed BCD of a non-negative int: 1234 -> 0x1234."""
    if n < 0:
        raise ValueError("BCD of a negative number")
    out = 0
    shift = 0
    while True:
        n, digit = divmod(n, 10)
        out |= digit << shift
        shift += 4
        if n == 0:
            return out


def from_bcd(b):
    """Int value of packed BCD: 0x1234 -> 1234; ValueError on a nibble above 9."""
    if b < 0:
        raise ValueError("negative BCD")
    out = 0
    mul = 1
    while True:
        nib = b & 0xF
        if nib > 9:
            raise ValueError("not a BCD digit")
        out += nib * mul
        mul *= 10
        b >>= 4
        if b == 0:
            return out


def _bcd_le(n, nbytes):
    out = bytearray(nbytes)
    for i in range(nbytes):
        n, two = divmod(n, 100)
        out[i] = ((two // 10) << 4) | (two % 10)
    return bytes(out)


def _from_bcd_le(b, nbytes):
    if len(b) != nbytes:
        raise ValueError("wrong field length")
    out = 0
    for i in range(nbytes - 1, -1, -1):
        out = out * 100 + from_bcd(b[i])
    return out


def bcd_time6(ms):
    """Wire bytes (ss, mm, hh, DD, MM, YY) of a local epoch ms, each BCD; whole seconds."""
    if not (0 <= ms < MS_LIMIT):
        raise ValueError("time outside 2000..2099")
    y, mo, d, h, mi, s, _wd = civil_from_ms(ms)
    return bytes((to_bcd(s), to_bcd(mi), to_bcd(h), to_bcd(d), to_bcd(mo), to_bcd(y - 2000)))


def time6_to_ms(b):
    """Inverse of bcd_time6 (to whole seconds). All-zero bytes mean "no time" and give None;
    ValueError on bad BCD or an impossible date."""
    if len(b) != 6:
        raise ValueError("time6 needs 6 bytes")
    if bytes(b) == NO_TIME6:
        return None
    s, mi, h, d, mo, yy = [from_bcd(x) for x in b]
    return ms_from_civil(2000 + yy, mo, d, h, mi, s)


def bcd_energy4(units_0p01kwh):
    """XXXXXX.XX kWh as 4 BCD bytes, low byte first; the register rolls over at 1e8 units."""
    return _bcd_le(units_0p01kwh % 100000000, 4)


def energy4_to_units(b):
    return _from_bcd_le(b, 4)


def bcd_count3(n):
    """XXXXXX as 3 BCD bytes, low byte first; the count rolls over at 1e6."""
    return _bcd_le(n % 1000000, 3)


def count3_to_int(b):
    return _from_bcd_le(b, 3)
