"""What the DL/T 698.45 face needs of a meter: the live meter of sim/live.py, or a test double.

Owns: the :class:`MeterModel` protocol only. It is DL/T 645's (session.py there) seen from this
face: the same image, clock, energies, address, password and its daily lockout, programming key,
and the one event-clear path both faces write through.

Must not know: anything but the shape.
"""

from __future__ import annotations

from typing import Protocol

from meterseal.firmware.meterimage import MeterImage


class MeterModel(Protocol):
    """Times are local epoch ms (ms since 2000-01-01T00:00 local standard time). Methods may be
    called from several links at once; the model keeps itself consistent."""

    @property
    def address(self) -> bytes:
        """The 6-byte communication address, wire order (lowest byte first)."""
        ...

    @property
    def max_password_tries_per_day(self) -> int: ...

    def image(self) -> MeterImage:
        """The records as the NVM holds them now, decoded by the firmware's codec; the same
        object until the NVM changes."""
        ...

    def nvm_image(self) -> bytes:
        """The whole NVM as a reader of the chip would dump it (the clock logs are decoded
        from it: they are not in the MeterImage)."""
        ...

    def clock(self) -> tuple[int, bool]:
        """(local ms, valid) of the meter's RTC now."""
        ...

    def energy(self) -> tuple[int, int]:
        """(import, export) active energy registers, in 0.01 kWh."""
        ...

    def programming_key_pressed(self) -> bool: ...

    def password(self, level: int) -> bytes | None:
        """P0 P1 P2 of the DL/T 645 password of that level (wire order), or None."""
        ...

    @property
    def factory_mode(self) -> bool: ...

    def password_locked(self) -> bool:
        """Too many wrong passwords or keys lately (a count in NVM on the meter's running
        time, shared with the DL/T 645 face)."""
        ...

    def note_security_failure(self) -> None: ...

    def clock_trusted(self) -> bool:
        """Valid, and not moved by a broadcast since the latest authorised time set."""
        ...

    def clear_events(
        self, time_ms: int, time_quality: int, operator: bytes, di: int, cover: bool,
        power_down: bool, terminal: bool = False,
    ) -> None:
        """Record an event clear (through the firmware's journal) and apply it."""
        ...
