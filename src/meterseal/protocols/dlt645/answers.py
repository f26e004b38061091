"""What each identifier a DL/T 645 read names answers: a table of handlers, DI -> value.

Owns: one handler per data item of the catalogue the meter serves (energies, date, time,
address, the standard event logs and their counts, the clock-change logs, the daily freezes,
the run-status and active-report words, the manufacturer strings of Table A.5, and our vendor
block's all-time records, totals, freezes and record chain), each building the catalogue value
from the model as it is now; and which of those answers change only with the model's image (so
a session may keep them encoded).

Must not know: frames, addresses, authority, follow-up chunks or caches (the session's); how
the records are stored (it reads them as the firmware's codec decoded them, a MeterImage).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from meterseal.firmware.authlog import KIND_BROADCAST, KIND_TIME_SET
from meterseal.firmware.chain import served_head
from meterseal.firmware.meterimage import MeterImage
from meterseal.firmware.records import DailyFreeze
from meterseal.firmware.reportword import open_time_ms, run_status7
from meterseal.protocols.dlt645 import catalog as cat
from meterseal.protocols.dlt645.catalog import (
    RING,
    DataItem,
    ExtendedCoverBlock,
    ExtendedCoverOpen,
    ExtendedFreeze,
    ExtendedFreezeBlock,
    ExtendedPowerDown,
    FreezeEnergy,
    FreezeTime,
    StandardCoverOpen,
    StandardEventClear,
    StandardPowerDown,
    StandardTimeSet,
)
from meterseal.protocols.dlt645.chainvalues import PAGE_FIELD, ChainHead, ChainPage
from meterseal.protocols.dlt645.model import MeterModel
from meterseal.protocols.dlt645.values import (
    Address,
    AllTimeTotals,
    Count,
    Energy,
    MeterDate,
    MeterTime,
    Value,
    VersionString,
)
from meterseal.protocols.dlt645.words import CoverOpenTime, ReportMode, ReportStatus, RunStatus7

MANUFACTURER_NAME: Final = "meterseal"  # what 04 80 00 03 answers (maker.py may say otherwise)
SOFTWARE_VERSION: Final = "meterseal-fw 0.1.0"
HARDWARE_VERSION: Final = "meterseal twin single-phase"

Handler = Callable[[MeterModel, int], Value]


def _import_energy(model: MeterModel, di: int) -> Value:
    return Energy.rolled(model.energy()[0])


def _export_energy(model: MeterModel, di: int) -> Value:
    return Energy.rolled(model.energy()[1])


def _date(model: MeterModel, di: int) -> Value:
    return MeterDate.of(model.clock()[0])


def _time(model: MeterModel, di: int) -> Value:
    return MeterTime.of(model.clock()[0])


def _address(model: MeterModel, di: int) -> Value:
    return Address(bytes(model.address))


def _cover_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().cover_count())


def _cover_record(model: MeterModel, di: int) -> Value:
    n = di - cat.COVER_OPEN_RECORD.first + 1
    records = model.image().standard_cover()
    if n > len(records):
        return StandardCoverOpen()  # no such record (yet): all zeros, as meters answer
    return StandardCoverOpen.from_record(records[n - 1])


def _terminal_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().terminal_cover_count())


def _terminal_record(model: MeterModel, di: int) -> Value:
    n = di - cat.TERMINAL_OPEN_RECORD.first + 1
    records = model.image().standard_terminal_cover()
    if n > len(records):
        return StandardCoverOpen()
    return StandardCoverOpen.from_record(records[n - 1])


def _power_down_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().power_down_count())


def _power_down_record(model: MeterModel, di: int) -> Value:
    n = di - cat.POWER_DOWN_RECORD.first + 1
    records = model.image().standard_power_down()
    if n > len(records):
        return StandardPowerDown()
    return StandardPowerDown.from_record(records[n - 1])


def _clear_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.image().clear_total)


def _clear_record(model: MeterModel, di: int) -> Value:
    n = di - cat.EVENT_CLEAR_RECORD.first + 1
    records = model.image().clears
    if n > len(records):
        return StandardEventClear()
    return StandardEventClear.from_record(records[n - 1])


def _time_set_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.auth().total(KIND_TIME_SET))


def _time_set_record(model: MeterModel, di: int) -> Value:
    return _change(model, KIND_TIME_SET, di - cat.TIME_SET_RECORD.first + 1)


def _broadcast_count(model: MeterModel, di: int) -> Value:
    return Count.rolled(model.auth().total(KIND_BROADCAST))


def _broadcast_record(model: MeterModel, di: int) -> Value:
    return _change(model, KIND_BROADCAST, di - cat.BROADCAST_RECORD.first + 1)


def _change(model: MeterModel, kind: int, n: int) -> Value:
    records = model.auth().changes(kind)
    if n > len(records):
        return StandardTimeSet()
    return StandardTimeSet.from_change(records[n - 1])


def _software_version(model: MeterModel, di: int) -> Value:
    return VersionString(SOFTWARE_VERSION)


def _hardware_version(model: MeterModel, di: int) -> Value:
    return VersionString(HARDWARE_VERSION)


def _manufacturer(model: MeterModel, di: int) -> Value:
    return VersionString(MANUFACTURER_NAME)


def _mfr_cover_totals(model: MeterModel, di: int) -> Value:
    img = model.image()
    return AllTimeTotals.rolled(img.cover_total, img.cover_base)


def _extended_cover(img: MeterImage, n: int) -> ExtendedCoverOpen:
    """The n-th latest cover-open record of all time, cleared or not."""
    if n > len(img.cover):
        return ExtendedCoverOpen()
    return ExtendedCoverOpen.from_record(img.cover[n - 1], img.cover_base)


def _mfr_cover_record(model: MeterModel, di: int) -> Value:
    return _extended_cover(model.image(), di - cat.MFR_COVER_OPEN_RECORD.first + 1)


def _mfr_cover_block(model: MeterModel, di: int) -> Value:
    img = model.image()
    return ExtendedCoverBlock(tuple(_extended_cover(img, n) for n in range(1, RING + 1)))


def _mfr_terminal_totals(model: MeterModel, di: int) -> Value:
    img = model.image()
    return AllTimeTotals.rolled(img.terminal_cover_total, img.terminal_cover_base)


def _extended_terminal(img: MeterImage, n: int) -> ExtendedCoverOpen:
    """The n-th latest terminal-cover-open record of all time, cleared or not."""
    if n > len(img.terminal_cover):
        return ExtendedCoverOpen()
    return ExtendedCoverOpen.from_record(img.terminal_cover[n - 1], img.terminal_cover_base)


def _mfr_terminal_record(model: MeterModel, di: int) -> Value:
    return _extended_terminal(model.image(), di - cat.MFR_TERMINAL_OPEN_RECORD.first + 1)


def _mfr_terminal_block(model: MeterModel, di: int) -> Value:
    img = model.image()
    return ExtendedCoverBlock(tuple(_extended_terminal(img, n) for n in range(1, RING + 1)))


def _mfr_power_down_totals(model: MeterModel, di: int) -> Value:
    img = model.image()
    return AllTimeTotals.rolled(img.power_down_total, img.power_down_base)


def _mfr_power_down_record(model: MeterModel, di: int) -> Value:
    img = model.image()
    n = di - cat.MFR_POWER_DOWN_RECORD.first + 1
    if n > len(img.power_down):
        return ExtendedPowerDown()
    return ExtendedPowerDown.from_record(img.power_down[n - 1], img.power_down_base)


def _nth_freeze(model: MeterModel, item: DataItem, di: int) -> DailyFreeze | None:
    """The n-th latest daily freeze of the DI's run, or None (not frozen yet)."""
    n = di - item.first + 1
    freezes = model.image().freezes
    return freezes[n - 1] if n <= len(freezes) else None


