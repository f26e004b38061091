"""Hypothesis strategies for scenario files as a user could write them: TOML documents with the
contract's keys and others, values of every TOML type and shape, extreme numbers, unicode and
markup, durations and absolute times of every form; and a small TOML writer for them."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from meterseal.hardware.profile import list_keys
from meterseal.sim.scenario import FAULT_KINDS
from tests.strategies import key_values

# ------------------------------------------------------------------------------- the writer

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def toml_string(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan" if math.copysign(1.0, v) > 0 else "-nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {v!r}")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def to_toml_text(doc: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """A TOML document: scalars and inline values first, then sub-tables as [a.b] sections and
    arrays of tables as [[a.b]] sections (a dict inside an array of tables is inline)."""
    lines: list[str] = []
    later: list[tuple[str, Any]] = []
    for k, v in doc.items():
        if (isinstance(v, dict) and path == ()) or _is_table_array(v):
            later.append((k, v))
        else:
            lines.append(f"{toml_string(k)} = {toml_value(v)}")
    for k, v in later:
        header = ".".join(toml_string(p) for p in (*path, k))
        if isinstance(v, dict):
            lines += ["", f"[{header}]", to_toml_text(v, (*path, k))]
        else:
            for item in v:
                lines += ["", f"[[{header}]]"]
                lines += [f"{toml_string(ik)} = {toml_value(iv)}" for ik, iv in item.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the values

_SAFE_TEXT = st.characters(blacklist_categories=("Cs",))  # TOML cannot carry lone surrogates
_TRICKY = ["[/red]", "[link=http://example.invalid]x[/link]", "[bold]", "\u200f", "\u202e",
           "\u200b", "\x00", "\x1b[31m", "１２", "٣", "²", "\ufeff", "\n", "\t", "\\", '"',
           "µ", "μ", "\u00a0", "\U0001F600", "'", "#", "="]
tricky_text = st.one_of(
    st.text(_SAFE_TEXT, max_size=30),
    st.lists(st.sampled_from(_TRICKY), max_size=6).map("".join),
    st.text(_SAFE_TEXT, min_size=500, max_size=3000),
)

extreme_floats = st.one_of(
    st.sampled_from([math.nan, -math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e308,
                     5e-324, 1e-308, 1.7976931348623157e308, 1e15, -1.0, 1e-7]),
    st.floats(),
)
extreme_ints = st.one_of(
    st.sampled_from([0, -1, 1, 2**63 - 1, -(2**63), 2**64, 10**30, -(10**30), 10**300]),
    st.integers(),
)
_DIGIT_RUNS = st.integers(1, 60).map(lambda n: "9" * n)

_UNITS = ["us", "µs", "μs", "ms", "s", "min", "h", "d", "", "sec", "m", "H", "w", "D", "mins",
          "S", "hr", "ｈ", "\u200fh"]
_NUMBERS = st.one_of(
    st.integers(0, 10**6).map(str),
    _DIGIT_RUNS,
    st.decimals(0, 10**6, allow_nan=False, places=6).map(str),
    st.sampled_from([".5", "0.", "1.", "1e3", "-5", "+5", "0x10", "1_000", "１", "٣", "²",
                     "0.0000001", "00000000000000000001", "1." + "0" * 40, "nan", "inf", "-0"]),
)
_SEPARATORS = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0", "\u200f", ",", " + "])


@st.composite
def duration_texts(draw: st.DrawFn) -> str:
    """Duration strings: the contract's forms ("1h 30min", "250ms") and every way to get one
    wrong (units that are not ours, no unit, negative, huge, foreign digits, odd spacing)."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(_NUMBERS) + draw(_SEPARATORS.filter(lambda s: s != ","))
                     * draw(st.integers(0, 1)) + draw(st.sampled_from(_UNITS)))
    sep = draw(_SEPARATORS)
    return draw(_SEPARATORS) * draw(st.integers(0, 1)) + sep.join(parts)


# Small, well-formed durations: enough for a scenario that runs quickly to its end.
small_durations = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 999), st.sampled_from(["ms", "s", "min"])),
    st.builds(lambda h, m: f"{h}h {m}min", st.integers(0, 30), st.integers(0, 59)),
    st.builds(lambda d: f"{d}d", st.integers(1, 3)),
)

_OFFSETS = st.sampled_from([timedelta(0), timedelta(hours=8), timedelta(hours=-12),
                            timedelta(hours=14), timedelta(hours=23, minutes=59),
                            timedelta(hours=5, minutes=45)])


@st.composite
def absolute_times(draw: st.DrawFn) -> Any:
    """Absolute times as TOML datetimes (offset, local, date only, time only) or as strings."""
    when = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    shape = draw(st.integers(0, 6))
    if shape == 0:
        return when.replace(tzinfo=timezone(draw(_OFFSETS)))
    if shape == 1:
        return when
    if shape == 2:
        return when.date()
    if shape == 3:
        return when.time()
    text = when.replace(tzinfo=timezone(draw(_OFFSETS))).isoformat()
    if shape == 4:
        return text
    return draw(st.sampled_from([
        text.replace("T", " "), text[:-6], text[:-6] + "Z", text + "junk", text.replace("-", "/"),
        "2026-02-30T08:00:00+08:00", "2026-03-01T25:00:00+08:00", "2026-03-01T08:00:00+24:00",
        "2026-03-01T08:00:00.1234567891234+08:00", "２０２６-03-01T08:00:00+08:00",
        "2026-03-01T08:00:00\u200f+08:00", "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00", "2026-03-01",
    ]))


