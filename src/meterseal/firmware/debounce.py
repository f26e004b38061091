"""Debouncing the cover's key switch: a change counts once N consecutive samples agree.

Knows nothing of power states or timers: it is fed samples and says when a level is accepted.
"""


class Debouncer:
    __slots__ = ("candidate", "count", "needed", "since_ms", "since_valid", "stable")

    def __init__(self, stable, needed):
        self.stable = stable
        self.candidate = stable
        self.count = 0
        self.since_ms = 0
        self.since_valid = True
        self.needed = needed

    def busy(self):
        return self.count > 0

    def feed(self, level, now_ms, valid):
        """Returns True when `level` has just been accepted as the new stable state.

        The accepted change is dated by the first sample of the agreeing run (`since_ms`): the
        closest the firmware can honestly get to the instant the switch moved."""
        if level == self.stable:
            self.count = 0
            return False
        if self.count == 0 or level != self.candidate:
            self.candidate = level
            self.count = 1
            self.since_ms = now_ms
            self.since_valid = valid
        else:
            self.count += 1
        if self.count >= self.needed:
            self.stable = level
            self.count = 0
            return True
        return False
