"""The parts catalogue: real parts a meter is built from, every value with its source.

A data table. A row belongs to one selector key (``supercap.part``, ``nvm.part``,
``battery.part``, ``radio.module``) and sets profile keys, each value with its source: a datasheet
by name and table or row, ``[U] assumption: why`` or ``[D] derived: how``. Resolving a profile
(profile.py) lays the selected row over the registry's defaults and the scenario's own keys over
the row; ``custom`` selects no row (the registry's keys as they are, today's board).

Supercapacitor rows also keep the makers' leakage figures. Where a row has an early (30-min)
figure beside a late (24-h or 72-h) one, its leakage resistance and its redistribution branch
(R_d, C_d) are fitted to both with redistribution_fit.py, whose third condition is τ_d = R_d·C_d =
the early figure's time (the smallest branch that explains the early figure). Eaton states no
leakage at all for its coin cells (KW, KR): their figures are borrowed and marked [U].

Battery states (healthy, weak, undervoltage, absent) are rules on the cell's curve, in
battery.py; the catalogue only names them for the command line.

Must not know how the values are used (the board, the kernel) or how a profile is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterseal.hardware.battery import STATES as BATTERY_STATES
from meterseal.hardware.profile_spec import ProfileValue
from meterseal.hardware.redistribution_fit import LeakageFigure, fit_redistribution

__all__ = [
    "BATTERY_STATES",
    "CUSTOM",
    "PARTS",
    "SELECTORS",
    "Part",
    "Value",
    "choices",
    "find",
    "parts_for",
]

CUSTOM = "custom"
"""The selector value that picks no row: the profile's keys as they are."""

SELECTORS = ("supercap.part", "nvm.part", "battery.part", "radio.module")


@dataclass(frozen=True, slots=True)
class Value:
    """One profile key a row sets, and where its value comes from."""

    key: str
    value: ProfileValue
    source: str


@dataclass(frozen=True, slots=True)
class Part:
    """A catalogue row: the part, the keys it sets, and (supercapacitors) its leakage figures."""

    name: str
    selects: str
    title: str
    source: str
    values: tuple[Value, ...]
    figures: tuple[LeakageFigure, ...] = ()
    notes: tuple[str, ...] = ()

    def value(self, key: str) -> ProfileValue:
        for v in self.values:
            if v.key == key:
                return v.value
        raise KeyError(f"part {self.name!r} sets no key {key!r}")


# --------------------------------------------------------------------------- supercapacitors

_H = 3600.0
_PB = "Eaton PB datasheet (Technical Data 4393)"
_KW = "Eaton KW datasheet (Technical Data 4422)"
_KR = "Eaton KR datasheet (Technical Data 4327)"
_FORECON = "Forecon SCDK coin-type specification (SCDK5R5105, H type = horizontal leads)"
_CLASS_30MIN = (
    "[U] borrowed class figure: the maker states no early leakage; Nichicon EVerCAP UK/UM "
    "datasheet, 'leakage current 0.5C (mA) after 30 minutes' application of rated voltage' (a "
    "maximum, for its 2.5 V smart-meter cells), taken at this part's rated voltage with a stiff "
    "source (no resistor stated). Bracket: NEC TOKIN FR series (5.5 V coin stacks), 'max. current "
    "at 30 minutes' 1.5 mA for 1.0 F — most of which is the main capacitance still charging if "
    "measured through 1 kΩ as Korchip does for 1 F (≈ 0.9 mA at 30 min), leaving ≈ 0.6 mA"
)
_FIT = ("[D] fitted (redistribution_fit.py) to the row's two leakage figures with τ_d = R_d·C_d = "
        "the early figure's 30 min")


