"""The communication module's send as the meter's backup sees it: phases of constant current.

Owns the text form of a multi-phase current profile (``radio.profile``: phases
``current_a×duration_s`` separated by commas, e.g. ``"0.06x2, 0.22x0.5"``; ``x`` or ``×``), its
parsing with one-line errors, and the phases of one send in integer microseconds. An empty
profile means one phase: ``radio.burst_current_a`` for ``radio.burst_s`` (the keys' old meaning).

Must not know when a module sends or how often (the kernel and the firmware), nor the catalogue.
"""

from __future__ import annotations

import math
import re

__all__ = ["format_phases", "parse_phases", "phases_us"]

_MAX_PHASES = 32


def parse_phases(text: str) -> tuple[tuple[float, float], ...]:
    """``"0.06x2, 0.22x0.5"`` → ((0.06, 2.0), (0.22, 0.5)): (current A, duration s) per phase.

    ValueError naming the phase when a number is missing, negative, not finite, or a phase has no
    duration; an empty text is no phases at all.
    """
    if not text.strip():
        return ()
    phases = []
    for k, part in enumerate(text.split(","), start=1):
        m = re.fullmatch(r"\s*([^x×\s]+)\s*[x×]\s*([^x×\s]+)\s*", part)
        if m is None:
            raise ValueError(f"phase {k} {part.strip()!r} is not current_a×duration_s "
                             "(e.g. 0.22x0.5)")
        try:
            current_a, duration_s = float(m.group(1)), float(m.group(2))
        except ValueError:
            raise ValueError(f"phase {k} {part.strip()!r} has a number that is not one") from None
        if not (math.isfinite(current_a) and math.isfinite(duration_s)):
            raise ValueError(f"phase {k} {part.strip()!r} must be finite")
        if current_a < 0.0 or duration_s <= 0.0:
            raise ValueError(f"phase {k} {part.strip()!r} needs a current >= 0 A and a duration "
                             "> 0 s")
        phases.append((current_a, duration_s))
    if len(phases) > _MAX_PHASES:
        raise ValueError(f"{len(phases)} phases; a send has at most {_MAX_PHASES}")
    return tuple(phases)


def format_phases(phases: tuple[tuple[float, float], ...]) -> str:
    """The text form of ``phases`` (parse_phases's inverse up to float formatting)."""
    return ", ".join(f"{i:g}x{t:g}" for i, t in phases)


def phases_us(phases: tuple[tuple[float, float], ...]) -> tuple[tuple[float, int], ...]:
    """The phases with whole-µs durations (at least 1 µs each: a phase that exists lasts)."""
    return tuple((i, max(1, round(t * 1e6))) for i, t in phases)
