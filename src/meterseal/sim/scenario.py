"""Scenario files: parsing, validation and the immutable Scenario the kernel runs.

Owns the TOML contract of DESIGN.md (durations, offsets or absolute times, outages, cover
operations, faults, loads, profile overrides, programming-key windows) and its error messages.
It knows nothing of the physics or the firmware; a scenario that is physically inconsistent is
rejected here.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from meterseal.hardware.board import BoardParams
from meterseal.hardware.profile import Profile, ProfileError, resolve_profile


class ScenarioError(ValueError):
    """A scenario the user must fix; the message names the problem in one line."""


_UNIT_US = {
    "us": 1,
    "µs": 1,
    "ms": 1_000,
    "s": 1_000_000,
    "min": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
}
_TOKEN = re.compile(r"\s*([0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})\s*(us|µs|ms|min|s|h|d)\s*",
                    re.ASCII)
MAX_DURATION_TEXT = 200  # characters; a longer duration string is a mistake, not a plan

GLITCH_KINDS = ("glitch", "glitch-burst")
# power-cut: the MCU and the EEPROM lose power at an exact instant; glitch: an ESD spike or an
# EFT burst makes the cover switch's pin read the other level for a short while.
FAULT_KINDS = ("power-cut", *GLITCH_KINDS)
MAX_GLITCH_US = 1_000_000  # a "glitch" longer than a second is a cover operation, not noise
# A scenario's outages, cover operations, faults, load steps and key presses together: far above
# any real use (a year of hourly load steps is 8,760), low enough that a typo cannot exhaust the
# machine before the run starts.
MAX_SCENARIO_EVENTS = 1_000_000
# A scenario file's size: MAX_SCENARIO_EVENTS entries of a few dozen bytes each fit with room;
# more is a device without end (/dev/zero, /dev/full) or a mistake, read no further.
MAX_SCENARIO_BYTES = 64 * 2**20
# Load on one single-phase meter: 60–100 A at 230 V is about 23 kW; 100 kW leaves room and still
# refuses a unit mistake (watts given in milliwatts) before it overflows the registers.
MAX_LOAD_W = 100_000.0
# The meter's calendar (its records and the DL/T 645 wire) holds the years 2000..2099.
CALENDAR = "2000-01-01T00:00 to 2099-12-31T23:59 in the meter's local time"


def parse_duration(text: object, what: str) -> int:
    """'1h 30min' -> microseconds (int). Exact: decimal arithmetic, no float rounding."""
    if isinstance(text, bool) or not isinstance(text, str):
        raise ScenarioError(f"{what}: expected a duration string like \"2h\" or \"1h 30min\", "
                            f"got {text!r}")
    if len(text) > MAX_DURATION_TEXT:
        raise ScenarioError(f"{what}: a duration of {len(text)} characters is not one "
                            f"(at most {MAX_DURATION_TEXT}; e.g. \"1h 30min\")")
    pos = 0
    total = Decimal(0)
    matched = False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        try:
            total += Decimal(m.group(1)) * _UNIT_US[m.group(2)]
        except InvalidOperation:
            break
        pos = m.end()
        matched = True
    if not matched or pos != len(text):
        raise ScenarioError(f"{what}: cannot read duration {text!r} "
                            "(use units us, ms, s, min, h, d, e.g. \"1h 30min\")")
    if total != total.to_integral_value():
        raise ScenarioError(f"{what}: duration {text!r} is finer than a microsecond")
    return int(total)


@dataclass(frozen=True, slots=True)
class Outage:
    at_us: int
    for_us: int

    @property
    def end_us(self) -> int:
        return self.at_us + self.for_us


@dataclass(frozen=True, slots=True)
class CoverOp:
    open_us: int
    close_us: int | None  # None: the cover stays open
    # The switch held pressed by a tool while the cover is off: the cover opens, the switch
    # never moves (an attack nothing electrical can see).
    held: bool = False


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    at_us: int
    # glitch / glitch-burst: each false edge pair lasts width_us; a burst has count of them,
    # one every period_us.
    width_us: int = 0
    count: int = 1
    period_us: int = 0

    def glitches(self) -> list[tuple[int, int]]:
        """(start, end) of each false excursion of the switch's pin (none for a power cut)."""
        if self.kind not in GLITCH_KINDS:
            return []
        return [(self.at_us + k * self.period_us, self.at_us + k * self.period_us + self.width_us)
                for k in range(self.count)]