def _supercap(name: str, title: str, source: str, *, capacitance_f: float, esr_ohm: float,
              esr_source: str, rated_v: float, rated_source: str, t_min_c: float,
              t_max_c: float, t_source: str, late: LeakageFigure,
              early: LeakageFigure | None = None, leakage_ohm: float | None = None,
              leakage_source: str = "", no_branch_source: str = "",
              notes: tuple[str, ...] = ()) -> Part:
    values = [
        Value("supercap.capacitance_f", capacitance_f, f"{source}: nominal capacitance"),
        Value("supercap.esr_ohm", esr_ohm, esr_source),
        Value("supercap.rated_v", rated_v, rated_source),
        Value("supercap.min_temperature_c", t_min_c, t_source),
        Value("supercap.max_temperature_c", t_max_c, t_source),
    ]
    if early is None:
        assert leakage_ohm is not None
        values += [
            Value("supercap.leakage_ohm", leakage_ohm, leakage_source),
            Value("supercap.redistribution_f", 0.0, no_branch_source),
            Value("supercap.redistribution_ohm", 0.0, no_branch_source),
        ]
        figures: tuple[LeakageFigure, ...] = (late,)
    else:
        fit = fit_redistribution(capacitance_f, esr_ohm, early, late)
        values += [
            Value("supercap.leakage_ohm", fit.leakage_ohm, _FIT),
            Value("supercap.redistribution_f", fit.redistribution_f, _FIT),
            Value("supercap.redistribution_ohm", fit.redistribution_ohm, _FIT),
        ]
        figures = (early, late)
    return Part(name, "supercap.part", title, source, tuple(values), figures, notes)


_SUPERCAPS = (
    _supercap(
        "eaton-pb-1f", "Eaton PB-5R0V105-R / PB-5R0H105-R, 1.0 F 5.0 V stacked cylinder", _PB,
        capacitance_f=1.0,
        esr_ohm=0.5, esr_source=f"{_PB}, Specifications, 1.0 F row: maximum initial ESR 0.5 Ω "
        "at 100 Hz",
        rated_v=5.0, rated_source=f"{_PB}, Ratings: maximum working voltage 5.0 V",
        t_min_c=-25.0, t_max_c=70.0,
        t_source=f"{_PB}, Ratings: operating temperature range −25 °C to +70 °C (extended to "
        "+85 °C)",
        late=LeakageFigure(72 * _H, 12e-6, 5.0, 0.0, "nominal",
                           f"{_PB}, Specifications, 1.0 F row: nominal leakage current 12 µA "
                           "measured after 72 hours at 20 °C (at the 5.0 V working voltage)"),
        leakage_ohm=420_000.0,
        leakage_source="[D] derived: 5.0 V / 12 µA (Eaton PB 1.0 F row, leakage after 72 h at "
        "20 °C) ≈ 417 kΩ, kept at the registry's 420 kΩ",
        no_branch_source="[U] no early leakage figure in the PB datasheet to fit a branch to: "
        "none (0 F), today's model",
        notes=(f"{_PB}, Performance: after 1000 h at 70 °C (5.0 V) ΔC 30 %, ESR 300 % "
               "(supercap.ageing 0.3, supercap.esr_ageing_factor 3.0 at end of life)",),
    ),
    _supercap(
        "eaton-kw-1f", "Eaton KW-5R5C105-R, 1.0 F 5.5 V coin cell for electric utility meters",
        _KW,
        capacitance_f=1.0,
        esr_ohm=30.0, esr_source=f"{_KW}, Standard product table, KW-5R5C105-R: max. initial DC "
        "ESR 30 Ω measured at 1 kHz",
        rated_v=5.5, rated_source=f"{_KW}, Specifications: working voltage 5.5 V",
        t_min_c=-40.0, t_max_c=85.0,
        t_source=f"{_KW}, Specifications: operating temperature range −40 °C to +85 °C (full "
        "specification)",
        early=LeakageFigure(0.5 * _H, 0.5e-3, 5.5, 0.0, "maximum", _CLASS_30MIN),
        late=LeakageFigure(72 * _H, 12e-6, 5.5, 0.0, "nominal",
                           f"[U] {_KW} states no leakage; the same maker's 1.0 F figure "
                           "(Eaton PB datasheet, 1.0 F row: nominal 12 µA after 72 h at 20 °C) "
                           "taken at the KW's 5.5 V"),
        notes=(f"{_KW}, Performance: life 2000 h at +85 °C and 5.5 V, ΔC ≤ 30 %, ESR ≤ 200 % of "
               "max. initial (supercap.ageing 0.3, supercap.esr_ageing_factor 2.0 at end of "
               "life)",),
    ),
    _supercap(
        "eaton-kr-0.22f", "Eaton KR-5R5H224-R, 0.22 F 5.5 V coin cell (horizontal)", _KR,
        capacitance_f=0.22,
        esr_ohm=75.0, esr_source=f"{_KR}, Standard product table, 0.22 F rows: max. initial DC "
        "ESR 75 Ω measured at 1 kHz",
        rated_v=5.5, rated_source=f"{_KR}, Specifications: maximum working voltage 5.5 V",
        t_min_c=-25.0, t_max_c=70.0,
        t_source=f"{_KR}, Specifications: operating temperature range −25 °C to +70 °C "
        "(extended to +85 °C with voltage derating to 3.6 V)",
        early=LeakageFigure(0.5 * _H, 0.5e-3 * 0.22, 5.5, 0.0, "maximum", _CLASS_30MIN),
        late=LeakageFigure(72 * _H, 4.3e-6, 5.5, 0.0, "nominal",
                           f"[U] {_KR} states no leakage; [D] the same maker's PB family "
                           "interpolated at 0.22 F between its 0.1 F (3 µA) and 0.47 F (7 µA) "
                           "rows, nominal after 72 h at 20 °C: 3 + 4 × 0.12/0.37 ≈ 4.3 µA"),
    ),
    _supercap(
        "generic-h-1f", "generic 1.0 F 5.5 V coin cell, H type (horizontal leads)", _FORECON,
        capacitance_f=1.0,
        esr_ohm=30.0, esr_source=f"{_FORECON}, standard ratings: ESR ≤ 30 Ω at 1 kHz",
        rated_v=5.5, rated_source=f"{_FORECON}, nominal specifications: maximum operating "
        "voltage 5.5 V DC",
        t_min_c=-25.0, t_max_c=70.0,
        t_source=f"{_FORECON}, nominal specifications: operating temperature range −25 °C to "
        "+70 °C",
        early=LeakageFigure(0.5 * _H, 0.5e-3, 5.5, 0.0, "maximum", _CLASS_30MIN),
        late=LeakageFigure(24 * _H, 20e-6, 5.0, 100.0, "maximum",
                           f"{_FORECON}, standard ratings: leakage current (24 h) 20 max, at "
                           "5.0 V through 100 Ω; [U] the table's unit is blank, µA read"),
    ),
)