def _freeze_time(model: MeterModel, di: int) -> Value:
    rec = _nth_freeze(model, cat.FREEZE_TIME, di)
    return FreezeTime() if rec is None else FreezeTime.from_record(rec)


def _freeze_import(model: MeterModel, di: int) -> Value:
    rec = _nth_freeze(model, cat.FREEZE_IMPORT, di)
    return FreezeEnergy() if rec is None else FreezeEnergy.rolled(rec.import_units)


def _freeze_export(model: MeterModel, di: int) -> Value:
    rec = _nth_freeze(model, cat.FREEZE_EXPORT, di)
    return FreezeEnergy() if rec is None else FreezeEnergy.rolled(rec.export_units)


def _extended_freeze(img: MeterImage, n: int) -> ExtendedFreeze:
    return ExtendedFreeze.from_record(img.freezes[n - 1]) if n <= len(img.freezes) \
        else ExtendedFreeze()


def _mfr_freeze(model: MeterModel, di: int) -> Value:
    return _extended_freeze(model.image(), di - cat.MFR_FREEZE.first + 1)


def _run_status7(model: MeterModel, di: int) -> Value:
    return RunStatus7(run_status7(model.cover_open_now(), model.terminal_cover_open_now()))


def _report_mode(model: MeterModel, di: int) -> Value:
    return ReportMode(model.report_mode())


def _report_status(model: MeterModel, di: int) -> Value:
    return ReportStatus(model.report_status())


def _mfr_cover_open_time(model: MeterModel, di: int) -> Value:
    openings, open_ms = open_time_ms(model.image().cover, model.clock()[0])
    return CoverOpenTime.of(openings, open_ms)