@dataclass(frozen=True, slots=True)
class LoadStep:
    at_us: int
    import_w: float
    export_w: float


DEFAULT_LOAD = LoadStep(0, 500.0, 0.0)


@dataclass(frozen=True, slots=True)
class KeyWindow:
    """The programming key (under the sealed cover) held pressed from at_us for for_us.

    Windows may reach past the scenario's end: the live meter served after the run reads the
    key at its own running time (see sim/live.py), so `at = "1d", for = "30d"` on a one-day
    scenario means "pressed while it is served".
    """

    at_us: int
    for_us: int

    @property
    def end_us(self) -> int:
        return self.at_us + self.for_us

    def holds(self, t_us: int) -> bool:
        return self.at_us <= t_us < self.end_us


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    start: datetime
    duration_us: int
    seed: int = 0
    profile_name: str = "single-phase"
    overrides: tuple[tuple[str, object], ...] = ()
    outages: tuple[Outage, ...] = ()
    cover: tuple[CoverOp, ...] = ()
    # The terminal cover's operations: its own switch (terminal_cover.present), same fields.
    terminal_cover: tuple[CoverOp, ...] = ()
    faults: tuple[Fault, ...] = ()
    loads: tuple[LoadStep, ...] = (DEFAULT_LOAD,)
    programming_key: tuple[KeyWindow, ...] = ()
    # Resolved from profile_name and overrides, never given: dataclasses.replace with other
    # overrides must not carry the old profile along (it copies every init field).
    profile: Profile = field(default=None, init=False, compare=False,  # type: ignore[assignment]
                             repr=False)

    def __post_init__(self) -> None:
        validate(self)
        try:
            prof = resolve_profile(dict(self.overrides), self.profile_name)
            BoardParams.from_profile(prof)  # what only the typed board can refuse
        except ProfileError as exc:
            raise ScenarioError(f"[meter]: {exc}") from None
        object.__setattr__(self, "profile", prof)
        _check_calendar(self)

    def programming_key_pressed(self, t_us: int) -> bool:
        """Whether the programming key is pressed at t_us (µs since the start; may be after
        the scenario's end)."""
        return any(w.holds(t_us) for w in self.programming_key)


def _check_calendar(sc: Scenario) -> None:
    """Every instant the meter may stamp must fit its calendar: the start in the meter's local
    time, and the end plus what its clock can drift in the meantime."""
    p = sc.profile
    offset = timedelta(hours=float(p["meter.utc_offset_h"]))  # type: ignore[arg-type]
    drift = abs(float(p["rtc.drift_ppm"])) * 1e-6  # type: ignore[arg-type]
    last_us = max([sc.duration_us, *(o.end_us for o in sc.outages)])
    try:
        local_start = sc.start.astimezone(timezone(offset)).replace(tzinfo=None)
        local_end = local_start + timedelta(microseconds=last_us * (1 + drift))
    except OverflowError:
        what = "duration" if last_us == sc.duration_us else "outage"
        raise ScenarioError(f"{what}: the scenario runs past the meter's calendar ({CALENDAR})"
                            ) from None
    if local_start < datetime(2000, 1, 1):
        raise ScenarioError(f"start: {sc.start.isoformat()} is before the meter's calendar "
                            f"({CALENDAR})")
    if local_end >= datetime(2099, 12, 31, 23, 59):
        what = "duration" if last_us == sc.duration_us else "outage"
        raise ScenarioError(f"{what}: the scenario (with its last outage) ends past the meter's "
                            f"calendar ({CALENDAR})")


def _check_glitch(f: Fault, duration_us: int) -> None:
    if not 1 <= f.width_us <= MAX_GLITCH_US:
        raise ScenarioError(f"fault {f.kind}: width must be from 1 µs to {MAX_GLITCH_US // 1000} "
                            "ms")
    if f.kind == "glitch" and f.count != 1:
        raise ScenarioError("fault glitch: one false edge pair (use glitch-burst for several)")
    if not 1 <= f.count <= 10_000:
        raise ScenarioError("fault glitch-burst: count must be from 1 to 10000")
    if f.count > 1 and f.period_us <= f.width_us:
        raise ScenarioError("fault glitch-burst: period must be longer than width")
    if f.glitches()[-1][1] > duration_us:
        raise ScenarioError(f"fault {f.kind}: it runs past the scenario's end")


