"""Scenario -> TOML text: the inverse of ``scenario.parse_scenario`` for the file contract.

Owns writing a Scenario as a scenario file (DESIGN.md, "Scenario file") that ``load_scenario``
reads back to an EQUAL Scenario: exact integer-µs durations (no float rounding), floats by
``repr`` (which TOML reads back bit for bit), names and keys escaped as TOML basic strings. It
is what campaigns write for every failing scenario, so ``meterseal run`` can replay it.

The round trip holds for scenarios in the canonical form ``parse_scenario`` builds (overrides,
outages, cover and terminal-cover operations, faults, loads and programming-key windows sorted
by key or time); a
Scenario that no file can express (an offset with seconds, an empty load list, a value TOML has
no type for, a string with a lone surrogate) raises ValueError. Must not know about physics,
the kernel or campaigns.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from meterseal.sim.scenario import DEFAULT_LOAD, GLITCH_KINDS, Scenario

__all__ = ["format_duration", "to_toml"]

_US_PER = (("d", 86_400_000_000), ("h", 3_600_000_000), ("min", 60_000_000))
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in a TOML comment
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                  "\f": "\\f", "\r": "\\r"}


def format_duration(us: int) -> str:
    """Microseconds -> a duration ``parse_duration`` reads back exactly: "1d 2h 3min 4.000005s".

    Whole days, hours and minutes, then seconds with as many decimals as the µs need; "0s" for
    zero.
    """
    if isinstance(us, bool) or not isinstance(us, int) or us < 0:
        raise ValueError(f"duration must be a whole number of µs >= 0, got {us!r}")
    parts = []
    rest = us
    for unit, size in _US_PER:
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    if rest or not parts:
        whole, frac = divmod(rest, 1_000_000)
        text = str(whole) if not frac else f"{whole}.{frac:06d}".rstrip("0")
        parts.append(f"{text}s")
    return " ".join(parts)


def _string(text: str) -> str:
    """A TOML basic string (double-quoted) that reads back to ``text``."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"string {text!r} holds a lone surrogate, which TOML cannot carry")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(value: object, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError(f"{what}: NaN does not read back equal")
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    raise ValueError(f"{what}: a {type(value).__name__} value has no place in a scenario file")


def _start(start: datetime) -> str:
    offset = start.utcoffset()
    if offset is None:
        raise ValueError("start: the time needs an offset")
    if offset.microseconds or offset.seconds % 60:
        raise ValueError(f"start: UTC offset {offset} has seconds, which TOML cannot express")
    return _string(start.isoformat())


def to_toml(sc: Scenario, header: str = "") -> str:
    """The scenario file of ``sc``; ``load_scenario`` of it gives a Scenario equal to ``sc``.

    ``header`` (optional) becomes comment lines at the top (what found it, why it failed).
    """
    lines: list[str] = [f"# {_CONTROL.sub(' ', line)}".rstrip() for line in header.splitlines()]
    lines += [
        f"name = {_string(sc.name)}",
        f"start = {_start(sc.start)}",
        f"duration = {_string(format_duration(sc.duration_us))}",
        f"seed = {_value(sc.seed, 'seed')}",
        "",
        "[meter]",
        f"profile = {_string(sc.profile_name)}",
    ]
    seen: set[str] = set()
    for key, value in sc.overrides:
        if key == "profile" or key in seen:
            raise ValueError(f"[meter]: key {key!r} cannot be written (reserved or repeated)")
        seen.add(key)
        lines.append(f"{_string(key)} = {_value(value, f'[meter] {key}')}")
    for o in sc.outages:
        lines += ["", "[[outage]]", f"at = {_string(format_duration(o.at_us))}",
                  f"for = {_string(format_duration(o.for_us))}"]
    for section, ops in (("cover", sc.cover), ("terminal_cover", sc.terminal_cover)):
        for c in ops:
            lines += ["", f"[[{section}]]", f"open_at = {_string(format_duration(c.open_us))}"]
            if c.close_us is not None:
                lines.append(f"close_at = {_string(format_duration(c.close_us))}")
            if c.held:
                lines.append("held = true")
    for f in sc.faults:
        lines += ["", "[[fault]]", f"kind = {_string(f.kind)}",
                  f"at = {_string(format_duration(f.at_us))}"]
        if f.kind in GLITCH_KINDS:
            lines.append(f"width = {_string(format_duration(f.width_us))}")
            if f.kind == "glitch-burst":
                lines += [f"count = {f.count}", f"period = {_string(format_duration(f.period_us))}"]
    for w in sc.programming_key:
        lines += ["", "[[programming_key]]", f"at = {_string(format_duration(w.at_us))}",
                  f"for = {_string(format_duration(w.for_us))}"]
    if not sc.loads:
        raise ValueError("loads: an empty load list cannot be written (no loads means the default)")
    if sc.loads != (DEFAULT_LOAD,):
        for ld in sc.loads:
            lines += ["", "[[load]]", f"at = {_string(format_duration(ld.at_us))}",
                      f"import_w = {_value(float(ld.import_w), 'load import_w')}",
                      f"export_w = {_value(float(ld.export_w), 'load export_w')}"]
    return "\n".join(lines) + "\n"
