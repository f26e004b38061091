"""The head-end reader: read one meter's cover-open records (and its power-down and event-clear
logs, clock and energies) over DL/T 645, decoded with the firmware's own record codec.

Owns the reading plan (which identifiers, in which order, follow-up frames for the long block),
the decoding of the standard and manufacturer-specific answers into a typed MeterReading, and
its presentation (text and JSON). The meter-side identifiers are documented in docs/dlt645.md.

Must not know: the simulator, the firmware's behaviour or objects (it imports only the record
codec modules bcd, caltime and records), sockets (the protocol client owns the link).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from meterseal.firmware.bcd import count3_to_int, energy4_to_units, from_bcd, time6_to_ms
from meterseal.firmware.caltime import ms_from_civil
from meterseal.firmware.records import BOUNDED, QUALITY_NAMES
from meterseal.protocols.dlt645.client import Dlt645Client
from meterseal.protocols.dlt645.errors import MeterRefused
from meterseal.protocols.dlt645.frame import (
    WILDCARD_ADDRESS,
    ErrorCode,
    Frame,
    FunctionCode,
    address_to_string,
)

DI_IMPORT_ENERGY = 0x00010000
DI_EXPORT_ENERGY = 0x00020000
DI_DATE = 0x04000101
DI_TIME = 0x04000102
DI_COVER = 0x03300D00
DI_POWER_DOWN = 0x03110000
DI_CLEARS = 0x03300300
DI_MFR_COVER = 0x04800D00
DI_MFR_COVER_BLOCK = 0x04800DFF
DI_MFR_POWER_DOWN = 0x04801100
RING = 10
MFR_COVER_LENGTH = 79
MFR_POWER_DOWN_LENGTH = 19
FLAG_HIDDEN = 0x01
NO_QUALITY = 0xFF
UNKNOWN = "unknown"  # a meter without the manufacturer-specific identifiers
EPOCH_2000 = datetime(2000, 1, 1)


class ReadError(Exception):
    """The meter's answers cannot be read as this head-end expects (one line, actionable)."""


@dataclass(frozen=True, slots=True)
class CoverRecord:
    seq: int  # all-time sequence number (0 when the meter does not say)
    opened_at: str  # meter local time, ISO-8601 (with offset when the reader was given one)
    closed_at: str | None
    time_quality: str  # exact, deferred, bounded, unsynced (or unknown)
    closed_quality: str | None
    not_before: str | None
    not_after: str | None
    energy_before_kwh: dict[str, float]
    energy_after_kwh: dict[str, float] | None
    cleared: bool  # hidden from the standard DIs by an event clear (still held by the meter)


@dataclass(frozen=True, slots=True)
class PowerDownRecord:
    seq: int
    from_: str
    to: str | None
    time_quality: str
    end_quality: str | None
    cleared: bool


@dataclass(frozen=True, slots=True)
class ClearRecord:
    at: str
    operator: str  # C0 C1 C2 C3 as hex, wire order
    di: str  # the identifier cleared, DI3..DI0