def validate(sc: Scenario) -> None:
    if sc.start.tzinfo is None:
        raise ScenarioError("start: the time needs an offset, e.g. 2026-03-01T08:00:00+08:00")
    if sc.duration_us <= 0:
        raise ScenarioError("duration: must be longer than zero")
    n = (len(sc.outages) + len(sc.cover) + len(sc.faults) + len(sc.loads)
         + len(sc.programming_key) + len(sc.terminal_cover))
    if n > MAX_SCENARIO_EVENTS:
        raise ScenarioError(f"scenario: {n:,} outages, cover operations, faults, load steps and "
                            f"key presses; at most {MAX_SCENARIO_EVENTS:,}")
    prev_end = None
    for i, o in enumerate(sorted(sc.outages, key=lambda o: o.at_us)):
        if o.at_us < 0 or o.for_us <= 0:
            raise ScenarioError(f"outage {i + 1}: needs at >= 0 and for > 0")
        if o.at_us >= sc.duration_us:
            raise ScenarioError(f"outage {i + 1}: at {o.at_us / 1e6:g} s is not before the "
                                "scenario's end")
        if prev_end is not None and o.at_us < prev_end:
            raise ScenarioError(f"outage at {o.at_us / 1e6:g} s overlaps the outage before it")
        prev_end = o.end_us
    _check_cover_ops(sc.cover, "cover", sc.duration_us)
    _check_cover_ops(sc.terminal_cover, "terminal_cover", sc.duration_us)
    for f in sc.faults:
        if f.kind not in FAULT_KINDS:
            raise ScenarioError(f"fault kind {f.kind!r} unknown (known: {', '.join(FAULT_KINDS)})")
        if not 0 <= f.at_us <= sc.duration_us:
            raise ScenarioError("fault: at is outside the scenario")
        if f.kind in GLITCH_KINDS:
            _check_glitch(f, sc.duration_us)
    _check_loads(sc.loads)
    _check_keys(sc)


def _check_cover_ops(ops: tuple[CoverOp, ...], what: str, duration_us: int) -> None:
    prev_close: int | None = -1
    for i, c in enumerate(sorted(ops, key=lambda c: c.open_us)):
        if c.open_us < 0:
            raise ScenarioError(f"{what} {i + 1}: open_at before the scenario start")
        if c.open_us >= duration_us or (c.close_us is not None and c.close_us > duration_us):
            raise ScenarioError(f"{what} {i + 1}: the operation reaches past the scenario's end "
                                "(omit close_at for a cover that stays open)")
        if prev_close is None:
            raise ScenarioError(
                f"{what} {i + 1}: opened again while still open (no close_at before)")
        if c.open_us <= prev_close:
            raise ScenarioError(f"{what} {i + 1}: opened before the previous operation closed")
        if c.close_us is not None and c.close_us <= c.open_us:
            raise ScenarioError(f"{what} {i + 1}: close_at is not after open_at")
        prev_close = c.close_us


def _check_loads(loads: tuple[LoadStep, ...]) -> None:
    # A fast pass first (a fleet meter has thousands of hourly steps; NaN fails every
    # comparison, infinities the upper bound), the named check only when one is out of range.
    if all(0 <= ld.import_w <= MAX_LOAD_W and 0 <= ld.export_w <= MAX_LOAD_W for ld in loads):
        return
    for i, ld in enumerate(loads):
        for name, w in (("import_w", ld.import_w), ("export_w", ld.export_w)):
            if not (math.isfinite(w) and 0 <= w <= MAX_LOAD_W):
                raise ScenarioError(f"load {i + 1}: {name} = {w!r} must be from 0 to "
                                    f"{MAX_LOAD_W:g} W (one single-phase meter)")