# --------------------------------------------------------------------------------------- NVM

_24LC = "Microchip DS20001203 (24AA256/24LC256/24FC256)"
_FM = "Ramtron FM24C256 datasheet (256Kb FRAM Serial Memory)"
_FM64 = "Ramtron FM24C64B datasheet, DC Operating Conditions (its 5 V sibling)"
_I2C_CLOCKS = 9 * (3 + 64) + 2  # control + 2 address + 64 data bytes, 9 clocks each; START, STOP
_FRAM_BUS_HZ = 400_000

_NVMS = (
    Part("24lc256", "nvm.part", "Microchip 24LC256, 256 Kbit I²C EEPROM", _24LC, (
        Value("nvm.page_size", 64, f"{_24LC}, Features: 64-byte page write buffer"),
        Value("nvm.page_write_time_s", 0.005, f"{_24LC}, Features: page write time 5 ms, "
              "maximum"),
        Value("nvm.write_current_a", 0.003, f"{_24LC}, Features: write current 3 mA, maximum"),
        Value("nvm.standby_current_a", 1e-6, f"{_24LC}, Features: standby current 1 µA "
              "maximum (I-temp.)"),
        Value("nvm.min_voltage_v", 2.5, f"{_24LC}, Device Selection Table: 24LC256 VCC range "
              "2.5–5.5 V (the 24AA256 and 24FC256 run from 1.7 V)"),
    ), notes=("hardware.md 'Standby loads often left out': an AT24C256C stands by at up to "
              "6 µA max (nvm.standby_current_a 6e-6 for that part)",)),
    Part("fm24c256", "nvm.part", "Ramtron FM24C256, 256 Kbit I²C FRAM (5 V)", _FM, (
        Value("nvm.page_size", 64, "[D] FRAM has no page: the journal's 64-byte page is one "
              "write (page_size keeps the journal's layout)"),
        Value("nvm.page_write_time_s", _I2C_CLOCKS / _FRAM_BUS_HZ,
              f"[D] {_I2C_CLOCKS} clocks at 400 kHz = {_I2C_CLOCKS / _FRAM_BUS_HZ * 1e3:.2f} ms: "
              "control byte, two address bytes and 64 data bytes of 9 clocks (with ACK), START "
              f"and STOP; no write delay ({_FM}: 'performs write operations at bus speed. No "
              "write delays are incurred'); [U] 400 kHz, the fast mode MCU I²C ports run (the "
              "part goes to 1 MHz)"),
        Value("nvm.write_current_a", 400e-6, f"[D] {_FM}, Features: 200 µA active current at "
              f"100 kHz, doubled for 400 kHz as in {_FM64} (100/200/400 µA at 100 kHz/400 kHz/"
              "1 MHz)"),
        Value("nvm.standby_current_a", 100e-6, f"{_FM}, Features: 100 µA standby current"),
        Value("nvm.min_voltage_v", 4.5, f"[D] {_FM}, Features: 5 V operation; {_FM64}: VDD "
              "4.5–5.5 V"),
    ), notes=(
        "A 5 V part: on a backup below 4.5 V it cannot write, and its 100 µA standby is 50× a "
        "sleeping MCU. The wide-voltage sibling FM24W256 (2.7–5.5 V, 100 µA at 100 kHz, 15 µA "
        "typ. standby; Cypress FM24W256 datasheet) fits a backup domain better.",
        "The name is ambiguous: Fairchild's FM24C256 is a 256 Kbit EEPROM (6 ms page write; "
        "Fairchild FM24C256 datasheet), and meter firmware that writes an 'FM24C256' may mean "
        "an EEPROM.",
    )),
)

