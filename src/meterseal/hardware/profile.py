"""Resolving a profile: the built-in ``single-phase`` board with a scenario's overrides applied.

Owns ``resolve_profile`` (overrides checked against the registry of profile_keys.py, and the
cross-key rules: combinations the board or the firmware cannot represent are refused, and keys
that state one fact twice are kept in agreement) and the immutable ``Profile`` it returns.

Layers, lowest first: the registry's defaults (the built-in profile), the catalogue rows the
selector keys pick (catalog.py: ``supercap.part``, ``nvm.part``, ``battery.part``,
``radio.module``), then the scenario's own keys — so every value a part sets stays overridable
key by key. ``battery.state`` then places the cell on its curve (battery.py) unless the scenario
sets ``battery.initial_drawn_fraction`` itself. A value a row set keeps the row's source.

Must not know how the numbers are used (parts.py, the kernel, the firmware do that), nor about
scenario files: it takes a plain mapping of dotted key -> value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from meterseal.hardware import catalog
from meterseal.hardware.battery import Battery, state_drawn_fraction
from meterseal.hardware.profile_keys import KEYS as _KEYS
from meterseal.hardware.profile_spec import ProfileError, ProfileKey, ProfileValue
from meterseal.hardware.radio import parse_phases

__all__ = [
    "PROFILE_NAMES",
    "Profile",
    "ProfileError",
    "ProfileKey",
    "list_keys",
    "resolve_profile",
]

_REGISTRY: dict[str, ProfileKey] = {key.name: key for key in _KEYS}

# Built-in profiles: name -> overrides of the registry defaults (the registry defaults ARE the
# single-phase profile).
_PROFILES: dict[str, dict[str, ProfileValue]] = {
    # The field's board (the registry's defaults): battery-first, catalogue parts.
    "single-phase": {},
    # The board the twin was first built on: the supercapacitor carries the watch from the first
    # second, generic part values (a 1 F stacked part, a plain EEPROM, one radio burst), no
    # standby loads. Scenarios written for it keep their meaning by naming it.
    "supercap-watch": {
        "supply.topology": "battery+supercap",
        "supercap.part": "custom",
        "nvm.part": "custom",
        "battery.part": "custom",
        "radio.module": "custom",
        "supply.quiescent_current_a": 0.0,
    },
}
PROFILE_NAMES: tuple[str, ...] = tuple(_PROFILES)


def list_keys() -> tuple[ProfileKey, ...]:
    """Every profile key, in documentation order (for docs and the CLI)."""
    return _KEYS


@dataclass(frozen=True, slots=True)
class Profile(Mapping[str, ProfileValue]):
    """A resolved, validated, immutable profile: ``profile["supercap.capacitance_f"]``.

    Holds every registry key. Hashable and picklable (campaigns ship it to workers).
    ``origins`` holds the sources of the values a catalogue row (or the battery's state) set.
    """

    name: str
    entries: tuple[tuple[str, ProfileValue], ...]
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False, hash=False)
    _lookup: dict[str, ProfileValue] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", dict(self.entries))

    def __getitem__(self, key: str) -> ProfileValue:
        try:
            return self._lookup[key]
        except KeyError:
            raise KeyError(f"no profile key {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup)

    def __len__(self) -> int:
        return len(self._lookup)

    def flat(self) -> dict[str, ProfileValue]:
        """Every resolved key, flat and dotted, JSON-able (a fresh dict)."""
        return dict(self._lookup)

    def source(self, key: str) -> str:
        """Where this key's value comes from: the catalogue row that set it, else the registry
        default's source (a hardware.md row, [U] or [D])."""
        for k, src in self.origins:
            if k == key:
                return src
        try:
            return _REGISTRY[key].source
        except KeyError:
            raise KeyError(f"no profile key {key!r}") from None

    def __getstate__(self) -> tuple[object, ...]:
        return (self.name, self.entries, self.origins)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        name, items, *rest = state
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "entries", items)
        object.__setattr__(self, "origins", rest[0] if rest else ())
        object.__setattr__(self, "_lookup", dict(items))  # type: ignore[arg-type]