def _check_keys(sc: Scenario) -> None:
    prev_key_end = None
    for i, w in enumerate(sorted(sc.programming_key, key=lambda w: w.at_us)):
        if w.at_us < 0 or w.for_us <= 0:
            raise ScenarioError(f"programming_key {i + 1}: needs at >= 0 and for > 0")
        if prev_key_end is not None and w.at_us < prev_key_end:
            raise ScenarioError(
                f"programming_key at {w.at_us / 1e6:g} s overlaps the window before it"
            )
        prev_key_end = w.end_us


_TOP_KEYS = {
    "name", "start", "duration", "seed", "meter", "outage", "cover", "fault", "load",
    "programming_key", "terminal_cover",
}


def _table_keys(where: str, table: object, allowed: set[str]) -> Mapping[str, object]:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: expected a table")
    for key in table:
        if key not in allowed:
            allowed_list = ", ".join(sorted(allowed))
            raise ScenarioError(f"{where}: unknown key {key!r} (allowed: {allowed_list})")
    return table


def _offset(value: object, start: datetime, what: str) -> int:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\d[T ]", value):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{what}: cannot read time {value!r}") from None
    else:
        return parse_duration(value, what)
    if when.tzinfo is None:
        raise ScenarioError(f"{what}: absolute time {value!s} needs an offset")
    delta = when - start
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if us < 0:
        raise ScenarioError(f"{what}: {value!s} is before the scenario start")
    return us


def _fault(t: Mapping[str, object], start: datetime, where: str) -> Fault:
    kind = str(t["kind"])
    at = _offset(t["at"], start, f"{where} at")
    extra = set(t) - {"kind", "at"}
    if kind not in GLITCH_KINDS:
        if extra:
            raise ScenarioError(f"{where}: a {kind} takes no {', '.join(sorted(extra))}")
        return Fault(kind, at)
    if "width" not in t:
        raise ScenarioError(f"{where}: a {kind} needs 'width' (e.g. \"2ms\")")
    count = t.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int):
        raise ScenarioError(f"{where} count: expected a whole number")
    period = parse_duration(t["period"], f"{where} period") if "period" in t else 0
    return Fault(kind, at, parse_duration(t["width"], f"{where} width"), count, period)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{what}: expected a number, got {value!r}")
    return float(value)


def parse_scenario(doc: Mapping[str, object], default_name: str = "scenario") -> Scenario:
    _table_keys("scenario", dict(doc), _TOP_KEYS)
    name = doc.get("name", default_name)
    if not isinstance(name, str):
        raise ScenarioError("name: expected a string")
    if "start" not in doc:
        raise ScenarioError("start: missing (e.g. start = \"2026-03-01T08:00:00+08:00\")")
    raw_start = doc["start"]
    if isinstance(raw_start, datetime):
        start = raw_start
    elif isinstance(raw_start, str):
        try:
            start = datetime.fromisoformat(raw_start)
        except ValueError:
            raise ScenarioError(f"start: cannot read time {raw_start!r}") from None
    else:
        raise ScenarioError("start: expected a time with offset")
    if start.tzinfo is None:
        raise ScenarioError("start: the time needs an offset, e.g. 2026-03-01T08:00:00+08:00")
    if "duration" not in doc:
        raise ScenarioError("duration: missing (e.g. duration = \"1d\")")
    duration_us = parse_duration(doc["duration"], "duration")
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError("seed: expected an integer")

    meter = _dotted(_table_keys("[meter]", doc.get("meter", {}), _ANY)) if "meter" in doc else {}
    profile_name = meter.pop("profile", "single-phase")
    if not isinstance(profile_name, str):
        raise ScenarioError("[meter] profile: expected a string")

    outages = [Outage(at, length) for at, length in _windows(doc, "outage", start)]
    covers = _cover_ops(doc, "cover", start)
    terminal = _cover_ops(doc, "terminal_cover", start)
    faults = []
    for i, t in enumerate(_array(doc, "fault")):
        t = _table_keys(f"[[fault]] {i + 1}", t, {"kind", "at", "width", "count", "period"})
        if "kind" not in t or "at" not in t:
            raise ScenarioError(f"[[fault]] {i + 1}: needs 'kind' and 'at'")
        if not isinstance(t["kind"], str):
            raise ScenarioError(f"[[fault]] {i + 1} kind: expected a string")
        faults.append(_fault(t, start, f"[[fault]] {i + 1}"))
    loads = []
    for i, t in enumerate(_array(doc, "load")):
        t = _table_keys(f"[[load]] {i + 1}", t, {"at", "import_w", "export_w"})
        loads.append(LoadStep(_offset(t.get("at", "0s"), start, f"[[load]] {i + 1} at"),
                              _number(t.get("import_w", 0.0), f"[[load]] {i + 1} import_w"),
                              _number(t.get("export_w", 0.0), f"[[load]] {i + 1} export_w")))
    keys = [KeyWindow(at, length) for at, length in _windows(doc, "programming_key", start)]
    return Scenario(
        name=name,
        start=start,
        duration_us=duration_us,
        seed=seed,
        profile_name=profile_name,
        overrides=tuple(sorted(meter.items())),
        outages=tuple(sorted(outages, key=lambda o: o.at_us)),
        cover=tuple(sorted(covers, key=lambda c: c.open_us)),
        terminal_cover=tuple(sorted(terminal, key=lambda c: c.open_us)),
        faults=tuple(sorted(faults, key=lambda f: f.at_us)),
        loads=tuple(sorted(loads, key=lambda ld: ld.at_us)) or (DEFAULT_LOAD,),
        programming_key=tuple(sorted(keys, key=lambda w: w.at_us)),
    )