@dataclass(frozen=True, slots=True)
class MeterReading:
    address: str
    link: str
    clock: str
    import_kwh: float
    export_kwh: float
    cover_open_count: int  # the standard count (since the last clear)
    cover_open_total: int  # all time
    cover_open: list[CoverRecord] = field(default_factory=list)  # newest first
    power_down_count: int = 0
    power_down_total: int = 0
    power_down: list[PowerDownRecord] = field(default_factory=list)
    event_clear_count: int = 0
    event_clears: list[ClearRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for pd in d["power_down"]:
            pd["from"] = pd.pop("from_")
        return d


class Reader:
    """Read one meter through a :class:`Dlt645Client`.

    ``utc_offset_h``: the meter's local standard time offset, to print times with an offset
    (None: print the meter's local time as it is, without one).
    """

    def __init__(
        self, client: Dlt645Client, *, address: bytes | None = None,
        utc_offset_h: float | None = 8.0,
    ) -> None:
        self._client = client
        self._address = address
        self._tz = None if utc_offset_h is None else timezone(timedelta(hours=utc_offset_h))

    def read_address(self) -> bytes:
        """Ask whoever is on the line for its address (13 to AA×6)."""
        reply = self._client.request(Frame(WILDCARD_ADDRESS, FunctionCode.READ_ADDRESS))
        if reply.is_abnormal or len(reply.data) != 6:
            raise ReadError(f"the meter answered read-address with {reply!r}")
        return reply.data

    def read(self) -> MeterReading:
        c = self._client
        addr = self._address if self._address is not None else self.read_address()
        cover_count = count3_to_int(c.read(addr, DI_COVER))
        pd_count = count3_to_int(c.read(addr, DI_POWER_DOWN))
        try:
            totals = c.read(addr, DI_MFR_COVER)
        except MeterRefused as exc:
            if exc.error != ErrorCode.NO_SUCH_DATA:
                raise
            totals = None  # another maker's meter: the standard records only
        if totals is None:
            cover_total, covers = cover_count, self._standard_covers(addr, cover_count)
            pd_total, pds = pd_count, self._standard_power_downs(addr, pd_count)
        else:
            cover_total, cover_base = _bcd8(totals[:4]), _bcd8(totals[4:8])
            try:
                block = c.read_all(addr, DI_MFR_COVER_BLOCK)
            except MeterRefused:  # a meter without the block: one record at a time
                block = b"".join(c.read(addr, DI_MFR_COVER + n) for n in range(1, RING + 1))
            covers = [
                rec
                for i in range(0, len(block) - MFR_COVER_LENGTH + 1, MFR_COVER_LENGTH)
                if (rec := self._cover(block[i : i + MFR_COVER_LENGTH], cover_base))
            ]
            pd_totals = c.read(addr, DI_MFR_POWER_DOWN)
            pd_total, pd_base = _bcd8(pd_totals[:4]), _bcd8(pd_totals[4:8])
            pds = [
                rec
                for n in range(1, min(pd_total, RING) + 1)
                if (rec := self._power_down(c.read(addr, DI_MFR_POWER_DOWN + n), pd_base))
            ]

        clear_count = count3_to_int(c.read(addr, DI_CLEARS))
        clears = []
        for n in range(1, min(clear_count, RING) + 1):
            raw = c.read(addr, DI_CLEARS + n)
            if len(raw) != 14 or raw == bytes(14):
                continue
            clears.append(
                ClearRecord(self._time(raw[:6]) or "", raw[6:10].hex().upper(),
                            raw[10:14][::-1].hex().upper())
            )

        date = c.read(addr, DI_DATE)
        tod = c.read(addr, DI_TIME)
        clock = self._clock(date, tod)
        imp = energy4_to_units(c.read(addr, DI_IMPORT_ENERGY)) / 100.0
        exp = energy4_to_units(c.read(addr, DI_EXPORT_ENERGY)) / 100.0
        return MeterReading(
            address=address_to_string(addr),
            link=c.link.name,
            clock=clock,
            import_kwh=imp,
            export_kwh=exp,
            cover_open_count=cover_count,
            cover_open_total=cover_total,
            cover_open=covers,
            power_down_count=pd_count,
            power_down_total=pd_total,
            power_down=pds,
            event_clear_count=clear_count,
            event_clears=clears,
        )

    def _standard_covers(self, addr: bytes, count: int) -> list[CoverRecord]:
        out = []
        for n in range(1, min(count, RING) + 1):
            std = self._client.read(addr, DI_COVER + n)
            if len(std) != 60:
                raise ReadError(
                    f"the meter answered {DI_COVER + n:08X} with {len(std)} bytes; a DL/T"
                    " 645-2007 cover-open record has 60"
                )
            closed = self._time(std[6:12])
            out.append(CoverRecord(
                seq=0, opened_at=self._time(std[:6]) or "", closed_at=closed,
                time_quality=UNKNOWN, closed_quality=UNKNOWN if closed else None,
                not_before=None, not_after=None,
                energy_before_kwh=_kwh(std[12:16], std[16:20]),
                energy_after_kwh=_kwh(std[36:40], std[40:44]) if closed is not None else None,
                cleared=False,
            ))
        return out

    def _standard_power_downs(self, addr: bytes, count: int) -> list[PowerDownRecord]:
        out = []
        for n in range(1, min(count, RING) + 1):
            std = self._client.read(addr, DI_POWER_DOWN + n)
            if len(std) != 12:
                raise ReadError(
                    f"the meter answered {DI_POWER_DOWN + n:08X} with {len(std)} bytes; a DL/T"
                    " 645-2007 power-down record has 12"
                )
            to = self._time(std[6:])
            out.append(PowerDownRecord(0, self._time(std[:6]) or "", to, UNKNOWN,
                                       UNKNOWN if to else None, False))
        return out

    # --- decoding ----------------------------------------------------------------------------

    def _iso(self, local_ms: int) -> str:
        dt = EPOCH_2000 + timedelta(milliseconds=local_ms)
        if self._tz is not None:
            dt = dt.replace(tzinfo=self._tz)
        return dt.isoformat(timespec="seconds")

    def _time(self, b: bytes) -> str | None:
        try:
            ms = time6_to_ms(b)
        except ValueError as exc:
            raise ReadError(f"the meter sent a time that is not one ({b.hex(' ')})") from exc
        return None if ms is None else self._iso(ms)

    def _clock(self, date: bytes, tod: bytes) -> str:
        if len(date) != 4 or len(tod) != 3:
            raise ReadError("the meter's date or time has the wrong length")
        try:
            _ww, dd, mm, yy = (from_bcd(b) for b in date)
            ss, mi, hh = (from_bcd(b) for b in tod)
            return self._iso(ms_from_civil(2000 + yy, mm, dd, hh, mi, ss))
        except ValueError as exc:
            raise ReadError(f"the meter's clock is not a time ({date.hex()} {tod.hex()})") from exc

    def _cover(self, b: bytes, base: int) -> CoverRecord | None:
        if len(b) != MFR_COVER_LENGTH:
            raise ReadError(f"extended cover-open record of {len(b)} bytes, expected 79")
        seq = _bcd8(b[:4])
        if seq == 0:
            return None
        flags, q, cq = b[4], b[5], b[6]
        std = b[19:79]
        opened = self._time(std[:6])
        closed = self._time(std[6:12])
        bounded = q == BOUNDED
        return CoverRecord(
            seq=seq,
            opened_at=opened or "",
            closed_at=closed,
            time_quality=_quality(q),
            closed_quality=None if cq == NO_QUALITY else _quality(cq),
            not_before=self._time(b[7:13]) if bounded else None,
            not_after=self._time(b[13:19]) if bounded else None,
            energy_before_kwh=_kwh(std[12:16], std[16:20]),
            energy_after_kwh=_kwh(std[36:40], std[40:44]) if closed is not None else None,
            cleared=bool(flags & FLAG_HIDDEN) or seq <= base,
        )

    def _power_down(self, b: bytes, base: int) -> PowerDownRecord | None:
        if len(b) != MFR_POWER_DOWN_LENGTH:
            raise ReadError(f"extended power-down record of {len(b)} bytes, expected 19")
        seq = _bcd8(b[:4])
        if seq == 0:
            return None
        flags, q, eq = b[4], b[5], b[6]
        return PowerDownRecord(
            seq=seq,
            from_=self._time(b[7:13]) or "",
            to=self._time(b[13:19]),
            time_quality=_quality(q),
            end_quality=None if eq == NO_QUALITY else _quality(eq),
            cleared=bool(flags & FLAG_HIDDEN) or seq <= base,
        )


def _quality(q: int) -> str:
    return QUALITY_NAMES[q] if 0 <= q < len(QUALITY_NAMES) else f"unknown ({q:#04x})"


def _bcd8(b: bytes) -> int:
    out = 0
    for byte in reversed(bytes(b)):
        out = out * 100 + from_bcd(byte)
    return out


def _kwh(imp: bytes, exp: bytes) -> dict[str, float]:
    return {
        "import_active": energy4_to_units(imp) / 100.0,
        "export_active": energy4_to_units(exp) / 100.0,
    }


def format_reading(r: MeterReading) -> str:
    """The reading as a human reads it: one block per log, newest record first."""
    lines = [
        f"meter {r.address} on {r.link}: clock {r.clock}, import {r.import_kwh:.2f} kWh,"
        f" export {r.export_kwh:.2f} kWh",
        f"cover-open count {r.cover_open_count} (all-time {r.cover_open_total};"
        f" {r.cover_open_total - r.cover_open_count} hidden by event clears)",
    ]
    for i, c in enumerate(r.cover_open, start=1):
        span = f"{c.opened_at} -> {c.closed_at or '(still open)'}"
        bounds = f" within [{c.not_before}, {c.not_after}]" if c.not_before else ""
        closeq = f", closing {c.closed_quality}" if c.closed_quality else ""
        hidden = " [cleared]" if c.cleared else ""
        label = f"#{c.seq}" if c.seq else f"({i})"
        lines.append(f"  {label:<5} {span}  {c.time_quality}{closeq}{bounds}{hidden}")
    lines.append(f"power-down count {r.power_down_count} (all-time {r.power_down_total})")
    for i, p in enumerate(r.power_down, start=1):
        hidden = " [cleared]" if p.cleared else ""
        label = f"#{p.seq}" if p.seq else f"({i})"
        lines.append(f"  {label:<5} {p.from_} -> {p.to or '(still down)'}"
                     f"  {p.time_quality}{hidden}")
    lines.append(f"event clears {r.event_clear_count}")
    for k in r.event_clears:
        lines.append(f"  {k.at}  operator {k.operator}  cleared {k.di}")
    return "\n".join(lines)


def reading_json(r: MeterReading) -> str:
    return json.dumps(r.to_json(), indent=2, ensure_ascii=False)

