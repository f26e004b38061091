"""The DL/T 645 data catalogue: which value each data identifier (DI) carries, and the one place
the meter face's DIs are defined.

Owns: every DI constant of the meter face (standard and ours), the DI table (one DataItem per
identifier or run of identifiers: its name, its value class, hence its byte length), looking a
DI up and decoding an answer by it. The value classes live in values.py (fields and small
values), events.py (records) and freezes.py (daily freezes); they are re-exported here, so
that ``catalog`` is the one name to import.

Must not know: frames, sessions, links, the head-end, the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeVar

from meterseal.protocols.dlt645.chainvalues import ChainHead, ChainPage
from meterseal.protocols.dlt645.errors import CatalogError
from meterseal.protocols.dlt645.events import (
    RING,
    ExtendedCoverBlock,
    ExtendedCoverOpen,
    ExtendedPowerDown,
    StandardCoverOpen,
    StandardEventClear,
    StandardPowerDown,
    StandardTimeSet,
)
from meterseal.protocols.dlt645.freezes import (
    FREEZES,
    ExtendedFreeze,
    ExtendedFreezeBlock,
    FreezeEnergy,
    FreezeTime,
)
from meterseal.protocols.dlt645.values import (
    FLAG_CLOSED,
    FLAG_HIDDEN,
    NO_QUALITY,
    QUALITY_CODES,
    Address,
    AllTimeTotals,
    Count,
    Energy,
    EnergySnapshot,
    MeterDate,
    MeterTime,
    Quality,
    Value,
    VersionString,
    decoding,
)
from meterseal.protocols.dlt645.words import (
    CoverOpenTime,
    ReportMode,
    ReportReset,
    ReportStatus,
    RunStatus7,
)

__all__ = [
    "ADDRESS",
    "BROADCAST_COUNT",
    "BROADCAST_RECORD",
    "CHAIN_PAGES",
    "COVER_OPEN_COUNT",
    "COVER_OPEN_RECORD",
    "DATE",
    "DI_ADDRESS",
    "DI_CLEAR_ALL",
    "DI_CLEAR_COUNT",
    "DI_CLEAR_COVER",
    "DI_CLEAR_POWER_DOWN",
    "DI_CLEAR_TERMINAL",
    "DI_COVER_COUNT",
    "DI_DATE",
    "DI_EXPORT_ENERGY",
    "DI_FREEZE_EXPORT",
    "DI_FREEZE_IMPORT",
    "DI_FREEZE_TIME",
    "DI_IMPORT_ENERGY",
    "DI_MFR_CHAIN_HEAD",
    "DI_MFR_COVER_BLOCK",
    "DI_MFR_COVER_OPEN_TIME",
    "DI_MFR_COVER_TOTALS",
    "DI_MFR_FREEZE",
    "DI_MFR_FREEZE_BLOCK",
    "DI_MFR_POWER_DOWN_TOTALS",
    "DI_POWER_DOWN_COUNT",
    "DI_REPORT_MODE",
    "DI_REPORT_RESET",
    "DI_REPORT_STATUS",
    "DI_RUN_STATUS7",
    "DI_TIME",
    "EVENT_CLEAR_COUNT",
    "EVENT_CLEAR_RECORD",
    "EXPORT_ENERGY",
    "FLAG_CLOSED",
    "FLAG_HIDDEN",
    "FREEZES",
    "FREEZE_EXPORT",
    "FREEZE_IMPORT",
    "FREEZE_TIME",
    "HARDWARE_VERSION",
    "IMPORT_ENERGY",
    "MANUFACTURER",
    "MFR_CHAIN_HEAD",
    "MFR_CHAIN_PAGE",
    "MFR_COVER_OPEN_BLOCK",
    "MFR_COVER_OPEN_RECORD",
    "MFR_COVER_OPEN_TIME",
    "MFR_COVER_OPEN_TOTALS",
    "MFR_FREEZE",
    "MFR_FREEZE_BLOCK",
    "MFR_POWER_DOWN_RECORD",
    "MFR_POWER_DOWN_TOTALS",
    "MFR_TERMINAL_OPEN_BLOCK",
    "MFR_TERMINAL_OPEN_RECORD",
    "MFR_TERMINAL_OPEN_TOTALS",
    "NO_QUALITY",
    "POWER_DOWN_COUNT",
    "POWER_DOWN_RECORD",
    "QUALITY_CODES",
    "REPORT_MODE",
    "REPORT_STATUS",
    "RING",
    "RUN_STATUS7",
    "SOFTWARE_VERSION",
    "TABLE",
    "TERMINAL_OPEN_COUNT",
    "TERMINAL_OPEN_RECORD",
    "TIME",
    "TIME_SET_COUNT",
    "TIME_SET_RECORD",
    "Address",
    "AllTimeTotals",
    "CatalogError",
    "Count",
    "CoverOpenTime",
    "DataItem",
    "Energy",
    "EnergySnapshot",
    "ExtendedCoverBlock",
    "ExtendedCoverOpen",
    "ExtendedFreeze",
    "ExtendedFreezeBlock",
    "ExtendedPowerDown",
    "FreezeEnergy",
    "FreezeTime",
    "MeterDate",
    "MeterTime",
    "Quality",
    "ReportMode",
    "ReportReset",
    "ReportStatus",
    "RunStatus7",
    "StandardCoverOpen",
    "StandardEventClear",
    "StandardPowerDown",
    "StandardTimeSet",
    "Value",
    "decode_as",
    "lookup",
]

# --- data identifiers (DI3 DI2 DI1 DI0) -------------------------------------------------------
# Standard: DL/T 645-2007 Table A.1 (energy), A.4 (event records), A.5 (parameters).

DI_IMPORT_ENERGY: Final = 0x00010000
DI_EXPORT_ENERGY: Final = 0x00020000
DI_DATE: Final = 0x04000101
DI_TIME: Final = 0x04000102
DI_ADDRESS: Final = 0x04000401
DI_COVER_COUNT: Final = 0x03300D00  # + n (1..RING): the n-th latest cover-open record
DI_POWER_DOWN_COUNT: Final = 0x03110000  # + n: the n-th latest power-down record
# + n: the n-th latest terminal-cover-open record, the cover's 60-byte layout (reference/dlt645.md
# "Settled since": three firmware sources agree)
DI_TERMINAL_COUNT: Final = 0x03300E00
DI_CLEAR_COUNT: Final = 0x03300300  # + n: the n-th latest event-clear record
DI_TIME_SET_COUNT: Final = 0x03300400  # + n: the n-th latest time-setting record
DI_METER_CLEAR_COUNT: Final = 0x03300100  # the meter-clear log (a clear may not name it)
# Table A.5: the three manufacturer strings, 32 ASCII bytes each.
DI_SOFTWARE_VERSION: Final = 0x04800001
DI_HARDWARE_VERSION: Final = 0x04800002
DI_MANUFACTURER: Final = 0x04800003
# Table A.6, daily freeze: DI0 = n (01..3E) the n-th latest; DI1 00 its time, 01 forward active
# energy (total and tariffs), 02 reverse.
DI_FREEZE_TIME: Final = 0x05060000  # + n
DI_FREEZE_IMPORT: Final = 0x05060100  # + n
DI_FREEZE_EXPORT: Final = 0x05060200  # + n

# What an event clear (1B) may name: every event log, or one log (DI0 = FF).
# The standard active-report path and the run status (State Grid's additions to DL/T 645-2007).
DI_RUN_STATUS7: Final = 0x04000507
DI_REPORT_MODE: Final = 0x04001104  # read; written with authority
DI_REPORT_STATUS: Final = 0x04001501
DI_REPORT_RESET: Final = 0x04001503  # written only, with authority: a ReportReset, no row

DI_CLEAR_ALL: Final = 0xFFFFFFFF
DI_CLEAR_COVER: Final = DI_COVER_COUNT | 0xFF
DI_CLEAR_POWER_DOWN: Final = DI_POWER_DOWN_COUNT | 0xFF
DI_CLEAR_TERMINAL: Final = DI_TERMINAL_COUNT | 0xFF

# Manufacturer-specific, and our choice (docs/dlt645.md): in the 04 80 block DL/T 645-2007
# Table A.5 defines only 04 80 00 01..03 (manufacturer software version, hardware version,
# manufacturer number, 32 ASCII bytes each); no clause hands the rest of the block to makers, so
# another maker's meter may answer these DIs with anything, and a head-end should trust them only
# from our manufacturer number. DI1 repeats the standard log's DI1 (0D cover open, 11 power down).
DI_MFR_COVER_TOTALS: Final = 0x04800D00  # + n: the n-th latest of all time, extended
DI_MFR_COVER_BLOCK: Final = 0x04800DFF  # all RING of them in one answer
DI_MFR_TERMINAL_TOTALS: Final = 0x04800E00  # + n: the terminal cover's, likewise (DI1 0E)
DI_MFR_TERMINAL_BLOCK: Final = 0x04800EFF
DI_MFR_POWER_DOWN_TOTALS: Final = 0x04801100  # + n: likewise
DI_MFR_BROADCAST_COUNT: Final = 0x04800800  # + n: the broadcast-time log (no 645 DI found)
VENDOR_PREFIX: Final = 0x0480  # DI3 DI2 of the vendor block by default (profile key)
DI_MFR_FREEZE: Final = 0x04800600  # + n: the n-th latest daily freeze, extended (DI1 = 05 06's)
DI_MFR_FREEZE_BLOCK: Final = 0x048006FF  # all FREEZES of them in one answer
# The record chain (chainvalues.py): DI1 AC ("authenticated chain"), no standard DI1 of 03 30.
DI_MFR_CHAIN_HEAD: Final = 0x0480AC00  # + n: the n-th newest chained journal page
CHAIN_PAGES: Final = 186  # NVM pages 2..187 may each hold one
DI_MFR_COVER_OPEN_TIME: Final = 0x04800DF0  # openings held and minutes open over them


@dataclass(frozen=True, slots=True)
class DataItem:
    """One row of the DI table: a DI, or a run of ``count`` DIs from ``first`` (the n-th latest
    record at first + n - 1); the value each carries; a name for messages and stores."""

    name: str
    first: int
    value: type[Value]
    count: int = 1
    vendor: bool = False  # ours (the 04 80 block), not the standard's

    @property
    def length(self) -> int:
        return self.value.LENGTH

    def dis(self) -> range:
        return range(self.first, self.first + self.count)

    def di(self, n: int = 1) -> int:
        """The DI of the n-th (1-based) of the run."""
        if not 1 <= n <= self.count:
            raise ValueError(f"{self.name} has DIs 1..{self.count}, not {n}")
        return self.first + n - 1


IMPORT_ENERGY: Final = DataItem("import_active_energy", DI_IMPORT_ENERGY, Energy)
EXPORT_ENERGY: Final = DataItem("export_active_energy", DI_EXPORT_ENERGY, Energy)
DATE: Final = DataItem("date", DI_DATE, MeterDate)
TIME: Final = DataItem("time", DI_TIME, MeterTime)
ADDRESS: Final = DataItem("address", DI_ADDRESS, Address)
COVER_OPEN_COUNT: Final = DataItem("cover_open_count", DI_COVER_COUNT, Count)
COVER_OPEN_RECORD: Final = DataItem(
    "cover_open_record", DI_COVER_COUNT + 1, StandardCoverOpen, RING
)
TERMINAL_OPEN_COUNT: Final = DataItem("terminal_cover_open_count", DI_TERMINAL_COUNT, Count)
TERMINAL_OPEN_RECORD: Final = DataItem(
    "terminal_cover_open_record", DI_TERMINAL_COUNT + 1, StandardCoverOpen, RING
)
POWER_DOWN_COUNT: Final = DataItem("power_down_count", DI_POWER_DOWN_COUNT, Count)
POWER_DOWN_RECORD: Final = DataItem(
    "power_down_record", DI_POWER_DOWN_COUNT + 1, StandardPowerDown, RING
)
EVENT_CLEAR_COUNT: Final = DataItem("event_clear_count", DI_CLEAR_COUNT, Count)
EVENT_CLEAR_RECORD: Final = DataItem(
    "event_clear_record", DI_CLEAR_COUNT + 1, StandardEventClear, RING
)
TIME_SET_COUNT: Final = DataItem("time_set_count", DI_TIME_SET_COUNT, Count)
TIME_SET_RECORD: Final = DataItem("time_set_record", DI_TIME_SET_COUNT + 1, StandardTimeSet, RING)
SOFTWARE_VERSION: Final = DataItem("software_version", DI_SOFTWARE_VERSION, VersionString)
HARDWARE_VERSION: Final = DataItem("hardware_version", DI_HARDWARE_VERSION, VersionString)
MANUFACTURER: Final = DataItem("manufacturer_number", DI_MANUFACTURER, VersionString)
BROADCAST_COUNT: Final = DataItem(
    "mfr_broadcast_count", DI_MFR_BROADCAST_COUNT, Count, vendor=True
)
BROADCAST_RECORD: Final = DataItem(
    "mfr_broadcast_record", DI_MFR_BROADCAST_COUNT + 1, StandardTimeSet, RING, vendor=True
)
MFR_COVER_OPEN_TOTALS: Final = DataItem(
    "mfr_cover_open_totals", DI_MFR_COVER_TOTALS, AllTimeTotals, vendor=True
)
MFR_COVER_OPEN_RECORD: Final = DataItem(
    "mfr_cover_open_record", DI_MFR_COVER_TOTALS + 1, ExtendedCoverOpen, RING, vendor=True
)
MFR_COVER_OPEN_BLOCK: Final = DataItem(
    "mfr_cover_open_block", DI_MFR_COVER_BLOCK, ExtendedCoverBlock, vendor=True
)
MFR_TERMINAL_OPEN_TOTALS: Final = DataItem(
    "mfr_terminal_cover_open_totals", DI_MFR_TERMINAL_TOTALS, AllTimeTotals, vendor=True
)
MFR_TERMINAL_OPEN_RECORD: Final = DataItem(
    "mfr_terminal_cover_open_record", DI_MFR_TERMINAL_TOTALS + 1, ExtendedCoverOpen, RING,
    vendor=True
)
MFR_TERMINAL_OPEN_BLOCK: Final = DataItem(
    "mfr_terminal_cover_open_block", DI_MFR_TERMINAL_BLOCK, ExtendedCoverBlock, vendor=True
)
MFR_POWER_DOWN_TOTALS: Final = DataItem(
    "mfr_power_down_totals", DI_MFR_POWER_DOWN_TOTALS, AllTimeTotals, vendor=True
)
MFR_POWER_DOWN_RECORD: Final = DataItem(
    "mfr_power_down_record", DI_MFR_POWER_DOWN_TOTALS + 1, ExtendedPowerDown, RING, vendor=True
)
FREEZE_TIME: Final = DataItem("daily_freeze_time", DI_FREEZE_TIME + 1, FreezeTime, FREEZES)
FREEZE_IMPORT: Final = DataItem("daily_freeze_import", DI_FREEZE_IMPORT + 1, FreezeEnergy,
                                FREEZES)
FREEZE_EXPORT: Final = DataItem("daily_freeze_export", DI_FREEZE_EXPORT + 1, FreezeEnergy,
                                FREEZES)
MFR_FREEZE: Final = DataItem("mfr_daily_freeze", DI_MFR_FREEZE + 1, ExtendedFreeze, FREEZES,
                             vendor=True)
MFR_FREEZE_BLOCK: Final = DataItem("mfr_daily_freeze_block", DI_MFR_FREEZE_BLOCK,
                                   ExtendedFreezeBlock, vendor=True)
MFR_CHAIN_HEAD: Final = DataItem("mfr_chain_head", DI_MFR_CHAIN_HEAD, ChainHead, vendor=True)
MFR_CHAIN_PAGE: Final = DataItem("mfr_chain_page", DI_MFR_CHAIN_HEAD + 1, ChainPage, CHAIN_PAGES,
                                 vendor=True)
RUN_STATUS7: Final = DataItem("run_status_word7", DI_RUN_STATUS7, RunStatus7)
REPORT_MODE: Final = DataItem("active_report_mode", DI_REPORT_MODE, ReportMode)
REPORT_STATUS: Final = DataItem("active_report_status", DI_REPORT_STATUS, ReportStatus)
MFR_COVER_OPEN_TIME: Final = DataItem(
    "mfr_cover_open_time", DI_MFR_COVER_OPEN_TIME, CoverOpenTime, vendor=True
)

TABLE: Final[tuple[DataItem, ...]] = (
    IMPORT_ENERGY, EXPORT_ENERGY, DATE, TIME, ADDRESS,
    COVER_OPEN_COUNT, COVER_OPEN_RECORD, POWER_DOWN_COUNT, POWER_DOWN_RECORD,
    EVENT_CLEAR_COUNT, EVENT_CLEAR_RECORD, TIME_SET_COUNT, TIME_SET_RECORD,
    SOFTWARE_VERSION, HARDWARE_VERSION, MANUFACTURER, BROADCAST_COUNT, BROADCAST_RECORD,
    MFR_COVER_OPEN_TOTALS, MFR_COVER_OPEN_RECORD, MFR_COVER_OPEN_BLOCK,
    MFR_POWER_DOWN_TOTALS, MFR_POWER_DOWN_RECORD,
    FREEZE_TIME, FREEZE_IMPORT, FREEZE_EXPORT, MFR_FREEZE, MFR_FREEZE_BLOCK,
    MFR_CHAIN_HEAD, MFR_CHAIN_PAGE,
    RUN_STATUS7, REPORT_MODE, REPORT_STATUS, MFR_COVER_OPEN_TIME,
    TERMINAL_OPEN_COUNT, TERMINAL_OPEN_RECORD,
    MFR_TERMINAL_OPEN_TOTALS, MFR_TERMINAL_OPEN_RECORD, MFR_TERMINAL_OPEN_BLOCK,
)


# Every vendor DI of the table (and of maker.py, which adds its own), as the catalogue writes
# them: in the default block 04 80.
VENDOR_DIS: Final = frozenset(di for item in TABLE if item.vendor for di in item.dis())


def from_vendor_block(di: int, prefix: int, vendor: frozenset[int] = VENDOR_DIS) -> int | None:
    """The catalogue's DI for ``di`` as asked of a meter whose vendor block is ``prefix`` (DI3
    DI2): a vendor DI under ``prefix`` maps to its row in 04 80; a vendor DI asked under 04 80
    of a meter that moved its block is not served there (None); anything else is itself.
    The standard's 04 80 00 01..03 are never vendor DIs, so they stay where they are."""
    low = di & 0xFFFF
    if di >> 16 == prefix and (VENDOR_PREFIX << 16 | low) in vendor:
        return VENDOR_PREFIX << 16 | low
    if prefix != VENDOR_PREFIX and di in vendor:
        return None
    return di


def to_vendor_block(di: int, prefix: int) -> int:
    """A catalogue vendor DI (04 80 xx xx) as a meter with vendor block ``prefix`` serves it."""
    return prefix << 16 | (di & 0xFFFF)


def _index(table: tuple[DataItem, ...]) -> dict[int, DataItem]:
    by_di: dict[int, DataItem] = {}
    for item in table:
        for di in item.dis():
            if di in by_di:
                raise ValueError(f"{di:08X} is both {by_di[di].name} and {item.name}")
            by_di[di] = item
    return by_di


_BY_DI: Final = _index(TABLE)


def lookup(di: int) -> DataItem | None:
    """The table's row for ``di``, or None if the catalogue does not know it."""
    return _BY_DI.get(di)


V = TypeVar("V", bound=Value)


def decode_as(cls: type[V], di: int, data: bytes) -> V:
    """The value ``data`` holds as the answer to ``di``, which the table says is a ``cls``;
    CatalogError naming the DI and what is wrong if it is not one."""
    item = _BY_DI.get(di)
    if item is None or item.value is not cls:
        raise LookupError(f"the catalogue has no {cls.__name__} at {di:08X}")
    with decoding(f"{di:08X} ({item.name})"):
        return cls.from_bytes(data)