def _unknown_key_error(key: object) -> ProfileError:
    if not isinstance(key, str):
        return ProfileError(f"profile key {key!r} must be a dotted name string")
    close = difflib.get_close_matches(key, _REGISTRY, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else " (see `list_keys()` for the known keys)"
    return ProfileError(f"unknown profile key {key!r}{hint}")


def _check_cell_curve(values: Mapping[str, ProfileValue]) -> None:
    """The cell's discharge curve needs a cut-off below its plateau; checked before
    ``battery.state`` places the cell on that curve."""
    if values["battery.cutoff_v"] >= values["battery.voltage_v"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'battery.cutoff_v' = {values['battery.cutoff_v']!r} must be below "
            f"'battery.voltage_v' = {values['battery.voltage_v']!r} V (for a dead clock battery "
            f"set battery.present = false)"
        )


def _check_consistency(values: Mapping[str, ProfileValue], explicit: Mapping[str, object]) -> None:
    """Cross-key checks: combinations the board model cannot represent. ``explicit`` holds the
    keys the scenario set itself (a contradiction between two of them, or with a part, is the
    scenario's to fix)."""
    if values["supply.power_fail_v"] >= values["supply.rail_v"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'supply.power_fail_v' = {values['supply.power_fail_v']!r} must be below "
            f"'supply.rail_v' = {values['supply.rail_v']!r} V, or mains is never seen as present"
        )
    if values["supercap.charge_source_v"] > values["supercap.rated_v"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'supercap.charge_source_v' = {values['supercap.charge_source_v']!r} V "
            f"must not exceed the part's 'supercap.rated_v' = {values['supercap.rated_v']!r} V "
            "(a supercapacitor charged above its rating fails)"
        )
    if values["cover.bounce_s"] >= values["cover.debounce_s"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'cover.bounce_s' = {values['cover.bounce_s']!r} s must be below the "
            f"debounce time 'cover.debounce_s' = {values['cover.debounce_s']!r} s "
            "(cover.debounce_samples × cover.sample_period_s), or the switch's bounces count as "
            "openings"
        )
    if values["cover.bias_pulse_s"] > values["cover.bias_period_s"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'cover.bias_pulse_s' = {values['cover.bias_pulse_s']!r} must not exceed "
            f"'cover.bias_period_s' = {values['cover.bias_period_s']!r} s"
        )
    _check_redistribution(values)
    if values["supercap.min_temperature_c"] >= values["supercap.max_temperature_c"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'supercap.min_temperature_c' = {values['supercap.min_temperature_c']!r} "
            f"must be below 'supercap.max_temperature_c' = "
            f"{values['supercap.max_temperature_c']!r} °C"
        )
    _check_radio(values)
    _check_battery_state(values, explicit)


# A branch's resistance and capacitance below these are not a redistribution branch but rounding
# (the branch's time constant would be under a nanosecond), and overflow its closed form.
MIN_BRANCH_OHM = 1e-3
MIN_BRANCH_F = 1e-6


def _check_redistribution(values: dict[str, object]) -> None:
    c_d = values["supercap.redistribution_f"]
    r_d = values["supercap.redistribution_ohm"]
    if c_d == 0.0:  # type: ignore[comparison-overlap]
        return
    if c_d < MIN_BRANCH_F:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'supercap.redistribution_f' = {c_d!r} F: 0 (no branch) or at least "
            f"{MIN_BRANCH_F} F")
    if not r_d >= MIN_BRANCH_OHM:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'supercap.redistribution_f' = {c_d!r} F needs "
            f"'supercap.redistribution_ohm' ≥ {MIN_BRANCH_OHM} Ω, got {r_d!r} (a branch without "
            "resistance is just more capacitance: add it to supercap.capacitance_f)")


def _check_radio(values: Mapping[str, ProfileValue]) -> None:
    """``radio.profile`` must parse. (With phases set the burst keys are not used; both may be
    present, as in a resolved profile fed back as a scenario's keys.)"""
    text = str(values["radio.profile"])
    try:
        parse_phases(text)
    except ValueError as exc:
        raise ProfileError(f"profile key 'radio.profile' = {text!r}: {exc}") from None


def _check_battery_state(values: Mapping[str, ProfileValue],
                         explicit: Mapping[str, object]) -> None:
    """A state the scenario names must agree with the battery keys: refused are 'absent' with a
    fitted cell, 'undervoltage' with a cell above that level, 'weak' with one at or below it.
    ('healthy' only means nothing was drawn: a plateau set low by battery.voltage_v stays the
    old way to model a poor cell, and a resolved profile fed back as keys must resolve again.)"""
    if "battery.state" not in explicit:
        return
    state = values["battery.state"]
    if state == "absent":
        if values["battery.present"]:
            raise ProfileError("profile key 'battery.state' = 'absent' contradicts "
                               "'battery.present' = true")
        return
    if state not in ("undervoltage", "weak"):
        return
    cell = Battery.from_profile(values)
    ocv = cell.ocv_at(cell.drawn_c)  # present or not: the state speaks of the cell itself
    uv = float(values["battery.undervoltage_v"])  # type: ignore[arg-type]
    below = ocv <= uv  # at the level is undervoltage (supply.py's boundary rule)
    if (state == "undervoltage") != below:
        side = "at or below" if below else "above"
        raise ProfileError(
            f"profile key 'battery.state' = {state!r} contradicts the cell's open-circuit "
            f"{ocv:.3g} V ({side} 'battery.undervoltage_v' = {uv!r} V) from 'battery.voltage_v' "
            f"= {values['battery.voltage_v']!r} and 'battery.initial_drawn_fraction' = "
            f"{values['battery.initial_drawn_fraction']!r}"
        )