def _mfr_freeze_block(model: MeterModel, di: int) -> Value:
    img = model.image()
    return ExtendedFreezeBlock(tuple(_extended_freeze(img, n)
                                     for n in range(1, cat.FREEZES + 1)))


def _mfr_chain_head(model: MeterModel, di: int) -> Value:
    """The newest chained page's chain_seq and MAC (its own, or its seal's: zeros while it
    awaits one), and how many chained pages await their seal."""
    chain = model.image().chain
    if not chain:
        return ChainHead()
    entries, seq, mac, unsealed = served_head(chain)
    return ChainHead(entries, seq, mac, unsealed)


def _mfr_chain_page(model: MeterModel, di: int) -> Value:
    chain = model.image().chain
    n = di - cat.MFR_CHAIN_PAGE.first + 1
    if n > len(chain):
        return ChainPage()
    page, data, seal = chain[n - 1]
    return ChainPage(page, data + bytes(PAGE_FIELD - len(data)), seal)


_HANDLERS_BY_ITEM: Final[dict[DataItem, Handler]] = {
    cat.IMPORT_ENERGY: _import_energy,
    cat.EXPORT_ENERGY: _export_energy,
    cat.DATE: _date,
    cat.TIME: _time,
    cat.ADDRESS: _address,
    cat.COVER_OPEN_COUNT: _cover_count,
    cat.COVER_OPEN_RECORD: _cover_record,
    cat.POWER_DOWN_COUNT: _power_down_count,
    cat.POWER_DOWN_RECORD: _power_down_record,
    cat.EVENT_CLEAR_COUNT: _clear_count,
    cat.EVENT_CLEAR_RECORD: _clear_record,
    cat.TIME_SET_COUNT: _time_set_count,
    cat.TIME_SET_RECORD: _time_set_record,
    cat.SOFTWARE_VERSION: _software_version,
    cat.HARDWARE_VERSION: _hardware_version,
    cat.MANUFACTURER: _manufacturer,
    cat.BROADCAST_COUNT: _broadcast_count,
    cat.BROADCAST_RECORD: _broadcast_record,
    cat.MFR_COVER_OPEN_TOTALS: _mfr_cover_totals,
    cat.MFR_COVER_OPEN_RECORD: _mfr_cover_record,
    cat.MFR_COVER_OPEN_BLOCK: _mfr_cover_block,
    cat.MFR_POWER_DOWN_TOTALS: _mfr_power_down_totals,
    cat.MFR_POWER_DOWN_RECORD: _mfr_power_down_record,
    cat.FREEZE_TIME: _freeze_time,
    cat.FREEZE_IMPORT: _freeze_import,
    cat.FREEZE_EXPORT: _freeze_export,
    cat.MFR_FREEZE: _mfr_freeze,
    cat.MFR_FREEZE_BLOCK: _mfr_freeze_block,
    cat.MFR_CHAIN_HEAD: _mfr_chain_head,
    cat.MFR_CHAIN_PAGE: _mfr_chain_page,
    cat.RUN_STATUS7: _run_status7,
    cat.REPORT_MODE: _report_mode,
    cat.REPORT_STATUS: _report_status,
    cat.MFR_COVER_OPEN_TIME: _mfr_cover_open_time,
    cat.TERMINAL_OPEN_COUNT: _terminal_count,
    cat.TERMINAL_OPEN_RECORD: _terminal_record,
    cat.MFR_TERMINAL_OPEN_TOTALS: _mfr_terminal_totals,
    cat.MFR_TERMINAL_OPEN_RECORD: _mfr_terminal_record,
    cat.MFR_TERMINAL_OPEN_BLOCK: _mfr_terminal_block,
}

# Every DI the meter serves, with its handler: a dictionary lookup per read.
HANDLERS: Final[dict[int, Handler]] = {
    di: handler for item, handler in _HANDLERS_BY_ITEM.items() for di in item.dis()
}

# Answers that change only when the model's image does (records, totals) or never (address).
CACHEABLE: Final = frozenset(
    di for item in _HANDLERS_BY_ITEM if item not in (
        cat.IMPORT_ENERGY, cat.EXPORT_ENERGY, cat.DATE, cat.TIME,
        # the clock-change logs live in the authority journal, outside the image
        cat.TIME_SET_COUNT, cat.TIME_SET_RECORD, cat.BROADCAST_COUNT, cat.BROADCAST_RECORD,
        # live state, the report page (outside the image) and time open up to now
        cat.RUN_STATUS7, cat.REPORT_MODE, cat.REPORT_STATUS, cat.MFR_COVER_OPEN_TIME,
    ) for di in item.dis()
)
