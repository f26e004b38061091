"""Resolving a profile: the built-in ``single-phase`` board with a scenario's overrides applied.

Owns ``resolve_profile`` (overrides checked against the registry of profile_keys.py, and the
cross-key rules: combinations the board or the firmware cannot represent are refused, and keys
that state one fact twice are kept in agreement) and the immutable ``Profile`` it returns.

Must not know how the numbers are used (parts.py, the kernel, the firmware do that), nor about
scenario files: it takes a plain mapping of dotted key -> value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from meterseal.hardware.profile_keys import KEYS as _KEYS
from meterseal.hardware.profile_spec import ProfileError, ProfileKey, ProfileValue

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
_PROFILES: dict[str, dict[str, ProfileValue]] = {"single-phase": {}}
PROFILE_NAMES: tuple[str, ...] = tuple(_PROFILES)


def list_keys() -> tuple[ProfileKey, ...]:
    """Every profile key, in documentation order (for docs and the CLI)."""
    return _KEYS


@dataclass(frozen=True, slots=True)
class Profile(Mapping[str, ProfileValue]):
    """A resolved, validated, immutable profile: ``profile["supercap.capacitance_f"]``.

    Holds every registry key. Hashable and picklable (campaigns ship it to workers).
    """

    name: str
    entries: tuple[tuple[str, ProfileValue], ...]
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
        """Where this key's default comes from (a hardware.md row, [U] or [D])."""
        try:
            return _REGISTRY[key].source
        except KeyError:
            raise KeyError(f"no profile key {key!r}") from None

    def __getstate__(self) -> tuple[str, tuple[tuple[str, ProfileValue], ...]]:
        return (self.name, self.entries)

    def __setstate__(self, state: tuple[str, tuple[tuple[str, ProfileValue], ...]]) -> None:
        name, items = state
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "entries", items)
        object.__setattr__(self, "_lookup", dict(items))


def _unknown_key_error(key: object) -> ProfileError:
    if not isinstance(key, str):
        return ProfileError(f"profile key {key!r} must be a dotted name string")
    close = difflib.get_close_matches(key, _REGISTRY, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else " (see `list_keys()` for the known keys)"
    return ProfileError(f"unknown profile key {key!r}{hint}")


def _check_consistency(values: Mapping[str, ProfileValue]) -> None:
    """Cross-key checks: combinations the board model cannot represent."""
    if values["supply.power_fail_v"] >= values["supply.rail_v"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'supply.power_fail_v' = {values['supply.power_fail_v']!r} must be below "
            f"'supply.rail_v' = {values['supply.rail_v']!r} V, or mains is never seen as present"
        )
    if values["battery.cutoff_v"] >= values["battery.voltage_v"]:  # type: ignore[operator]
        raise ProfileError(
            f"profile key 'battery.cutoff_v' = {values['battery.cutoff_v']!r} must be below "
            f"'battery.voltage_v' = {values['battery.voltage_v']!r} V (for a dead clock battery "
            f"set battery.present = false)"
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
    for key, value in overrides.items():
        spec = _REGISTRY.get(key) if isinstance(key, str) else None
        if spec is None:
            raise _unknown_key_error(key)
        values[key] = spec.check(value)
    _agree_debounce(values, overrides)
    _check_consistency(values)
    return Profile(name=name, entries=tuple(values.items()))
