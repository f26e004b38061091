"""A bus of many meters behind one endpoint (RS-485 buses behind a concentrator), sans-I/O.

Owns: which meter a frame is for — a request to an address goes to that meter's session and to
no other; a frame to an address nobody on the bus has gets no answer; a read-address (13) or any
partly wildcarded address that several meters would match gets no answer (their replies would
collide on the wire), and is answered by the one meter when only one matches; a broadcast (99×6:
time setting) reaches every meter and none answers. And the bus's timing: how long bytes take on
the wire at a baud rate (8E1: 11 bits a byte), for a transport that wants to play it.

Must not know: sockets or event loops (gateway.py serves a router), what a meter answers (its
session does), how the meters were built (the command's job).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from meterseal.protocols.dlt645.frame import (
    WILDCARD_BYTE,
    Frame,
    FrameError,
    address_matches,
    is_broadcast,
)
from meterseal.protocols.dlt645.handler import FrameHandler

BITS_PER_BYTE_8E1: Final = 11  # start, 8 data, even parity, stop


@dataclass(frozen=True, slots=True)
class BusTiming:
    """The wire time of bytes on a serial bus: 2400 baud 8E1 is ≈ 4.6 ms a byte."""

    baud: int = 2400
    bits_per_byte: int = BITS_PER_BYTE_8E1
    turnaround_s: float = 0.0  # a meter's delay before it answers

    def __post_init__(self) -> None:
        if self.baud <= 0 or self.bits_per_byte <= 0 or self.turnaround_s < 0:
            raise ValueError(f"a bus needs a positive baud rate and byte size, got {self}")

    def wire_s(self, nbytes: int) -> float:
        return nbytes * self.bits_per_byte / self.baud


class BusRouter:
    """Many meters' sessions behind one link (implements FrameHandler).

    ``meters`` maps each meter's 6-byte address (wire order) to its session; a lazy mapping
    may build a session when first asked. All meters on one router share one bus: a transport
    hands it one request at a time.
    """

    __slots__ = ("_meters",)

    def __init__(self, meters: Mapping[bytes, FrameHandler]) -> None:
        self._meters = meters

    @property
    def meters(self) -> Mapping[bytes, FrameHandler]:
        return self._meters

    def __len__(self) -> int:
        return len(self._meters)

    def handle(self, frame: Frame) -> list[bytes]:
        if frame.is_reply:
            return []  # an echo, or another meter's answer: nobody on a bus answers those
        address = frame.address
        if is_broadcast(address):
            for session in self._meters.values():
                session.handle(frame)  # a broadcast is heard by all, answered by none
            return []
        if WILDCARD_BYTE not in address:
            session = self._meters.get(address)
            return [] if session is None else session.handle(frame)
        matching = self._matching(address)
        if len(matching) != 1:
            return []  # several would answer at once: a collision, which the master hears as noise
        return matching[0].handle(frame)

    def _matching(self, address: bytes) -> list[FrameHandler]:
        found: list[FrameHandler] = []
        for meter_address, session in self._meters.items():
            if address_matches(address, meter_address):
                found.append(session)
                if len(found) > 1:
                    break
        return found

    def handle_error(self, error: FrameError) -> list[bytes]:
        return []  # a damaged frame's address cannot be trusted: every meter stays silent
