"""What the DL/T 698.45 meter answers: each attribute's value, each record query's rows, each
method's result, against a meter model.

Owns: the table of objects the meter serves (energies 0010/0020, date-time 4000, address 4001,
the device 4300's report switches and channels, the event objects 301B/301C/3011/3015 with the
class-7 attributes, the daily freeze 5004, and our manufacturer objects), element selection by
an OAD's index, the record query (rows by RSD, columns by RCSD), and the event-clear methods
with their guard: an association authorised by the meter's password, and the programming key
pressed, as DL/T 645 asks for its event clear. The tables are rebuilt only when the model's
image or the report desk changes; those of the clock logs only when the NVM's clock-log pages
change (an accepted time set or broadcast writes those, not the image of the event logs).

Must not know: frames, PIIDs, segments, sockets; who asked (the session says whether the
association is authorised).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from meterseal.firmware.chain import served_head
from meterseal.firmware.records import EXACT, UNSYNCED
from meterseal.protocols.dlt698.apdu import GetRecord, ResultRecord
from meterseal.protocols.dlt698.axdr import (
    Array,
    Bool,
    Data,
    Enum,
    LongUnsigned,
    OctetString,
    Structure,
)
from meterseal.protocols.dlt698.catalog import (
    ATTR_ASSOCIATED,
    ATTR_COUNT,
    ATTR_CURRENT_VALUE,
    ATTR_LOGICAL_NAME,
    ATTR_MAX_COUNT,
    ATTR_RECORDS,
    ATTR_REPORT_FLAG,
    ATTR_REPORT_MODE,
    ATTR_TIME_STATUS,
    ATTR_VALID,
    CLOCK_EVENTS,
    COVER_OPEN,
    DEVICE_ALLOW_ACTIVE_REPORT,
    DEVICE_ALLOW_FOLLOW_REPORT,
    DEVICE_METHOD_EVENT_INIT,
    DEVICE_REPORT_CHANNELS,
    DI_CLEAR_ALL,
    MAX_RECORDS,
    METHOD_RESET,
    MFR_BY_OI,
    MFR_HISTORY,
    MFR_TOTALS,
    OI_ADDRESS,
    OI_DAILY_FREEZE,
    OI_DATE_TIME,
    OI_DEVICE,
    OI_EXPORT_ENERGY,
    OI_IMPORT_ENERGY,
    OI_MFR_BROADCAST_TIME,
    OI_MFR_TIME_SET,
    POWER_DOWN,
    TERMINAL_COVER_OPEN,
)
from meterseal.protocols.dlt698.chainobjects import (
    ATTR_CHAIN_HEAD,
    ATTR_CHAIN_PAGES,
    OI_MFR_CHAIN,
    ChainHead698,
    ChainPage698,
)
from meterseal.protocols.dlt698.errors import Dar
from meterseal.protocols.dlt698.freezes import (
    ATTR_CAPTURE,
    ATTR_FREEZE_RECORDS,
    FREEZE_COLUMNS,
    DailyFreezeRow,
    capture_table,
)
from meterseal.protocols.dlt698.logs import CLOCK_PAGES
from meterseal.protocols.dlt698.model import MeterModel
from meterseal.protocols.dlt698.refs import Oad, OadData, Omd
from meterseal.protocols.dlt698.reports import ReportDesk
from meterseal.protocols.dlt698.tables import (
    EventTable,
    Row,
    build_clock_tables,
    build_tables,
    freeze_rows,
    project,
    select_rows,
)
from meterseal.protocols.dlt698.values import (
    ENERGY_SCALER_UNIT,
    MODULE_CHANNEL,
    EnergyTotal,
    date_time_s,
)

Answer = Data | int  # a value, or the DAR saying why not

# The event clears a method runs: (DL/T 645 identifier of the same clear, cover, power down).
# (the 1B identifier of the same clear, and whether it clears the cover, power-down and
# terminal-cover logs)
CLEARS: dict[Omd, tuple[int, bool, bool, bool]] = {
    COVER_OPEN.reset: (COVER_OPEN.clear_di or 0, True, False, False),
    POWER_DOWN.reset: (POWER_DOWN.clear_di or 0, False, True, False),
    TERMINAL_COVER_OPEN.reset: (TERMINAL_COVER_OPEN.clear_di or 0, False, False, True),
    Omd(OI_DEVICE, DEVICE_METHOD_EVENT_INIT): (DI_CLEAR_ALL, True, True, True),
}
NO_OPERATOR = bytes(4)  # DL/T 698.45 carries no operator code; the clear record holds zeros
CLOCK_OIS = frozenset(e.oi for e in CLOCK_EVENTS)
# What a time set or a broadcast changes without changing the image: never from a cached answer.
CLOCK_DEPENDENT = CLOCK_OIS | {OI_MFR_TIME_SET, OI_MFR_BROADCAST_TIME}


def _logical_name(oi: int) -> Data:
    return OctetString(oi.to_bytes(2, "big"))


def element(value: Data, index: int) -> Answer:
    """Element ``index`` (1-based; 0: the whole value) of an array or structure."""
    if index == 0:
        return value
    items = value.items if isinstance(value, Array | Structure) else None
    if items is None:
        return Dar.OBJECT_UNDEFINED
    return items[index - 1] if index <= len(items) else Dar.OUT_OF_RANGE


class Answers:
    """The meter's answers to data access, for one model (shared by every link of it)."""

    def __init__(self, model: MeterModel, desk: ReportDesk | None = None) -> None:
        self.model = model
        self.desk = desk or ReportDesk()
        self._lock = threading.Lock()
        self._key: tuple[object, int] | None = None
        self._tables: dict[int, EventTable] = {}
        self._freezes: tuple[DailyFreezeRow, ...] = ()
        self._clock_pages: bytes | None = None
        self._clock_tables: dict[int, EventTable] = {}
        self._chain_of: object = None  # the image the chain's pages were built from
        self._chain_pages: Array = Array(())

    def version(self) -> tuple[object, int]:
        """What the cached answers depend on: the image object and the desk's epoch."""
        return (self.model.image(), self.desk.epoch)

    def tables(self) -> dict[int, EventTable]:
        key = self.version()
        with self._lock:
            if key != self._key:
                self._tables = build_tables(key[0], self.desk.bits)  # type: ignore[arg-type]
                self._freezes = freeze_rows(key[0])  # type: ignore[arg-type]
                self._key = key
            return self._tables

    def clock_tables(self) -> dict[int, EventTable]:
        """3016 and 303C, decoded from the NVM as it is now, kept while its clock-log pages
        stay the same."""
        nvm = self.model.nvm_image()
        pages = nvm[CLOCK_PAGES]
        with self._lock:
            if pages != self._clock_pages:
                self._clock_tables = build_clock_tables(nvm)
                self._clock_pages = pages
            return self._clock_tables

    def table(self, oi: int) -> EventTable | None:
        """The record table of event object ``oi``, or None if the meter has none."""
        if oi in CLOCK_OIS:
            return self.clock_tables().get(oi)
        return self.tables().get(oi)

    def freezes(self) -> tuple[DailyFreezeRow, ...]:
        """The daily freeze's rows (5004), newest first."""
        self.tables()
        with self._lock:
            return self._freezes

    # --- GET -------------------------------------------------------------------------------

    def get(self, oad: Oad) -> Answer:
        handler = self._handler(oad.oi)
        if handler is None or oad.feature:
            return Dar.OBJECT_UNDEFINED
        value = handler(oad.number)
        return value if isinstance(value, int) else element(value, oad.index)

    def cacheable(self, oad: Oad) -> bool:
        """Whether the answer depends only on the image and the desk (not on the clock, nor on
        the clock logs)."""
        return oad.oi not in (OI_DATE_TIME, OI_IMPORT_ENERGY, OI_EXPORT_ENERGY) and (
            oad.oi not in CLOCK_DEPENDENT
        )

    def _handler(self, oi: int) -> Callable[[int], Answer] | None:
        fixed = {
            OI_IMPORT_ENERGY: lambda a: self._energy(a, 0, OI_IMPORT_ENERGY),
            OI_EXPORT_ENERGY: lambda a: self._energy(a, 1, OI_EXPORT_ENERGY),
            OI_DATE_TIME: self._date_time,
            OI_ADDRESS: self._address,
            OI_DEVICE: self._device,
            OI_DAILY_FREEZE: self._daily_freeze,
            OI_MFR_CHAIN: self._chain,
        }.get(oi)
        if fixed is not None:
            return fixed
        table = self.table(oi)
        if table is not None:
            return lambda a: self._event_attribute(table, a)
        event = MFR_BY_OI.get(oi)
        mfr = None if event is None else self.table(event.oi)
        if mfr is not None:
            return lambda a: self._manufacturer(mfr, oi, a)
        return None

    def _chain(self, attribute: int) -> Answer:
        """FFAC (chainobjects.py): the record chain's head, and its pages newest first (a GET
        with an element index answers one page)."""
        if attribute == ATTR_LOGICAL_NAME:
            return _logical_name(OI_MFR_CHAIN)
        chain = self.model.image().chain
        if attribute == ATTR_CHAIN_HEAD:
            entries, seq, mac, unsealed = served_head(chain)
            return ChainHead698(entries, seq, bytes(mac), unsealed).to_data()
        if attribute == ATTR_CHAIN_PAGES:
            # Read one element index at a time, a page per GET: built once per image, not per GET.
            image = self.model.image()
            with self._lock:
                if image is not self._chain_of:
                    self._chain_pages = Array(tuple(
                        ChainPage698(page, bytes(data), bytes(seal)).to_data()
                        for page, data, seal in chain))
                    self._chain_of = image
                return self._chain_pages
        return Dar.OBJECT_UNDEFINED

    def _energy(self, attribute: int, which: int, oi: int) -> Answer:
        if attribute == ATTR_LOGICAL_NAME:
            return _logical_name(oi)
        if attribute == 2:
            return EnergyTotal.rolled(self.model.energy()[which]).to_data()
        if attribute == 3:
            return ENERGY_SCALER_UNIT
        return Dar.OBJECT_UNDEFINED

    def _date_time(self, attribute: int) -> Answer:
        if attribute == ATTR_LOGICAL_NAME:
            return _logical_name(OI_DATE_TIME)
        return date_time_s(self.model.clock()[0]) if attribute == 2 else Dar.OBJECT_UNDEFINED

    def _address(self, attribute: int) -> Answer:
        if attribute == ATTR_LOGICAL_NAME:
            return _logical_name(OI_ADDRESS)
        # the octet-string holds the address as printed (highest byte first)
        return OctetString(self.model.address[::-1]) if attribute == 2 else Dar.OBJECT_UNDEFINED

    def _device(self, attribute: int) -> Answer:
        settings = self.desk.settings
        return {
            ATTR_LOGICAL_NAME: _logical_name(OI_DEVICE),
            DEVICE_ALLOW_FOLLOW_REPORT: Bool(settings.allow_follow),
            DEVICE_ALLOW_ACTIVE_REPORT: Bool(settings.allow_active),
            DEVICE_REPORT_CHANNELS: Array((OadData(MODULE_CHANNEL),)),
        }.get(attribute, Dar.OBJECT_UNDEFINED)

    def _daily_freeze(self, attribute: int) -> Answer:
        if attribute == ATTR_LOGICAL_NAME:
            return _logical_name(OI_DAILY_FREEZE)
        if attribute == ATTR_FREEZE_RECORDS:
            return Array(tuple(r.to_data() for r in self.freezes()))
        return capture_table() if attribute == ATTR_CAPTURE else Dar.OBJECT_UNDEFINED

    def _event_attribute(self, table: EventTable, attribute: int) -> Answer:
        event = table.event
        if attribute == ATTR_RECORDS:
            return Array(tuple(r.to_data() for r in table.rows))
        settings = self.desk.settings
        value: Data | None = {
            ATTR_LOGICAL_NAME: _logical_name(event.oi),
            ATTR_ASSOCIATED: Array(tuple(OadData(o) for o in event.associated)),
            ATTR_COUNT: LongUnsigned(min(len(table.rows), MAX_RECORDS)),
            ATTR_MAX_COUNT: LongUnsigned(MAX_RECORDS),
            ATTR_CURRENT_VALUE: table.current_value.to_data(),
            ATTR_REPORT_FLAG: Enum(settings.flag(event)),
            ATTR_VALID: Bool(True),
            ATTR_TIME_STATUS: table.time_status.to_data(),
            ATTR_REPORT_MODE: Enum(settings.mode(event)),
        }.get(attribute)
        return Dar.OBJECT_UNDEFINED if value is None else value

    def _manufacturer(self, table: EventTable, oi: int, attribute: int) -> Answer:
        if attribute == ATTR_LOGICAL_NAME:
            return _logical_name(oi)
        if attribute == MFR_HISTORY:
            return Array(tuple(r.to_data() for r in table.history))
        if attribute == MFR_TOTALS and table.totals is not None:
            return table.totals.to_data()
        return Dar.OBJECT_UNDEFINED

    # --- GET record --------------------------------------------------------------------------

    def get_record(self, query: GetRecord) -> ResultRecord:
        oad = query.oad
        if oad.oi == OI_DAILY_FREEZE:
            return self._records(query, self.freezes(), FREEZE_COLUMNS)
        table = self.table(oad.oi)
        if table is None:
            dar = Dar.OBJECT_UNDEFINED
            if MFR_BY_OI.get(oad.oi) is not None or self._handler(oad.oi) is not None:
                dar = Dar.INTERFACE_CLASS_MISMATCH  # an object, but no record table
            return ResultRecord(oad, query.columns, None, dar)
        return self._records(query, table.rows, table.event.columns)

    def _records(self, query: GetRecord, table: tuple[Row, ...],
                 default: tuple[Oad, ...]) -> ResultRecord:
        """Rows of a record table (attribute 2) by the query's RSD, columns by its RCSD."""
        oad = query.oad
        if oad.number != ATTR_RECORDS or oad.feature or oad.index:
            return ResultRecord(oad, query.columns, None, Dar.OBJECT_UNDEFINED)
        columns = query.columns or default
        rows = tuple(project(table[i], columns) for i in select_rows(table, query.rows))
        return ResultRecord(oad, columns, rows)

    # --- ACTION ------------------------------------------------------------------------------

    def action(self, omd: Omd, authorised: bool) -> int:
        """Run method ``omd``; its DAR. Resets need an authorised association and the
        programming key pressed (DAR 15, unauthorised, otherwise); the clear goes through the
        model's one event-clear path, so it leaves a 3015 row and hides records, never erasing
        them."""
        clear = CLEARS.get(omd)
        if clear is None:
            known = self._handler(omd.oi) is not None
            return Dar.READ_WRITE_DENIED if known and omd.method == METHOD_RESET else (
                Dar.OBJECT_UNDEFINED
            )
        if not authorised or not self.model.programming_key_pressed():
            return Dar.PASSWORD_OR_UNAUTHORISED
        di, cover, power_down, terminal = clear
        now_ms = self.model.clock()[0]
        quality = EXACT if self.model.clock_trusted() else UNSYNCED
        self.model.clear_events(now_ms, quality, NO_OPERATOR, di, cover, power_down, terminal)
        return Dar.SUCCESS

    def check_password(self, password: str) -> bool:
        """Whether ``password`` is the meter's (its DL/T 645 level-02 password as six hex
        digits), under the same lockout as DL/T 645 (a count in NVM on the meter's own running
        time); a wrong one is counted. Like a plain level-02 password there, it is accepted in
        factory mode only."""
        model = self.model
        if model.password_locked():
            return False
        expected = model.password(0x02)
        if expected is not None and password.strip().lower() == expected.hex():
            return model.factory_mode
        model.note_security_failure()
        return False