def _agree_debounce(values: dict[str, ProfileValue], overrides: Mapping[str, object]) -> None:
    """`cover.debounce_s` and `cover.debounce_samples` state one fact: the firmware counts equal
    samples, so the time is samples × period. Whichever the scenario sets, the other follows; set
    both, they must agree."""
    period_s = float(values["cover.sample_period_s"])  # type: ignore[arg-type]
    samples = int(values["cover.debounce_samples"])  # type: ignore[call-overload]
    if "cover.debounce_s" in overrides:
        want_s = float(values["cover.debounce_s"])  # type: ignore[arg-type]
        if "cover.debounce_samples" in overrides:
            n = samples
        else:
            ratio = want_s / period_s  # inf for a period that is nearly nothing
            if ratio > 1000.5:
                raise ProfileError(
                    f"profile key 'cover.debounce_s' = {want_s!r} s is more than 1000 samples of "
                    f"'cover.sample_period_s' = {period_s!r} s; the firmware counts at most 1000")
            n = round(ratio)
        if n < 1 or abs(n * period_s - want_s) > 5e-7:
            raise ProfileError(
                f"profile key 'cover.debounce_s' = {want_s!r} s must be a whole number "
                f"(at least 1) of 'cover.sample_period_s' = {period_s!r} s"
                + (f" and agree with 'cover.debounce_samples' = {samples}"
                   if "cover.debounce_samples" in overrides else "")
                + ": the firmware debounces by counting equal samples"
            )
        if n > 1000:
            raise ProfileError(f"profile key 'cover.debounce_s' = {want_s!r} s is {n} samples "
                               "of the sampling period; the firmware counts at most 1000")
        values["cover.debounce_samples"] = n
        samples = n
    values["cover.debounce_s"] = round(samples * period_s, 9)  # ns: no float dust in the JSON


def resolve_profile(overrides: Mapping[str, object], name: str = "single-phase") -> Profile:
    """The built-in profile ``name`` with ``overrides`` (dotted key -> value) applied and checked.

    Raises ProfileError for an unknown profile name or key, a value of the wrong type, out of
    range or not among the choices, and for a few impossible combinations; each message names the
    key and the value. Ints are accepted for float keys (and become floats).
    """
    if name not in _PROFILES:
        known = ", ".join(repr(n) for n in _PROFILES)
        raise ProfileError(f"unknown profile {name!r}; built-in profiles: {known}")
    values: dict[str, ProfileValue] = {key.name: key.default for key in _KEYS}
    values.update(_PROFILES[name])
    explicit: dict[str, ProfileValue] = {}
    for key, value in overrides.items():
        spec = _REGISTRY.get(key) if isinstance(key, str) else None
        if spec is None:
            raise _unknown_key_error(key)
        explicit[key] = spec.check(value)
    origins: dict[str, str] = {}
    for selector in catalog.SELECTORS:
        row = catalog.find(selector, str(explicit.get(selector, values[selector])))
        if row is None:
            continue
        for v in row.values:
            values[v.key] = _REGISTRY[v.key].check(v.value)
            origins[v.key] = f"{row.name}: {v.source}"
    values.update(explicit)
    for key in explicit:
        origins.pop(key, None)
    _check_cell_curve(values)
    _apply_battery_state(values, explicit, origins)
    _agree_debounce(values, overrides)
    _check_consistency(values, explicit)
    return Profile(name=name, entries=tuple(values.items()), origins=tuple(origins.items()))


def _apply_battery_state(values: dict[str, ProfileValue], explicit: Mapping[str, object],
                         origins: dict[str, str]) -> None:
    """``battery.state`` sets the charge already drawn (and ``absent`` the cell's presence),
    unless the scenario set those keys itself."""
    state = str(values["battery.state"])
    if state == "absent" and "battery.present" not in explicit:
        values["battery.present"] = False
        origins["battery.present"] = "battery.state 'absent'"
    if "battery.initial_drawn_fraction" in explicit:
        return
    try:
        fraction = state_drawn_fraction(
            state, float(values["battery.voltage_v"]),  # type: ignore[arg-type]
            float(values["battery.cutoff_v"]),  # type: ignore[arg-type]
            float(values["battery.undervoltage_v"]),  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise ProfileError(f"profile key 'battery.state' = {state!r}: {exc}") from None
    values["battery.initial_drawn_fraction"] = fraction
    if fraction:
        origins["battery.initial_drawn_fraction"] = (
            f"[D] battery.state {state!r} placed on the cell's curve (battery.py)")
