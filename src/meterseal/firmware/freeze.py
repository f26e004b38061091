"""Daily freezes: which local midnights are due, and which were missed.

The meter freezes its energy registers at each local midnight (the RTC keeps local standard
time, so a midnight is a multiple of a day in its epoch ms). Midnights missed while the meter
was off are made up at the next restore, as field meters do, and say so (DEFERRED): only the
latest FREEZE_KEEP are kept, so no more than that many are ever made up.
MicroPython-safe: integers only.
"""

from meterseal.firmware.compat import const
from meterseal.firmware.layout import FREEZE_KEEP

DAY_MS = const(86400000)


def next_midnight(now_ms):
    """The first local midnight strictly after now_ms."""
    return (now_ms // DAY_MS + 1) * DAY_MS


def missed_midnights(last_ms, now_ms):
    """The midnights after last_ms (the newest freeze's) up to now_ms, oldest first, at most the
    FREEZE_KEEP latest; none when the clock stands before last_ms (it was set back)."""
    first = last_ms + DAY_MS
    newest = now_ms // DAY_MS * DAY_MS
    if newest < first:
        return []
    oldest_kept = newest - (FREEZE_KEEP - 1) * DAY_MS
    if first < oldest_kept:
        first = oldest_kept
    return list(range(first, newest + 1, DAY_MS))
