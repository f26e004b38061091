"""The head-end's side of DL/T 645 level 98: sealing a command's data for a meter's security
module, and the layout of what is sealed (ours, documented in docs/dlt645.md).

Level 98 (reference/dlt645.md "Field rules"): the data of an event clear (1B) or a parameter
write (14) pass through the meter's ESAM; the decrypted command must name its function code,
the DI it acts on, and a command deadline the meter's clock must not have passed. Our layout
of the data field after PA P0 P1 P2 (PA = 98; P0..P2 are not checked) and C0..C3:

    sealed = SM4-CBC(zero IV, pad80(code 1 | DI 4, DI0 first | deadline 6 | value n)) | MAC 4

MAC = first 4 bytes of SM4-CMAC(key, address 6 | control 1 | operator 4 | ciphertext): the
address (wire order) binds the command to one meter, the control byte to its function. The
deadline is YYMMDDhhmmss sent ss first, as every time field of the standard. Field ESAMs use
SM4 as well; their exact APDUs (and session keys) are State Grid's and are not reproduced.

Must not know: sockets, the meter's model. The meter's side is hardware/esam.py, written
separately, so a test that seals here and opens there checks two implementations.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from meterseal.protocols.dlt645.frame import Frame, FunctionCode, di_to_bytes
from meterseal.protocols.dlt645.values import floor_s, time6_to_bytes

LEVEL_SECURED: Final = 0x98
BLOCK: Final = 16
MAC_LENGTH: Final = 4


def seal(key: bytes, header: bytes, plain: bytes) -> bytes:
    """Ciphertext of ``plain`` (80-padded) and the 4-byte MAC over ``header`` + ciphertext."""
    padded = plain + b"\x80" + bytes((-len(plain) - 1) % BLOCK)
    enc = Cipher(algorithms.SM4(key), modes.CBC(bytes(BLOCK))).encryptor()
    body = enc.update(padded) + enc.finalize()
    mac = cmac.CMAC(algorithms.SM4(key))
    mac.update(header + body)
    return body + mac.finalize()[:MAC_LENGTH]


def command_plain(code: int, di: int, deadline_ms: int, value: bytes = b"") -> bytes:
    """What is sealed: function code, DI, deadline (local ms, to the second), the value."""
    return bytes((code,)) + di_to_bytes(di) + time6_to_bytes(floor_s(deadline_ms)) + value


def secured_frame(
    key: bytes, address: bytes, code: int, di: int, deadline_ms: int, *,
    operator: bytes = b"\x00\x00\x00\x00", value: bytes = b"", password: bytes = b"\x00" * 3,
) -> Frame:
    """A level-98 request (1B clear, or 14 write of ``di`` with ``value``) for the meter at
    ``address``, sealed with its ``key``."""
    head = bytes((LEVEL_SECURED,)) + password + operator
    if code == FunctionCode.WRITE:
        head = di_to_bytes(di) + head
    sealed = seal(key, address + bytes((code,)) + operator, command_plain(code, di, deadline_ms,
                                                                          value))
    return Frame(address, code, head + sealed)
