"""The head-end reader over DL/T 698.45: one meter's cover-open records (and its power-down and
event-clear logs, clock and energies), decoded with the protocol's data catalogue into the same
MeterReading the DL/T 645 reader produces.

Owns the reading plan: associate (public), read the address (4001) unless given, the clock and
energies in one GET-List, the event counts (attribute 7), the record tables by GET-Record (all
rows), and — only from a meter whose CONNECT answer carries our maker code — our manufacturer
objects (FF1B, FF1C, FF11: every record of all time with its time quality and bounds); the
terminal cover's log (301C) from a meter that has one. Another
maker's meter gets the standard records, quality "unknown": never a plain exact time.

Must not know: the firmware, the simulator, sockets (the protocol client owns the link).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import TypeVar

from meterseal.headend.reader import (
    UNKNOWN,
    ClearRecord,
    ClockRecord,
    CoverRecord,
    MeterReading,
    PowerDownRecord,
    ReadError,
)
from meterseal.protocols.dlt698 import catalog as cat
from meterseal.protocols.dlt698.apdu import GetRecord
from meterseal.protocols.dlt698.axdr import Array, Data, OctetString, Structure
from meterseal.protocols.dlt698.axdr_time import DateTimeS
from meterseal.protocols.dlt698.client import Dlt698Client
from meterseal.protocols.dlt698.errors import CodecError, Dar, InvalidField, MeterRefused
from meterseal.protocols.dlt698.events import (
    AllTimeTotals,
    ClockChangeRow,
    CoverOpenRow,
    EventClearRow,
    PowerDownRow,
    QualityClockRow,
    QualityCoverRow,
    QualityPowerDownRow,
)
from meterseal.protocols.dlt698.frame import ServerAddress
from meterseal.protocols.dlt698.refs import Oad, SelectAll
from meterseal.protocols.dlt698.values import CurrentValue, EnergyTotal, civil, time_ms

T = TypeVar("T", CoverOpenRow, PowerDownRow, EventClearRow, QualityCoverRow, QualityPowerDownRow,
            ClockChangeRow, QualityClockRow)
CLOCK: Oad = Oad(cat.OI_DATE_TIME, 2)
IMPORT: Oad = Oad(cat.OI_IMPORT_ENERGY, 2)
EXPORT: Oad = Oad(cat.OI_EXPORT_ENERGY, 2)
DI_BY_METHOD = {m: di for di, methods in cat.CLEARED_BY_DI.items() for m in methods}


class Reader698:
    """Read one meter through a :class:`Dlt698Client`.

    ``utc_offset_h``: the meter's local standard time offset, to print times with an offset
    (None: print the meter's local time as it is).
    """

    def __init__(self, client: Dlt698Client, *, address: str | None = None,
                 utc_offset_h: float | None = 8.0) -> None:
        self._client = client
        self._address = address
        self._tz = None if utc_offset_h is None else timezone(timedelta(hours=utc_offset_h))

    def read(self) -> MeterReading:
        client = self._client
        if self._address is not None:
            client.server = ServerAddress.of(self._address)
        ours = client.connect().maker == cat.MAKER
        address = self._decode(client.get(Oad(cat.OI_ADDRESS, 2)), OctetString, "4001").value
        client.server = ServerAddress(address[::-1])
        clock, imp, exp = (r.data for r in client.get_results([CLOCK, IMPORT, EXPORT]))
        counts = {
            oi: self._value(client.get(Oad(oi, cat.ATTR_CURRENT_VALUE)), CurrentValue).count
            for oi in (cat.OI_COVER_OPEN, cat.OI_POWER_DOWN, cat.OI_EVENT_CLEAR)
        }
        covers, cover_total = self._covers(ours, counts[cat.OI_COVER_OPEN])
        t_count, t_total, terminal = self._terminal(ours)
        set_count, sets = self._clock_log(ours, cat.OI_TIME_SET, cat.OI_MFR_TIME_SET)
        bc_count, bcs = self._clock_log(ours, cat.OI_BROADCAST_TIME, cat.OI_MFR_BROADCAST_TIME)
        pds, pd_total = self._power_downs(ours, counts[cat.OI_POWER_DOWN])
        clears = [self._clear(r) for r in self._rows(cat.OI_EVENT_CLEAR, EventClearRow)]
        reading = MeterReading(
            address=address.hex().upper(),
            link=client.link.name,
            clock=self._iso(self._time(clock)),
            import_kwh=self._value(imp, EnergyTotal).kwh,
            export_kwh=self._value(exp, EnergyTotal).kwh,
            cover_open_count=counts[cat.OI_COVER_OPEN],
            cover_open_total=cover_total,
            cover_open=covers,
            power_down_count=counts[cat.OI_POWER_DOWN],
            power_down_total=pd_total,
            power_down=pds,
            event_clear_count=counts[cat.OI_EVENT_CLEAR],
            event_clears=clears,
            terminal_cover_count=t_count,
            terminal_cover_total=t_total,
            terminal_cover=terminal,
            time_set_count=set_count,
            time_sets=sets,
            broadcast_count=bc_count,
            broadcasts=bcs,
        )
        client.release()
        return reading

    # --- the logs ----------------------------------------------------------------------------

    def _covers(self, ours: bool, count: int, oi: int = cat.OI_COVER_OPEN,
                mfr_oi: int = cat.OI_MFR_COVER_OPEN) -> tuple[list[CoverRecord], int]:
        if not ours:
            rows = self._rows(oi, CoverOpenRow)
            return [self._standard_cover(r) for r in rows], count
        totals = self._value(self._client.get(Oad(mfr_oi, cat.MFR_TOTALS)), AllTimeTotals)
        history = self._history(mfr_oi, QualityCoverRow) if totals.total else []
        return [self._cover(r) for r in history], totals.total

    def _terminal(self, ours: bool) -> tuple[int, int, list[CoverRecord]]:
        """(standard count, all-time total, records newest first) of the terminal cover's log
        (301C, ours FF1C); (0, 0, []) from a meter that answers 301C "object undefined" (no
        terminal cover), as the DL/T 645 reader does for "no such data"."""
        oad = Oad(cat.OI_TERMINAL_COVER_OPEN, cat.ATTR_CURRENT_VALUE)
        try:
            count = self._value(self._client.get(oad), CurrentValue).count
        except MeterRefused as exc:
            if exc.dar != Dar.OBJECT_UNDEFINED:
                raise
            return 0, 0, []
        records, total = self._covers(ours, count, cat.OI_TERMINAL_COVER_OPEN,
                                      cat.OI_MFR_TERMINAL_COVER_OPEN)
        return count, total, records

    def _power_downs(self, ours: bool, count: int) -> tuple[list[PowerDownRecord], int]:
        if not ours:
            rows = self._rows(cat.OI_POWER_DOWN, PowerDownRow)
            return [PowerDownRecord(0, self._iso(r.start_ms), self._opt(r.end_ms), UNKNOWN,
                                    UNKNOWN if r.end_ms is not None else None, False)
                    for r in rows], count
        totals = self._value(self._client.get(Oad(cat.OI_MFR_POWER_DOWN, cat.MFR_TOTALS)),
                             AllTimeTotals)
        return [
            PowerDownRecord(r.seq, self._iso(r.start_ms), self._opt(r.end_ms), r.quality,
                            r.end_quality, r.cleared)
            for r in self._history(cat.OI_MFR_POWER_DOWN, QualityPowerDownRow)
        ], totals.total

    def _clock_log(self, ours: bool, oi: int, mfr_oi: int) -> tuple[int, list[ClockRecord]]:
        """(count, records newest first) of a clock log (3016, 303C; ours through FF16, FF3C
        with the operator code of a time setting); (0, []) from a meter that answers it "object
        undefined"."""
        try:
            count = self._value(self._client.get(Oad(oi, cat.ATTR_CURRENT_VALUE)),
                                CurrentValue).count
        except MeterRefused as exc:
            if exc.dar != Dar.OBJECT_UNDEFINED:
                raise
            return 0, []
        if not ours:
            rows = self._rows(oi, ClockChangeRow)
            return count, [ClockRecord(0, self._opt(r.before_ms), self._opt(r.after_ms), None)
                           for r in rows]
        setting = oi == cat.OI_TIME_SET
        return count, [
            ClockRecord(r.seq, self._opt(r.before_ms), self._opt(r.after_ms),
                        r.operator.hex().upper() if setting else None)
            for r in self._history(mfr_oi, QualityClockRow)
        ]

    def _rows(self, oi: int, cls: type[T]) -> list[T]:
        result = self._client.get_record(GetRecord(Oad(oi, cat.ATTR_RECORDS), SelectAll()))
        wanted = cat.EVENT_BY_OI[oi].columns
        if result.columns != wanted:
            raise ReadError(f"the meter's {oi:04X} rows have columns {result.columns}, "
                            f"not the standard's {wanted}")
        return [self._value(Structure(row), cls) for row in result.rows or ()]

    def _history(self, oi: int, cls: type[T]) -> list[T]:
        value = self._decode(self._client.get(Oad(oi, cat.MFR_HISTORY)), Array, f"{oi:04X}")
        return [self._value(v, cls) for v in value.items]

    # --- mapping -----------------------------------------------------------------------------

    def _cover(self, r: QualityCoverRow) -> CoverRecord:
        return CoverRecord(
            seq=r.seq, opened_at=self._iso(r.start_ms), closed_at=self._opt(r.end_ms),
            time_quality=r.quality, closed_quality=r.end_quality,
            not_before=self._opt(r.not_before_ms), not_after=self._opt(r.not_after_ms),
            energy_before_kwh=_kwh(r.import_before, r.export_before),
            energy_after_kwh=None if r.import_after is None else _kwh(
                r.import_after, r.export_after or 0
            ),
            cleared=r.cleared,
        )

    def _standard_cover(self, r: CoverOpenRow) -> CoverRecord:
        closed = r.end_ms is not None
        return CoverRecord(
            seq=0, opened_at=self._iso(r.start_ms), closed_at=self._opt(r.end_ms),
            time_quality=UNKNOWN, closed_quality=UNKNOWN if closed else None, not_before=None,
            not_after=None, energy_before_kwh=_kwh(r.import_before, r.export_before),
            energy_after_kwh=_kwh(r.import_after or 0, r.export_after or 0) if closed else None,
            cleared=False,
        )

    def _clear(self, r: EventClearRow) -> ClearRecord:
        dis = [DI_BY_METHOD[m] for m in r.cleared if m in DI_BY_METHOD]
        di = f"{dis[0]:08X}" if len(dis) == 1 else ",".join(str(m) for m in r.cleared)
        # DL/T 698.45 has no operator code: the reading says so rather than inventing one
        return ClearRecord(self._iso(r.time_ms), UNKNOWN, di)

    def _iso(self, local_ms: int) -> str:
        dt = civil(local_ms)
        if self._tz is not None:
            dt = dt.replace(tzinfo=self._tz)
        return dt.isoformat(timespec="seconds")

    def _time(self, value: Data | None) -> int:
        try:
            return time_ms(self._decode(value, DateTimeS, "clock (4000)"))
        except CodecError as exc:
            raise ReadError(f"the meter's clock: {exc}") from None

    def _opt(self, local_ms: int | None) -> str | None:
        return None if local_ms is None else self._iso(local_ms)

    @staticmethod
    def _decode(value: Data | None, cls: type, what: str):  # type: ignore[no-untyped-def]
        if not isinstance(value, cls):
            raise ReadError(f"the meter's {what} is {type(value).__name__}, not {cls.__name__}")
        return value

    @staticmethod
    def _value(value: Data, cls: type[T] | type):  # type: ignore[no-untyped-def]
        try:
            return cls.from_data(value)
        except (CodecError, InvalidField) as exc:
            raise ReadError(f"cannot read the meter's answer as {cls.WHAT}: {exc}") from None


def _kwh(import_0p01: int, export_0p01: int) -> dict[str, float]:
    return {"import_active": import_0p01 / 100.0, "export_active": export_0p01 / 100.0}
