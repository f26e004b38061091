"""What a run went through: the record the kernel keeps and the oracle judges from.

Owns the shapes only (plain data). The oracle reads records from the NVM snapshots in it, never
from the firmware's objects; the board's facts (when the MCU was powered, when it booted, when
the clock was invalid, each outage's backup story) are what the kernel observed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from meterseal.sim.metering import EnergyTruth

# One trace row: t_us, supercap_v (internal), battery_v (open circuit), load_a, state name, and
# the redistribution branch's capacitor voltage (equal to supercap_v on a part without one).
TraceRow = tuple[int, float, float, float, str, float]


@dataclass(slots=True)
class OutageLog:
    """What the board went through in one outage (the `backup` entries of the result)."""

    index: int
    from_us: int
    to_us: int
    supercap_v: float
    battery_v: float
    watch_until_us: int | None = None
    brownout_us: int | None = None
    rtc_stopped_us: int | None = None


@dataclass(slots=True)
class RunLog:
    """Everything the kernel observed; the oracle judges from this and the NVM image only."""

    t_end_us: int
    start_local_ms: int
    utc_offset_h: float
    energy: EnergyTruth
    redistribution: bool = False  # the supercapacitor has a charge-redistribution branch
    # Every page write as the chip holds it afterwards: (t_us, addr, bytes) — the data written,
    # or what a power cut left of it. The NVM starts erased, so these replay to every state.
    writes: list[tuple[int, int, bytes]] = field(default_factory=list)
    reports: list[tuple[int, int, int, str]] = field(default_factory=list)  # t, kind, seq, on
    eventout: list[tuple[int, int]] = field(default_factory=list)  # (t, level) EVENTOUT edges
    outages: list[OutageLog] = field(default_factory=list)
    alive: list[tuple[int, int]] = field(default_factory=list)  # MCU powered intervals
    boots: list[int] = field(default_factory=list)
    # Periodic firmware timers as the board ran them: (first tick, period, stopped at).
    periodic: list[tuple[int, int, int]] = field(default_factory=list)
    rtc_invalid: list[tuple[int, int]] = field(default_factory=list)
    # Instants with the MCU awake on backup (a cover-pin edge, the rail's loss, a boot) when its
    # supply could not have programmed an NVM page on any route: what it saw then could only
    # wait in retained RAM.
    unwritable: list[int] = field(default_factory=list)
    # Instants retained RAM lost its supply with the MCU off (its content, if any, is gone).
    retained_lost: list[int] = field(default_factory=list)
    # At each boot: (t, import, export) energy the firmware's registers lost (mWh).
    register_offsets: list[tuple[int, int, int]] = field(default_factory=list)
    trace: list[TraceRow] = field(default_factory=list)
    events: int = 0
    ticks_fired: int = 0
    ticks_skipped: int = 0
    final_image: bytes = b""
    final_retained: bytes = b""  # retained RAM at the end (what waits to be written)
    torn_writes: int = 0
    nvm_writes: int = 0  # page writes begun (the power-loss sweep cuts inside each)
    record_macs: int = 0  # record MACs the security module computed

    def images(self, size: int = 0) -> Iterator[tuple[int, bytes]]:
        """The NVM after each write or tear, as bytes: (t_us, image of its first ``size`` bytes,
        by default as far as any write reached). For tools that want whole images; the oracle
        replays the writes page by page instead."""
        size = size or max((a + len(d) for _t, a, d in self.writes), default=0)
        image = bytearray(b"\xff" * size)
        for t, addr, data in self.writes:
            image[addr : addr + len(data)] = data[: max(0, size - addr)]
            yield t, bytes(image)