def _cover_ops(doc: Mapping[str, object], section: str, start: datetime) -> list[CoverOp]:
    """The [[cover]] (or [[terminal_cover]]) operations: open_at, optional close_at and held."""
    ops = []
    for i, t in enumerate(_array(doc, section)):
        where = f"[[{section}]] {i + 1}"
        t = _table_keys(where, t, {"open_at", "close_at", "held"})
        if "open_at" not in t:
            raise ScenarioError(f"{where}: missing 'open_at'")
        close = t.get("close_at")
        held = t.get("held", False)
        if not isinstance(held, bool):
            raise ScenarioError(f"{where} held: expected true or false")
        ops.append(CoverOp(_offset(t["open_at"], start, f"{where} open_at"),
                           None if close is None else _offset(close, start, f"{where} close_at"),
                           held))
    return ops


def _dotted(table: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """[meter] keys as the profile names them: `supercap.part = "x"` written bare is a TOML
    sub-table, the same key as the quoted `"supercap.part" = "x"`."""
    out: dict[str, object] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            for k, v in _dotted(value, f"{name}.").items():
                if k in out:
                    raise ScenarioError(f"[meter]: key {k!r} is given twice")
                out[k] = v
        elif name in out:
            raise ScenarioError(f"[meter]: key {name!r} is given twice")
        else:
            out[name] = value
    return out


class _AnyKeys(set[str]):
    def __contains__(self, item: object) -> bool:
        return True


_ANY = _AnyKeys()


def _windows(doc: Mapping[str, object], key: str, start: datetime) -> list[tuple[int, int]]:
    """An array of {at, for} tables (outages, programming-key presses) as (at_us, for_us)."""
    out = []
    for i, t in enumerate(_array(doc, key)):
        where = f"[[{key}]] {i + 1}"
        t = _table_keys(where, t, {"at", "for"})
        for k in ("at", "for"):
            if k not in t:
                raise ScenarioError(f"{where}: missing {k!r}")
        out.append((_offset(t["at"], start, f"{where} at"),
                    parse_duration(t["for"], f"{where} for")))
    return out


def _array(doc: Mapping[str, object], key: str) -> list[object]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"[[{key}]]: expected an array of tables ([[{key}]])")
    return value


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        with p.open("rb") as fh:  # a pipe is fine; a device without end is cut off below
            data = fh.read(MAX_SCENARIO_BYTES + 1)
        if len(data) > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{p}: more than {MAX_SCENARIO_BYTES // 2**20} MiB, "
                                "which no scenario file is")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{p}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot read ({exc.__class__.__name__})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML ({exc})") from None
    try:
        return parse_scenario(doc, default_name=p.stem)
    except ScenarioError as exc:
        raise ScenarioError(f"{p}: {exc}") from None
