"""Where the head-end finds its meters: the endpoints file (TOML), or endpoint URLs.

Owns the format (docs/headend.md): a list of gateways, each a link (``tcp://HOST:PORT`` or
``serial:DEV[:BAUD]``) and the 12-digit addresses of the meters behind it; defaults for the
meters' UTC offset and the answer timeout. A bare URL is one gateway whose single meter is found
by asking (read-address to AA×6). Reading is strict: a malformed file is one line naming it.

Must not know: how to talk to the links (the collector), the store.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

DEFAULT_UTC_OFFSET_H: Final = 8.0
_TCP = re.compile(r"tcp://(\[[^\]]+\]|[^:/\s]+):(\d{1,5})")
_SERIAL = re.compile(r"serial:([^:\s]+)(?::(\d+))?")
_TOP_KEYS: Final = {"gateway", "utc_offset_h", "timeout_s"}
_GATEWAY_KEYS: Final = {"name", "url", "meters", "utc_offset_h"}


class EndpointsError(ValueError):
    """An endpoints file or URL is not what docs/headend.md says (one line)."""


@dataclass(frozen=True, slots=True)
class Gateway:
    name: str
    url: str
    meters: tuple[str, ...]  # empty: ask the line who is there (one meter only)
    utc_offset_h: float = DEFAULT_UTC_OFFSET_H

    @property
    def tcp(self) -> tuple[str, int] | None:
        m = _TCP.fullmatch(self.url)
        return None if m is None else (m.group(1).strip("[]"), int(m.group(2)))

    @property
    def serial(self) -> tuple[str, int] | None:
        m = _SERIAL.fullmatch(self.url)
        return None if m is None else (m.group(1), int(m.group(2) or 2400))


@dataclass(frozen=True, slots=True)
class Endpoints:
    gateways: tuple[Gateway, ...]
    timeout_s: float | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def meter_count(self) -> int:
        return sum(max(1, len(g.meters)) for g in self.gateways)


def check_url(url: str, where: str) -> str:
    text = url.strip()
    m = _TCP.fullmatch(text)
    if m is not None and int(m.group(2)) <= 65535:
        return text
    if _SERIAL.fullmatch(text):
        return text
    raise EndpointsError(f"{where}: {url!r} is neither tcp://HOST:PORT nor serial:DEV[:BAUD]")


def load_endpoints(args: Sequence[str]) -> Endpoints:
    """The gateways the command line names: endpoint files and bare URLs, in order."""
    gateways: list[Gateway] = []
    timeout: float | None = None
    for arg in args:
        if arg.startswith(("tcp://", "serial:")):
            url = check_url(arg, "--endpoints")
            gateways.append(Gateway(url, url, ()))
            continue
        found = read_file(Path(arg))
        gateways += found.gateways
        timeout = found.timeout_s if found.timeout_s is not None else timeout
    names = [g.name for g in gateways]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise EndpointsError(f"--endpoints: gateway {dup!r} is named twice")
    return Endpoints(tuple(gateways), timeout, " ".join(args))


def read_file(path: Path) -> Endpoints:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EndpointsError(f"{path}: no such endpoints file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EndpointsError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise EndpointsError(f"{path}: not valid TOML ({exc})") from None
    try:
        return _parse(doc, str(path))
    except EndpointsError as exc:
        raise EndpointsError(f"{path}: {exc}") from None


def _parse(doc: Mapping[str, Any], source: str) -> Endpoints:
    _known(doc, _TOP_KEYS, "the file")
    offset = _offset(doc.get("utc_offset_h", DEFAULT_UTC_OFFSET_H), "utc_offset_h")
    timeout = doc.get("timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout <= 3600):
        raise EndpointsError(f"timeout_s: seconds above 0 and at most 3600, got {timeout!r}")
    tables = doc.get("gateway")
    if not isinstance(tables, list) or not tables:
        raise EndpointsError("no [[gateway]] tables (each: name, url, meters)")
    gateways = [_gateway(i + 1, t, offset) for i, t in enumerate(tables)]
    seen: set[str] = set()
    for g in gateways:
        for address in g.meters:
            if address in seen:
                raise EndpointsError(f"meter {address} is listed twice")
            seen.add(address)
    return Endpoints(tuple(gateways), None if timeout is None else float(timeout), source)


def _gateway(n: int, table: object, offset: float) -> Gateway:
    where = f"[[gateway]] {n}"
    if not isinstance(table, dict):
        raise EndpointsError(f"{where}: expected a table")
    _known(table, _GATEWAY_KEYS, where)
    if "url" not in table or not isinstance(table["url"], str):
        raise EndpointsError(f"{where}: needs url = \"tcp://HOST:PORT\" or \"serial:DEV\"")
    url = check_url(table["url"], f"{where} url")
    meters = table.get("meters", [])
    if not isinstance(meters, list) or not all(isinstance(a, str) for a in meters):
        raise EndpointsError(f"{where} meters: a list of 12-digit addresses as strings")
    for address in meters:
        if len(address) != 12 or not address.isdecimal():
            raise EndpointsError(f"{where} meters: {address!r} is not a 12-digit address")
    name = table.get("name", url)
    if not isinstance(name, str) or not name:
        raise EndpointsError(f"{where} name: a non-empty string")
    return Gateway(name, url, tuple(meters),
                   _offset(table.get("utc_offset_h", offset), f"{where} utc_offset_h"))


def _known(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise EndpointsError(f"{where}: unknown key {unknown[0]!r}")


def _offset(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not -12 <= value <= 14:
        raise EndpointsError(f"{where}: hours from -12 to +14, got {value!r}")
    return float(value)


def endpoints_text(gateways: Iterable[Gateway]) -> str:
    """An endpoints file listing ``gateways`` (what `meterseal serve --fleet` writes)."""
    out = ["# meterseal collect --endpoints THIS_FILE (format: docs/headend.md)", ""]
    for g in gateways:
        out += ["[[gateway]]", f'name = "{g.name}"', f'url = "{g.url}"',
                f"utc_offset_h = {g.utc_offset_h!r}", "meters = ["]
        out += [f'  "{a}",' for a in g.meters]
        out += ["]", ""]
    return "\n".join(out)
