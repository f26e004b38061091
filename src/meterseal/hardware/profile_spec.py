"""What a profile key is: its type, unit, allowed values, sourced default, and its check.

Owns ProfileKey and the user-facing ProfileError; knows no particular key (profile_keys.py holds
the registry) and nothing of how values are used."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["ProfileError", "ProfileKey", "ProfileValue", "key"]

ProfileValue = float | int | bool | str


class ProfileError(ValueError):
    """A profile name, key or value a user supplied cannot be used; the message says which."""


@dataclass(frozen=True, slots=True)
class ProfileKey:
    """One dotted profile key: its type, unit, allowed values and sourced default.

    ``kind`` is one of ``float``, ``int``, ``bool``, ``str``. ``minimum``/``maximum`` are inclusive
    bounds unless ``exclusive_minimum`` (then the value must be strictly above ``minimum``).
    ``choices`` restricts a key to listed values; ``pattern`` (a regular expression, full match)
    restricts a ``str`` key.
    """

    name: str
    default: ProfileValue
    kind: type
    unit: str
    source: str
    meaning: str
    choices: tuple[ProfileValue, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    pattern: str | None = None

    def check(self, value: object) -> ProfileValue:
        """``value`` converted to this key's type, or ProfileError naming the key and the value."""
        kind = self.kind
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._error(value, "must be a number" + self._unit_hint())
            value = float(value)
            if not math.isfinite(value):
                raise self._error(value, "must be a finite number" + self._unit_hint())
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._error(value, "must be a whole number (an integer)")
        elif kind is bool:
            if not isinstance(value, bool):
                raise self._error(value, "must be true or false")
        elif kind is str:
            if not isinstance(value, str):
                raise self._error(value, "must be a string")
        else:  # pragma: no cover - a registry bug, not a user error
            raise TypeError(f"profile key {self.name!r} has unsupported kind {kind!r}")

        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise self._error(value, f"must be one of {allowed}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):  # type: ignore[arg-type]
            raise self._error(value, f"must match {self.pattern} ({self.meaning})")
        if self.minimum is not None:
            low = self.minimum
            if value < low or (self.exclusive_minimum and value == low):  # type: ignore[operator]
                op = ">" if self.exclusive_minimum else ">="
                raise self._error(
                    value, f"is out of range: must be {op} {low:g}{self._unit_hint()}"
                )
        if self.maximum is not None and value > self.maximum:  # type: ignore[operator]
            raise self._error(
                value, f"is out of range: must be <= {self.maximum:g}{self._unit_hint()}"
            )
        return value  # type: ignore[return-value]

    def _unit_hint(self) -> str:
        return f" ({self.unit})" if self.unit and self.unit != "-" else ""

    def _error(self, value: object, problem: str) -> ProfileError:
        return ProfileError(f"profile key {self.name!r} = {value!r} {problem}")


def key(
    name: str,
    default: ProfileValue,
    unit: str,
    source: str,
    meaning: str,
    *,
    choices: tuple[ProfileValue, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    pattern: str | None = None,
) -> ProfileKey:
    kind: type = type(default)
    return ProfileKey(
        name=name,
        default=default,
        kind=kind,
        unit=unit,
        source=source,
        meaning=meaning,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive_minimum,
        pattern=pattern,
    )