# ----------------------------------------------------------------------------------- battery

_ER = "Maxell / EEMB ER datasheets, ER14250 row (hardware.md)"

_BATTERIES = (
    Part("er14250", "battery.part", "ER14250 ½AA Li-SOCl2 bobbin cell, 3.6 V 1.2 Ah", _ER, (
        Value("battery.voltage_v", 3.6, f"{_ER}: 3.6 V"),
        Value("battery.capacity_mah", 1200.0, f"{_ER}: 1.2 Ah"),
        Value("battery.cutoff_v", 2.0, f"{_ER}: 2.0 V cut-off"),
        Value("battery.internal_resistance_ohm", 20.0,
              "[U] assumption: a Li-SOCl2 bobbin ½AA cell is tens of ohms (≈ 0.5 V sag at its "
              "few-tens-of-mA continuous limit); 20 Ω, as the registry"),
        Value("battery.self_discharge_per_year", 0.01, f"{_ER}: ≤ 1 %/year self-discharge "
              "(the limit taken)"),
        Value("battery.passivation_ohm", 40.0,
              "[U] assumption: no maker gives a resistance; a rested cell that dips to 3.0 V "
              "under a 10 mA start load ('a heavily passivated cell may drop below 3.0 V', "
              "SWE Southwest Electronic Energy, Lithium facts: voltage delay) with 20 Ω "
              "internal: (3.6 − 3.0)/0.01 − 20"),
        Value("battery.passivation_ratio_cold", 3.0,
              "[U] assumption: 'worse when cold' (Maxell ER passivation row, hardware.md) with "
              "no number; three times at −25 °C"),
    ), notes=("battery.state places the cell on its curve: healthy (fresh), weak (halfway down "
              "the knee to the undervoltage level), undervoltage (0.1 V below it), absent",)),
)

# ----------------------------------------------------------------------------------- radio

_FIELD3 = ("hardware.md 'Field practice found since', communication modules: field firmware "
           "sends a power-down report once a second, three times (two repeats after the first)")
_CC1101 = "TI CC1101 datasheet (SWRS061B), Figure 5 (state diagram)"
_RS485 = ("[U] assumption: the RS-485 transceiver is fed from the mains rail, so no report leaves "
          "the meter on backup")

