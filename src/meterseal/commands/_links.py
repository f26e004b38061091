"""Link strings the protocol commands take: tcp://HOST:PORT and serial:DEV[:BAUD].

Parsed before anything starts, so a malformed one is one line and exit status 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meterseal.errors import UsageError

DEFAULT_TCP = "tcp://127.0.0.1:8645"
DEFAULT_BAUD = 2400


@dataclass(frozen=True, slots=True)
class TcpTarget:
    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class SerialTarget:
    device: str
    baudrate: int

    def __str__(self) -> str:
        return f"serial:{self.device}:{self.baudrate}"


def parse_tcp(text: str, what: str = "--dlt645") -> TcpTarget:
    m = re.fullmatch(r"tcp://(\[[^\]]+\]|[^:/]+):(\d{1,5})", text.strip())
    if m is None or not 0 <= int(m.group(2)) <= 65535:
        raise UsageError(f"{what}: {text!r} is not tcp://HOST:PORT (e.g. {DEFAULT_TCP})")
    return TcpTarget(m.group(1).strip("[]"), int(m.group(2)))


def parse_serial(text: str, what: str = "--serial") -> SerialTarget:
    """DEV or DEV:BAUD (a leading 'serial:' is accepted)."""
    body = text.strip()
    body = body.removeprefix("serial:")
    m = re.fullmatch(r"(.+?)(?::(\d+))?", body)
    if not body or m is None:
        raise UsageError(f"{what}: {text!r} is not DEV[:BAUD] (e.g. /dev/ttyUSB0:2400)")
    baud = int(m.group(2)) if m.group(2) else DEFAULT_BAUD
    if baud <= 0:
        raise UsageError(f"{what}: baud rate {baud} must be positive")
    return SerialTarget(m.group(1), baud)


def parse_link(text: str, what: str = "--dlt645") -> TcpTarget | SerialTarget:
    if text.strip().startswith("tcp://"):
        return parse_tcp(text, what)
    if text.strip().startswith("serial:"):
        return parse_serial(text, what)
    raise UsageError(
        f"{what}: {text!r} is neither tcp://HOST:PORT nor serial:DEV[:BAUD]"
        " (e.g. tcp://127.0.0.1:8645 or serial:/dev/ttyUSB0:2400)"
    )
