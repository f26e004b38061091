"""What `meterseal size` is asked, and the board it is asked on.

Owns the requirement a hardware engineer brings — the watch after mains is lost, the
temperature, the capacitance's tolerance and ageing, the clock battery, the cover openings in
the watch, further profile keys — checked against the profile before anything runs, each
refusal naming its option; and the profile keys of one candidate under it.

Capacitance changes a part's other figures: by default (``--part-family eaton-pb``) a
candidate's ESR and leakage follow the Eaton PB 5.0 V family of hardware.md (0.1 / 0.47 / 1.0 F:
ESR 4.0 / 1.0 / 0.5 Ω, leakage 3 / 7 / 12 µA), interpolated log-log and scaled so that 1.0 F
keeps the profile's own values; ``--part-family fixed`` keeps the profile's ESR and leakage for
every candidate. A value set with ``--set`` is always kept as it is.

Must not know: the simulator, the search over candidates (sizing.py), how a trial is run or
its budget counted (sizing_trial.py).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from meterseal.hardware.profile import ProfileError, resolve_profile

__all__ = [
    "BATTERY_STATES",
    "HOUR_US",
    "PART_FAMILIES",
    "PROFILE",
    "Requirement",
    "SizingError",
    "check_options",
    "part_values",
]

PROFILE = "supercap-watch"
"""The board sized here: the supercapacitor carries the watch from the first second (the
battery-first design hands it the watch only once the battery is undervoltage)."""

BATTERY_STATES: dict[str, dict[str, object]] = {
    "good": {"battery.present": True},
    # The matrix's weak battery: 2.4 V, under the 2.50 V undervoltage warning (hardware.md, clock-
    # battery undervoltage row): the RTC domain falls back to the supercapacitor and retained RAM
    # no longer outlives the MCU.
    "weak": {"battery.present": True, "battery.voltage_v": 2.4},
    "absent": {"battery.present": False},
}

# Eaton PB 5.0 V stacked parts (hardware.md, "Supercapacitors used in meters"): C, ESR, leakage
# current after 72 h at 20 °C at the rated 5.0 V.
_PB_ROWS: tuple[tuple[float, float, float], ...] = (
    (0.1, 4.0, 3e-6),
    (0.47, 1.0, 7e-6),
    (1.0, 0.5, 12e-6),
)
PART_FAMILIES = ("eaton-pb", "fixed")

# Keys that a requirement option sets: --set may not set them too.
_OPTION_KEYS = {
    "supercap.capacitance_f": "--candidates",
    "ambient.temperature_c": "--temperature",
    "supercap.tolerance": "--tolerance",
    "supercap.ageing": "--ageing",
    "battery.present": "--battery",
    "battery.voltage_v": "--battery",
}

HOUR_US = 3_600_000_000


class SizingError(ValueError):
    """A requirement that cannot be read or is out of range; the message names the option."""


def check_options(options: Sequence[tuple[str, str, object]],
                  overrides: Sequence[tuple[str, object]], profile: str) -> None:
    """Each (option, profile key, value) and the --set overrides resolved against the profile
    before anything runs: a SizingError naming the option at the first that is refused."""
    for option, key, value in options:
        try:
            resolve_profile({key: value}, profile)
        except ProfileError as exc:
            raise SizingError(f"{option}: {exc}") from None
    try:
        resolve_profile(dict(overrides), profile)
    except ProfileError as exc:
        raise SizingError(f"--set: {exc}") from None



@dataclass(frozen=True, slots=True)
class Requirement:
    """What the backup supply must do, and the board it does it on.

    ``watch_us``: the firmware must still be watching the cover this long after mains is lost,
    at ``temperature_c``, with the capacitance at ``tolerance`` (−0.2: the −20 % end) and
    ``ageing`` (0.3: −30 %), the clock battery ``battery`` (good, weak, absent), and
    ``openings`` cover openings of 10 min, one an hour from the first hour after mains loss,
    each recorded and reported as the firmware can afford (fixed instants, so a candidate's
    trial does not depend on the hours required and the answer is monotonic in them).
    ``overrides`` are further profile keys.
    """

    watch_us: int
    temperature_c: float = -25.0
    tolerance: float = -0.2
    ageing: float = 0.3
    battery: str = "weak"
    openings: int = 2
    overrides: tuple[tuple[str, object], ...] = ()
    part_family: str = "eaton-pb"

    def __post_init__(self) -> None:
        if self.watch_us <= 0:
            raise SizingError("--watch: the required watch must be longer than zero")
        if self.watch_us > 365 * 24 * HOUR_US:
            raise SizingError("--watch: more than a year of hold-up is not a supercapacitor's job")
        if self.battery not in BATTERY_STATES:
            raise SizingError(
                f"--battery: {self.battery!r} is not one of {', '.join(BATTERY_STATES)}"
            )
        if not 0 <= self.openings <= 50:
            raise SizingError(f"--openings: {self.openings} must be between 0 and 50")
        if self.part_family not in PART_FAMILIES:
            raise SizingError(f"--part-family: {self.part_family!r} is not one of "
                              f"{', '.join(PART_FAMILIES)}")
        for key, _value in self.overrides:
            if key in _OPTION_KEYS:
                raise SizingError(f"--set {key}: set it with {_OPTION_KEYS[key]} instead")
        # Every value checked against the profile now, with the option named.
        check_options((("--temperature", "ambient.temperature_c", self.temperature_c),
                       ("--tolerance", "supercap.tolerance", self.tolerance),
                       ("--ageing", "supercap.ageing", self.ageing)), self.overrides, PROFILE)

    @property
    def watch_h(self) -> float:
        return self.watch_us / HOUR_US

    def describe(self) -> str:
        p = self.profile_overrides(1.0)
        return (
            f"watch ≥ {_hours(self.watch_us)} after mains is lost, at {self.temperature_c:g} °C, "
            f"capacitance {self.tolerance * 100:+g} % tolerance and {-self.ageing * 100:+g} % "
            f"ageing, {self.battery} clock battery, {p['mcu.wake_mode']} wake, "
            f"{p['cover.bias']} switch bias, {self.openings} cover opening(s) in the watch, "
            f"{self.part_family} part family"
        )

    def profile_overrides(
        self,
        capacitance_f: float,
        *,
        temperature_c: float | None = None,
        wake_mode: str | None = None,
        bias: str | None = None,
    ) -> dict[str, object]:
        """The profile keys of one trial: the requirement, the candidate and its part values."""
        ov: dict[str, object] = dict(self.overrides)
        ov.update(BATTERY_STATES[self.battery])
        ov["supercap.capacitance_f"] = capacitance_f
        ov["ambient.temperature_c"] = (
            self.temperature_c if temperature_c is None else temperature_c
        )
        ov["supercap.tolerance"] = self.tolerance
        ov["supercap.ageing"] = self.ageing
        if wake_mode is not None:
            ov["mcu.wake_mode"] = wake_mode
        if bias is not None:
            ov["cover.bias"] = bias
        base = resolve_profile(ov, PROFILE)
        if self.part_family == "eaton-pb":
            set_keys = dict(self.overrides)
            esr, leak = part_values(
                capacitance_f,
                float(base["supercap.esr_ohm"]),  # type: ignore[arg-type]
                float(base["supercap.leakage_ohm"]),  # type: ignore[arg-type]
            )
            if "supercap.esr_ohm" not in set_keys:
                ov["supercap.esr_ohm"] = esr
            if "supercap.leakage_ohm" not in set_keys:
                ov["supercap.leakage_ohm"] = leak
        resolved = resolve_profile(ov, PROFILE)
        return dict(resolved.flat())


def _loglog(c_f: float, points: Sequence[tuple[float, float]]) -> float:
    """Piecewise log-log interpolation through ``points`` (x ascending), extrapolated along the
    end segments."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    x = math.log(c_f)
    i = min(max(bisect.bisect_right(xs, x) - 1, 0), len(xs) - 2)
    slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
    return math.exp(ys[i] + slope * (x - xs[i]))


def part_values(
    capacitance_f: float, esr_1f_ohm: float, leakage_1f_ohm: float
) -> tuple[float, float]:
    """(ESR, leakage resistance) of a ``capacitance_f`` part of the Eaton PB family, scaled so a
    1.0 F part has ``esr_1f_ohm`` and ``leakage_1f_ohm`` (the profile's values)."""
    esr_rows = [(c, esr) for c, esr, _i in _PB_ROWS]
    leak_rows = [(c, i) for c, _esr, i in _PB_ROWS]
    esr = esr_1f_ohm * _loglog(capacitance_f, esr_rows) / _loglog(1.0, esr_rows)
    # Leakage resistance is inverse to the leakage current at the same voltage.
    leak = leakage_1f_ohm * _loglog(1.0, leak_rows) / _loglog(capacitance_f, leak_rows)
    return esr, leak


def _hours(us: int) -> str:
    h = us / HOUR_US
    return f"{h:g} h"
