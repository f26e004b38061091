"""The active report the communication module sends after a cover opening is recorded.

A small frame of our own (the utility's head-end protocol for last-gasp reports is out of
scope): kind, the record's sequence number, a CRC. It owns only this encoding.
"""

import struct

from meterseal.firmware.crc import crc32

REPORT_COVER_OPEN = 1
REPORT_TERMINAL_COVER_OPEN = 2
REPORT_NAMES = {REPORT_COVER_OPEN: "cover_open", REPORT_TERMINAL_COVER_OPEN: "terminal_cover_open"}
_MAGIC = 0x5A


def encode_report(kind, seq):
    body = struct.pack("<BBI", _MAGIC, kind, seq)
    return body + struct.pack("<I", crc32(body))


def decode_report(frame):
    """(kind, seq), or None if the frame is not an intact report."""
    if len(frame) != 10:
        return None
    body = frame[:6]
    if struct.unpack("<I", frame[6:])[0] != crc32(body):
        return None
    magic, kind, seq = struct.unpack("<BBI", body)
    if magic != _MAGIC:
        return None
    return kind, seq
