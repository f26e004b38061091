"""The DL/T 698.45 data catalogue, part three: the daily freeze object 5004 and its rows.

Owns: a row of the daily freeze's record table — 2023 (the freeze record number), 2021 (the
data's freeze time), then the captured 0010-02 and 0020-02 (forward and reverse active energy,
the total in 0.01 kWh) — the object's associated object attribute table (attribute 3: each
captured OAD with its freeze period, one day, and its storage depth, 62), and how a firmware
daily freeze becomes a row (``from_record``). The two base columns are the ones the
independent PyPI `dlt698` implementation's catalogue gives 5004 (class 9, DL/T 698.45-2017
7.3.9 table 149, appendix E.6); docs/dlt698.md.

Must not know: the OI of the object (catalog.py), APDUs, sessions, how the image is read. The
firmware's record codec is imported for its type only, so decoding never loads the firmware.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Self

from meterseal.protocols.dlt698.axdr import (
    Array,
    Data,
    DoubleLongUnsigned,
    LongUnsigned,
    Structure,
)
from meterseal.protocols.dlt698.axdr_time import DateTimeS
from meterseal.protocols.dlt698.errors import InvalidField
from meterseal.protocols.dlt698.refs import Oad, OadData
from meterseal.protocols.dlt698.values import (
    U32,
    EnergyTotal,
    _Value,
    as_type,
    check_time,
    date_time_s,
    floor_s,
    items,
    time_ms,
    u32,
)

if TYPE_CHECKING:
    from meterseal.firmware.records import DailyFreeze

ATTR_FREEZE_RECORDS: Final = 2
ATTR_CAPTURE: Final = 3
FREEZE_NUMBER: Final = Oad(0x2023, 0x02)
FREEZE_TIME: Final = Oad(0x2021, 0x02)
FROZEN_IMPORT: Final = Oad(0x0010, 0x02)
FROZEN_EXPORT: Final = Oad(0x0020, 0x02)
CAPTURED: Final = (FROZEN_IMPORT, FROZEN_EXPORT)
FREEZE_COLUMNS: Final = (FREEZE_NUMBER, FREEZE_TIME, *CAPTURED)
PERIOD_DAYS: Final = 1
DEPTH: Final = 62


def capture_table() -> Data:
    """Attribute 3: array of {freeze period (long-unsigned), OAD, storage depth}."""
    return Array(tuple(Structure((LongUnsigned(PERIOD_DAYS), OadData(o), LongUnsigned(DEPTH)))
                       for o in CAPTURED))


@dataclass(frozen=True, slots=True)
class DailyFreezeRow(_Value):
    """A row of 5004: the freeze record number (as 2022 numbers events: the first is 0), the
    freeze time, the forward and reverse active energy then (0.01 kWh)."""

    number: int
    time_ms: int
    import_units: int
    export_units: int
    COLUMNS: ClassVar[tuple[Oad, ...]] = FREEZE_COLUMNS
    WHAT: ClassVar[str] = "a daily freeze row"

    def __post_init__(self) -> None:
        for name in ("number", "import_units", "export_units"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < U32:
                raise InvalidField(f"{name} must fit 32 bits, got {value!r}")
        check_time(self.time_ms, "freeze time")

    @classmethod
    def from_record(cls, rec: DailyFreeze) -> Self:
        return cls((rec.seq - 1) % U32, floor_s(rec.time_ms), rec.import_units % U32,
                   rec.export_units % U32)

    def values(self) -> tuple[Data, ...]:
        return (DoubleLongUnsigned(self.number), date_time_s(self.time_ms),
                EnergyTotal(self.import_units).to_data(), EnergyTotal(self.export_units).to_data())

    def to_data(self) -> Data:
        return Structure(self.values())

    def columns(self) -> dict[Oad, Data]:
        return dict(zip(self.COLUMNS, self.values(), strict=True))

    @classmethod
    def from_data(cls, value: Data) -> Self:
        n, at, imp, exp = items(value, Structure, 4, cls.WHAT)
        return cls(u32(n, "freeze number"), time_ms(as_type(at, DateTimeS, "freeze time"),
                                                     "freeze time"),
                   EnergyTotal.from_data(imp).units_0p01kwh,
                   EnergyTotal.from_data(exp).units_0p01kwh)