_RADIOS = (
    Part("none", "radio.module", "no module on backup (RS-485 only)", _RS485, (
        Value("radio.present", False, _RS485),
        Value("radio.retries", 0, f"{_RS485}: no send, so no repeat"),
        Value("radio.own_storage", False, f"{_RS485}: no module"),
        Value("radio.profile", "", f"{_RS485}: no module, no phases"),
    )),
    Part("rf-micropower", "radio.module", "sub-GHz micro-power RF module (CC1101 class)",
         _CC1101, (
             Value("radio.present", True, "hardware.md communication modules: sub-GHz "
                   "micro-power RF, tens of mA for tens of ms"),
             Value("radio.profile", "", "one phase: radio.burst_current_a for radio.burst_s"),
             Value("radio.burst_current_a", 0.0328, f"{_CC1101}: TX 32.8 mA at +10 dBm"),
             Value("radio.burst_s", 0.016,
                   "[D] a 72-byte frame (8 bytes preamble and sync, 64 payload) at [U] "
                   "38.4 kBaud = 15 ms, plus ≈ 1 ms for the synthesizer to settle"),
             Value("radio.retries", 2, _FIELD3),
             Value("radio.retry_gap_s", 1.0, _FIELD3),
             Value("radio.own_storage", False, "the module runs on the meter's backup"),
         )),
    Part("nb-iot", "radio.module", "NB-IoT cellular module (Quectel BC95/BC66 class)",
         "hardware.md communication modules: cellular modules (NB-IoT, Cat-1) draw hundreds of "
         "mA for seconds per report", (
             Value("radio.present", True, "hardware.md communication modules"),
             Value("radio.profile", "0.06x2, 0.22x0.5, 0.06x1, 0.01x5",
                   "[U] phases after the modes Quectel's NB-IoT hardware designs describe "
                   "(wake from PSM and attach, transmission, reception, idle tail before the "
                   "release): 60 mA × 2 s, 220 mA × 0.5 s at 23 dBm, 60 mA × 1 s, 10 mA × 5 s — "
                   "magnitudes after hardware.md 'hundreds of mA for seconds', no module "
                   "datasheet table read"),
             Value("radio.retries", 2, _FIELD3),
             Value("radio.retry_gap_s", 1.0, _FIELD3),
             Value("radio.own_storage", False, "the module runs on the meter's backup"),
         ), notes=("NB-IoT modules need 3.1–4.2 V on their supply ([U] BC95 class): a "
                   "supercapacitor below that cannot power the report at all",)),
    Part("hplc-own-storage", "radio.module", "power-line carrier module (HPLC/BPLC) with its own "
         "power-off storage",
         "hardware.md communication modules: carrier modules must report a power-down on their "
         "own storage (a State Grid requirement cited in a patent: 30 s at 1.5 W)", (
             Value("radio.present", True, "the module reports the power-down"),
             Value("radio.own_storage", True, "hardware.md: carrier modules carry their own "
                   "supercapacitor"),
             Value("radio.profile", "", "one phase: raising the event line"),
             Value("radio.burst_current_a", 0.0, "[U] the meter only raises the module's "
                   "event line; the module draws on its own storage"),
             Value("radio.burst_s", 0.001, "[U] one 1 ms pulse on the event line"),
             Value("radio.retries", 0, "[U] the module repeats on its own storage"),
         )),
)

PARTS: tuple[Part, ...] = _SUPERCAPS + _NVMS + _BATTERIES + _RADIOS


def parts_for(selector: str) -> tuple[Part, ...]:
    """The rows a selector key can pick, in catalogue order."""
    if selector not in SELECTORS:
        raise KeyError(f"no selector {selector!r}; one of {', '.join(SELECTORS)}")
    return tuple(p for p in PARTS if p.selects == selector)


def choices(selector: str) -> tuple[str, ...]:
    """What a selector key may be: ``custom`` and its rows' names."""
    return (CUSTOM, *(p.name for p in parts_for(selector)))


def find(selector: str, name: str) -> Part | None:
    """The row ``name`` of ``selector``; None for ``custom``; KeyError for an unknown name."""
    if name == CUSTOM:
        return None
    for p in parts_for(selector):
        if p.name == name:
            return p
    raise KeyError(f"{selector} has no part {name!r}; one of {', '.join(choices(selector))}")