# A plausible start inside the meter's calendar, so that valid documents go on to run.
good_starts = st.one_of(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 1, 1))
    .map(lambda d: d.replace(tzinfo=timezone(timedelta(hours=8)))),
    st.just("2026-03-01T08:00:00+08:00"),
)

any_scalar = st.one_of(extreme_floats, extreme_ints, st.booleans(), tricky_text,
                       absolute_times(), duration_texts())
any_value = st.recursive(
    any_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(tricky_text, inner, max_size=3)),
    max_leaves=8,
)

_KEYS = [k.name for k in list_keys()]
_SPECS = {k.name: k for k in list_keys()}


class _Mix:
    """Draws a field's value: a good one, or — with the document's wildness, in tenths — a wild
    one. One wildness for a whole document, so that some documents are wrong in one place only
    and the run gets past it to the next check, or to the kernel."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.wildness = draw(st.sampled_from([0, 0, 1, 1, 2, 5]))

    def wild(self) -> bool:
        return self.draw(st.integers(0, 9)) < self.wildness

    def __call__(self, good: st.SearchStrategy[Any], wild: st.SearchStrategy[Any]) -> Any:
        return self.draw(wild if self.wild() else good)


def _meter_table(mix: _Mix) -> dict[str, Any]:
    """[meter]: known profile keys with legal or wild values, unknown keys, a profile name."""
    draw = mix.draw
    t: dict[str, Any] = {}
    if draw(st.integers(0, 4)) == 0:
        t["profile"] = mix(st.just("single-phase"), st.one_of(tricky_text, any_scalar))
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(_KEYS))
        t[name] = mix(key_values(_SPECS[name]), any_value)
    if mix.wild():
        t[draw(tricky_text)] = draw(any_value)
    return t


_WILD_TIME = st.one_of(duration_texts(), absolute_times(), any_value)


def _s(seconds: int) -> str:
    return f"{seconds}s"


def _good_items(draw: st.DrawFn, section: str, horizon_s: int) -> list[dict[str, Any]]:
    """Well-formed entries of one section, in order and inside the scenario's first
    ``horizon_s`` seconds: what a careful user writes."""
    items: list[dict[str, Any]] = []
    t = draw(st.integers(0, 600))
    for _ in range(draw(st.integers(0, 4))):
        length = draw(st.integers(1, max(1, horizon_s // 8)))
        if t + length >= horizon_s:
            break
        if section in ("outage", "programming_key"):
            items.append({"at": _s(t), "for": _s(length)})
        elif section == "cover":
            items.append({"open_at": _s(t), "close_at": _s(t + length)})
        elif section == "fault":
            items.append({"kind": draw(st.sampled_from(FAULT_KINDS)), "at": _s(t)})
        else:
            items.append({"at": _s(t), "import_w": draw(st.floats(0, 10_000)),
                          "export_w": draw(st.floats(0, 10_000))})
        t += length + draw(st.integers(1, 3600))
    return items


def _array_tables(mix: _Mix, section: str, horizon_s: int) -> list[Any]:
    """An array of tables: well-formed entries, with here and there a value, a key left out or
    an unknown key that is wrong."""
    draw = mix.draw
    items = _good_items(draw, section, horizon_s)
    for item in items:
        for k in list(item):
            if mix.wild():
                if draw(st.booleans()):
                    del item[k]
                else:
                    item[k] = draw(_WILD_TIME)
        if mix.wild():
            item[draw(tricky_text)] = draw(any_value)
    return items


_SECTIONS = ("outage", "cover", "fault", "load", "programming_key")


@st.composite
def scenario_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario document: the contract's shape with odd values here and there, and sometimes
    odd shapes (a section given as a plain table or a scalar, unknown keys and deep tables)."""
    mix = _Mix(draw)
    doc: dict[str, Any] = {}
    if draw(st.integers(0, 3)) > 0:
        doc["name"] = mix(tricky_text, any_scalar)
    if not mix.wild():
        doc["start"] = mix(good_starts, st.one_of(absolute_times(), any_scalar))
    hours = draw(st.integers(1, 72))
    if not mix.wild():
        doc["duration"] = mix(st.just(f"{hours}h"), st.one_of(small_durations, _WILD_TIME))
    if draw(st.booleans()):
        doc["seed"] = mix(st.integers(0, 2**32), st.one_of(extreme_ints, any_scalar))
    if draw(st.booleans()):
        doc["meter"] = _meter_table(mix) if not mix.wild() else draw(any_value)
    for section in _SECTIONS:
        if draw(st.integers(0, 2)) == 0:
            if mix.wild() and mix.wild():  # a plain table, or a scalar, where an array belongs
                doc[section] = draw(st.one_of(st.dictionaries(tricky_text, any_value,
                                                               max_size=2), any_scalar))
            else:
                doc[section] = _array_tables(mix, section, hours * 3600)
    if mix.wild():  # unknown keys, deep tables
        doc[draw(tricky_text)] = draw(any_value)
    if mix.wild() and draw(st.integers(0, 3)) == 0:
        deep: dict[str, Any] = {"leaf": draw(any_scalar)}
        for _ in range(draw(st.integers(1, 40))):
            deep = {draw(st.sampled_from(["meter", "a", "outage", "x"])): deep}
        doc.update(deep)
    return doc
