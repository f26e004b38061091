"""What the DL/T 645 session needs of a meter: the live meter of sim/live.py, or a test double.

Owns: the :class:`MeterModel` protocol and the two shapes it hands out (the security module
that opens level-98 data, the clock-change logs of the authority journal) — the meter's clock
and logs, its lockout, its security module and its records, which several links share.

Must not know: anything but the shape; frames and who asks are the session's.
"""

from __future__ import annotations

from typing import Any, Protocol

from meterseal.firmware.meterimage import MeterImage


class MeterModel(Protocol):
    """What a session needs of a meter: the live meter of sim/live.py, or a test double.

    Times are local epoch ms (ms since 2000-01-01T00:00 in the meter's local standard time).
    Methods may be called from several links at once; the model keeps itself consistent.
    """

    @property
    def address(self) -> bytes:
        """The meter's 6-byte communication address, wire order (lowest byte first)."""
        ...

    @property
    def factory_mode(self) -> bool:
        """Whether plain level-02 passwords are accepted (factory mode only)."""
        ...

    @property
    def esam(self) -> SecurityModule: ...

    def image(self) -> MeterImage:
        """The records as the NVM holds them now, decoded by the firmware's codec."""
        ...

    def auth(self) -> ClockLogs:
        """The authority journal as the NVM holds it now (firmware authlog.AuthIndex)."""
        ...

    def clock(self) -> tuple[int, bool]:
        """(local ms, valid) of the meter's RTC now."""
        ...

    def clock_trusted(self) -> bool:
        """Valid, and not moved by a broadcast since the latest authorised time set."""
        ...

    def broadcast_time(self, local_ms: int) -> int:
        """Apply a broadcast time by the meter's rules: 0 accepted (and recorded), else why not
        (firmware authlog.BC_*)."""
        ...

    def set_time(self, local_ms: int, operator: bytes) -> None:
        """An authorised time set: move the clock and record it with the operator code."""
        ...

    def energy(self) -> tuple[int, int]:
        """(import, export) active energy registers, in 0.01 kWh."""
        ...

    def programming_key_pressed(self) -> bool: ...

    def password(self, level: int) -> bytes | None:
        """P0 P1 P2 of the password of that level (wire order), or None if it has none."""
        ...

    def password_locked(self) -> bool:
        """Too many wrong passwords or keys lately (a count in NVM, on the meter's own
        monotonic running time): every password and key is refused."""
        ...

    def note_security_failure(self) -> None: ...

    def clear_events(
        self, time_ms: int, time_quality: int, operator: bytes, di: int, cover: bool,
        power_down: bool, terminal: bool = False,
    ) -> None:
        """Record an event clear (through the firmware's journal) and apply it."""
        ...

    def report_mode(self) -> int:
        """The active-report mode word (64 bits, a bit per event type whose report is on)."""
        ...

    def report_status(self) -> int:
        """The active-report status word (96 bits, a bit per event type awaiting its report)."""
        ...

    def set_report_mode(self, bits: int) -> None:
        """An authorised write of the mode word (in NVM)."""
        ...

    def reset_report_status(self, bits: int) -> None:
        """An authorised reset of the status bits set in ``bits`` (in NVM)."""
        ...

    def cover_open_now(self) -> bool:
        """The meter cover as the meter knows it now (live on mains; on backup as its watch
        last saw it)."""
        ...

    def terminal_cover_open_now(self) -> bool:
        """The terminal cover likewise (False on a meter without a terminal-cover switch)."""
        ...


class SecurityModule(Protocol):
    def open(self, header: bytes, sealed: bytes) -> bytes | None:
        """The plaintext of a level-98 data field if its MAC over header + ciphertext holds."""
        ...


class ClockLogs(Protocol):
    def total(self, kind: int) -> int: ...

    def changes(self, kind: int) -> list[Any]: ...
