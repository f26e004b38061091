"""The registry of profile keys: the built-in `single-phase` board, every default with its source.

A data table. Every default names its origin: a row of the project's hardware facts table
(hardware.md, whose rows are named after datasheets; cited by part and row), ``[U] assumption:
why`` where that table has no number, or ``[D] derived: how``. Cross-key rules and resolution are
profile.py's.

The selector keys (``supercap.part``, ``nvm.part``, ``battery.part``, ``battery.state``,
``radio.module``) default to today's board: ``custom`` (no catalogue row, the keys as they are)
and a healthy battery; every new physical key defaults to the value that leaves today's model
unchanged (no redistribution branch, no standby load, no self-discharge, no passivation, one
radio burst), and its source names the field value as well."""

from __future__ import annotations

from meterseal.hardware import catalog
from meterseal.hardware.battery import STATES as _BATTERY_STATES
from meterseal.hardware.profile_spec import ProfileKey
from meterseal.hardware.profile_spec import key as _k

__all__ = ["KEYS"]

# Shorthands for the sources. Rows are those of hardware.md, the hardware facts table.
_PB = "Eaton PB datasheet, 1.0 F row"
_ER = "Maxell / EEMB ER datasheets, ER14250 row"
_RA4C1 = "Renesas RA4C1 row (MCU table)"
_L031 = "STM32L031 measured row (jeelabs.org low-power L031)"
_FIELD = "public meter firmware, 'How firmware in the field behaves'"
_EEPROM = "Microchip DS20001203, 24LC256 / AT24C256C row"
_STANDBY = "hardware.md 'Field practice found since', standby loads often left out"
_TODAY = "0 = today's model (not counted)"


def _part(selector: str, default: str, source: str, meaning: str) -> ProfileKey:
    return _k(
        selector,
        default,
        "-",
        source + "; 'custom' selects no catalogue row (the keys as they are); each row names "
        "its datasheet (`meterseal parts`)",
        meaning + "; every key the row sets stays overridable by the scenario",
        choices=catalog.choices(selector),
    )


# The registry. Order = documentation order. Defaults are the built-in `single-phase` profile.
KEYS: tuple[ProfileKey, ...] = (
    # --- meter -------------------------------------------------------------------------------
    _k(
        "meter.address",
        "000000000001",
        "-",
        "DESIGN.md 'Profile keys' example; DL/T 645 addresses are 6 BCD bytes "
        "(reference/dlt645.md)",
        "12-digit communication address",
        pattern=r"[0-9]{12}",
    ),
    _k(
        "meter.utc_offset_h",
        8.0,
        "h",
        "DESIGN.md 'Time': the meter's RTC keeps local standard time, default profile UTC+8",
        "offset of the meter's local standard time from UTC",
        minimum=-12.0,
        maximum=14.0,
    ),
    # --- supply ------------------------------------------------------------------------------
    _k(
        "supply.topology",
        "battery-first",
        "-",
        "SEED ('after power failure and when the battery is undervoltage, the supercapacitor "
        "discharges to support module communication and low-power operation of the MCU') and "
        "hardware.md 'Where the outage watch is powered' (the MCU watches on the clock battery, "
        "the supercapacitor feeds the power-down record and report); 'battery-only' is the "
        "meter before that design, 'battery+supercap' the supercapacitor carrying the watch "
        "from the first second",
        "how the backup sources feed the MCU and RTC domains (DESIGN.md, profile keys)",
        choices=("supercap-only", "battery+supercap", "diode-or", "battery-first", "battery-only"),
    ),
    _k(
        "supply.rail_v",
        12.0,
        "V",
        "[U] assumption: a typical single-phase meter PSU's unregulated DC rail; "
        "hardware.md has no number",
        "the DC rail while mains is present",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=400.0,
    ),
    _k(
        "supply.power_fail_v",
        9.0,
        "V",
        "[U] assumption: comparator at 75 % of the 12 V rail, leaving the bulk hold-up for the "
        "power-fail save; hardware.md has no number",
        "the power-fail comparator level on the falling rail",
        minimum=0.0,
        exclusive_minimum=True,
    ),
    _k(
        "supply.bulk_holdup_s",
        0.08,
        "s",
        "[U] assumption: DESIGN.md says the PSU bulk capacitor holds 'tens of ms'; 80 ms chosen",
        "how long the rail stays above the power-fail level after mains is lost",
        minimum=0.0,
        maximum=10.0,
    ),
    _k(
        "supply.quiescent_current_a",
        3e-6,
        "A",
        _STANDBY + ": regulator/supervisor quiescent current 1–5 µA; [D] the middle, 3 µA "
        "(0 = not counted)",
        "quiescent current of the backup regulator and supervisor: flows whenever the MCU "
        "domain's source has voltage (also after the MCU's brown-out)",
        minimum=0.0,
        maximum=0.01,
    ),
    # --- supercapacitor ----------------------------------------------------------------------
    _part("supercap.part", "eaton-kw-1f",
          "hardware.md 'Field practice found since': coin-cell supercapacitors are the meter "
          "parts; Eaton KW (TD 4422) is sold for electric utility meters, rated −40…+85 °C",
          "the supercapacitor, a row of the parts catalogue"),
    _k(
        "supercap.capacitance_f",
        1.0,
        "F",
        _PB,
        "capacitance at 20 °C, nominal",
        # A floor the closed-form physics can divide by at any tolerance, ageing and cold:
        # below a microfarad no backup capacitor is meant (supply.topology = "battery-only").
        minimum=1e-6,
        maximum=1000.0,
    ),
    _k(
        "supercap.esr_ohm",
        0.5,
        "Ω",
        _PB + " (ESR 0.5 Ω at 100 Hz)",
        "equivalent series resistance at 20 °C, nominal",
        minimum=0.0,
        maximum=1000.0,
    ),
    _k(
        "supercap.leakage_ohm",
        420_000.0,
        "Ω",
        "[D] derived: 5.0 V / 12 µA (Eaton PB 1.0 F row, leakage after 72 h at 20 °C) ≈ 420 kΩ",
        "parallel leakage resistance at 20 °C",
        # 1 Ω is a short; 1e18 Ω is no leakage (and 1/R stays a normal float).
        minimum=1.0,
        maximum=1e18,
    ),
    _k(
        "supercap.rated_v",
        5.0,
        "V",
        _PB + " (5.0 V stacked part)",
        "rated voltage",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=100.0,
    ),
    _k(
        "supercap.charge_resistor_ohm",
        4700.0,
        "Ω",
        "NXP UM10301 row (Charging: 1 F through 4.7 kΩ, 5τ ≈ 6.5 h)",
        "series resistor charging the supercapacitor from its source",
        # Finite both ways: a milliohm is a wire, a teraohm charges nothing in a lifetime.
        minimum=1e-3,
        maximum=1e12,
    ),
    _k(
        "supercap.charge_source_v",
        4.7,
        "V",
        "[D] derived: a 5.0 V rail minus one Schottky diode; [U] the 0.3 V diode drop",
        "the voltage the charging resistor is fed from while mains is present",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=100.0,
    ),
    _k(
        "supercap.tolerance",
        0.0,
        "fraction",
        "Eaton PB datasheet row: tolerance −20/+80 % (0.0 = nominal; −0.2 = the −20 % end)",
        "capacitance deviation from nominal, as a fraction",
        minimum=-0.2,
        maximum=0.8,
    ),
    _k(
        "supercap.ageing",
        0.0,
        "fraction",
        "Eaton PB datasheet row: after 1000 h ΔC 30 % (0.0 = new part; 0.3 = that end of life)",
        "fractional capacitance loss from ageing",
        minimum=0.0,
        maximum=0.9,
    ),
    _k(
        "supercap.esr_ageing_factor",
        1.0,
        "ratio",
        "Eaton PB datasheet row: after 1000 h ESR 300 % (1.0 = new part; 3.0 = that end of life)",
        "ESR multiplier from ageing",
        minimum=1.0,
        maximum=20.0,
    ),
    _k(
        "supercap.leakage_doubling_c",
        20.0,
        "°C",
        "[U] assumption: leakage is a thermally activated process; a doubling per 20 °C. No "
        "maker states leakage against temperature as a number (Panasonic and CDA show "
        "'influence of ambient temperature on self-discharge' as curves only). Bracket: the 10 °C "
        "chemical rule of thumb (32× at +70 °C) on one side; on the other, KEMET FC datasheet, "
        "'characteristics in different temperature', phase 5 (+70 °C): current (30 minutes "
        "value) ≤ 1.5·C·V mA, against the 1.5·C mA at 20 °C of the same lineage's NEC TOKIN FR "
        "series ([U] the FC's own 20 °C table was not read): 5.5× over 45 °C, a doubling per "
        "≈ 18 °C",
        "leakage current doubles every this many °C above 20 °C (no change below)",
        # At least 1 °C: a doubling per degree is already 2^65 at 85 °C; a finer one overflows.
        minimum=1.0,
        maximum=100.0,
    ),
    _k(
        "supercap.redistribution_f",
        0.0,
        "F",
        "0 = no branch, today's model; hardware.md 'Field practice found since': leakage right "
        "after a charge is far above the 72-h figure (charge moving into slow pores), modelled "
        "by a series R-C branch; the catalogue's coin cells fit it to their figures",
        "capacitance of the slow charge-redistribution branch (R_d in series with C_d, beside "
        "the main capacitance) at 20 °C, nominal; 0 = no branch",
        minimum=0.0,
        maximum=1000.0,
    ),
    _k(
        "supercap.redistribution_ohm",
        0.0,
        "Ω",
        "0 with no branch; the catalogue's coin cells fit it (redistribution_fit.py)",
        "series resistance of the redistribution branch at 20 °C (> 0 when the branch has "
        "capacitance); colder it grows like the ESR, [U] ion transport limits both",
        minimum=0.0,
        maximum=1e9,
    ),
    _k(
        "supercap.min_temperature_c",
        -25.0,
        "°C",
        _PB + " (operating temperature −25…+70 °C)",
        "lowest rated operating temperature of the part (outside it: a warning, not an error)",
        minimum=-100.0,
        maximum=200.0,
    ),
    _k(
        "supercap.max_temperature_c",
        70.0,
        "°C",
        _PB + " (operating temperature −25…+70 °C)",
        "highest rated operating temperature of the part (outside it: a warning, not an error)",
        minimum=-100.0,
        maximum=200.0,
    ),
    _k(
        "supercap.c_ratio_cold",
        0.75,
        "ratio",
        "KEMET FC datasheet row: at −25 °C C ≥ 50 % of initial (a limit); [U] typical taken "
        "midway between that limit and nominal",
        "capacitance at −25 °C over capacitance at 20 °C (linear between, clamped outside)",
        # The KEMET row's cold limit is 0.5; 0.01 keeps the capacitance a number to divide by.
        minimum=0.01,
        maximum=1.0,
    ),
    _k(
        "supercap.esr_ratio_cold",
        2.5,
        "ratio",
        "KEMET FC datasheet row: at −25 °C ESR ≤ 400 % of initial (a limit); [U] typical taken "
        "midway between nominal and that limit",
        "ESR at −25 °C over ESR at 20 °C (linear between, clamped outside)",
        minimum=1.0,
        maximum=20.0,
    ),
    # --- battery -----------------------------------------------------------------------------
    _part("battery.part", "er14250",
          "hardware.md clock battery rows: ER14250 (½AA Li-SOCl2, 1.2 Ah), meter practice "
          "(> 1.2 Ah, not replaced over the meter's life)",
          "the clock battery, a row of the parts catalogue"),
    _k(
        "battery.state",
        "healthy",
        "-",
        "today's board: a fresh cell; hardware.md clock battery rows (undervoltage warning below "
        "2.50 V in meter firmware)",
        "the cell when the scenario starts: 'healthy' (fresh), 'weak' (on its end-of-life knee, "
        "above undervoltage), 'undervoltage' (below that level), 'absent' (battery.present "
        "false); sets battery.initial_drawn_fraction",
        choices=_BATTERY_STATES,
    ),
    _k(
        "battery.present",
        True,
        "-",
        "SEED / DESIGN.md: the seed design has a clock battery beside the supercapacitor",
        "whether the clock battery is fitted",
    ),
    _k(
        "battery.voltage_v",
        3.6,
        "V",
        _ER + " (3.6 V)",
        "open-circuit voltage of the fresh cell (flat over the first 90 % of capacity)",
        # 10 mV: a lower voltage has no slope left to its cut-off that a float can hold.
        minimum=0.01,
        maximum=10.0,
    ),
    _k(
        "battery.capacity_mah",
        1200.0,
        "mAh",
        _ER + " (1.2 Ah)",
        "capacity down to the cut-off voltage",
        # A microampere-hour up to a thousand ampere-hours: the charge stays a normal float.
        minimum=1e-3,
        maximum=1e6,
    ),
    _k(
        "battery.internal_resistance_ohm",
        20.0,
        "Ω",
        "[U] assumption: a Li-SOCl2 bobbin ½AA cell is tens of ohms (≈ 0.5 V sag at its few-tens-"
        "of-mA continuous limit); 20 Ω chosen",
        "internal resistance",
        minimum=0.0,
        maximum=10_000.0,
    ),
    _k(
        "battery.undervoltage_v",
        2.5,
        "V",
        "clock-battery undervoltage row (public meter firmware): warning below 2.50 V",
        "below this the battery is undervoltage; the RTC domain falls back to the supercapacitor",
        minimum=0.0,
        maximum=10.0,
    ),
    _k(
        "battery.cutoff_v",
        2.0,
        "V",
        _ER + " (2.0 V cut-off)",
        "open-circuit voltage at 100 % of capacity drawn",
        minimum=0.0,
        maximum=10.0,
    ),
    _k(
        "battery.initial_drawn_fraction",
        0.0,
        "fraction",
        "[D] derived from battery.state on the cell's curve (battery.py); 0 = a fresh cell, "
        "today's model",
        "share of the capacity already drawn when the scenario starts (past 1: below cut-off)",
        minimum=0.0,
        maximum=2.0,
    ),
    _k(
        "battery.self_discharge_per_year",
        0.0,
        "fraction/year",
        _ER + " (≤ 1 %/year self-discharge); " + _TODAY,
        "share of the capacity lost per year by self-discharge, a constant drain",
        minimum=0.0,
        maximum=1.0,
    ),
    _k(
        "battery.passivation_ohm",
        0.0,
        "Ω",
        "Maxell ER row (passivation: a transient voltage dip when load starts after storage, "
        "worse when cold); no maker gives a resistance, the er14250 row assumes one; " + _TODAY,
        "extra series resistance a pulse load meets on a rested cell, at 20 °C",
        minimum=0.0,
        maximum=10_000.0,
    ),
    _k(
        "battery.passivation_ratio_cold",
        1.0,
        "ratio",
        "Maxell ER row (passivation worse when cold); [U] no number: 1.0 = no cold effect",
        "passivation resistance at −25 °C over that at 20 °C (linear between, clamped outside)",
        minimum=1.0,
        maximum=100.0,
    ),
    # --- MCU ---------------------------------------------------------------------------------
    _k(
        "mcu.active_current_a",
        300e-6,
        "A",
        _L031 + ": ≈ 300 µA while awake",
        "current while the MCU runs (a wake-up's work)",
        minimum=0.0,
        maximum=1.0,
    ),
    _k(
        "mcu.sleep_current_a",
        1.73e-6,
        "A",
        _RA4C1 + ": 1.73 µA software standby",
        "current in the low-power watch (sleep), at 25 °C",
        minimum=0.0,
        maximum=1.0,
    ),
    _k(
        "mcu.sleep_current_ratio_85c",
        2.2,
        "ratio",
        "[D] derived: TI SLAS731C, MSP430F673x row: LPM3 5.5 µA typ at 85 °C / 2.5 µA typ at 25 °C",
        "sleep current at 85 °C over that at 25 °C (linear between, 1.0 below 25 °C)",
        minimum=1.0,
        maximum=100.0,
    ),
    _k(
        "mcu.ir_receiver_current_a",
        0.0,
        "A",
        _STANDBY + " (an IR receiver powered for optical wake-up); a demodulating receiver "
        "draws 0.35 mA typ. (Vishay TSOP351.. datasheet, supply current at 3.3 V: 0.27/0.35/"
        "0.45 mA); " + _TODAY,
        "supply current of an IR receiver kept powered for optical wake-up while the MCU "
        "domain is powered",
        minimum=0.0,
        maximum=0.1,
    ),
    _k(
        "mcu.brownout_v",
        2.0,
        "V",
        "[U] assumption: LDO headroom above a ~1.8 V brown-out reset (STM32L053 row: BOR, "
        "1.65–3.6 V), taken at the supercapacitor",
        "the supercapacitor terminal voltage below which the MCU resets",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=10.0,
    ),
    _k(
        "mcu.wake_time_s",
        1.6e-3,
        "s",
        _L031 + ": wake from standby ≈ 1.6 ms",
        "duration of one wake-up at the active current",
        minimum=0.0,
        maximum=10.0,
    ),
    _k(
        "mcu.wake_mode",
        "interrupt",
        "-",
        _FIELD + ": most wake on a cover-pin edge interrupt",
        "how the MCU notices a cover change while on backup",
        choices=("interrupt", "polling"),
    ),
    _k(
        "mcu.poll_period_s",
        1.0,
        "s",
        _FIELD + ": one polls once per second on an RTC wake",
        "polling period in polling wake mode",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=3600.0,
    ),
    # --- cover switch ------------------------------------------------------------------------
    _k(
        "cover.pullup_current_a",
        3.3e-6,
        "A",
        "[U] assumption: a 1 MΩ pull-up at 3.3 V = 3.3 µA while the switch is closed",
        "bias current through the cover switch while it is closed (cover on)",
        minimum=0.0,
        maximum=0.1,
    ),
    _k(
        "cover.bias",
        "static",
        "-",
        "DESIGN.md 'Physics model': the pull-up draws while closed unless biased in pulses; "
        "static is the plain design",
        "'static' pull-up or 'pulsed' bias",
        choices=("static", "pulsed"),
    ),
    _k(
        "cover.bias_pulse_s",
        1e-3,
        "s",
        "[U] assumption: ≈ 10 τ of 1 MΩ with ~100 pF of pin and trace capacitance, to settle "
        "before the sample",
        "width of one bias pulse (pulsed bias)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=10.0,
    ),
    _k(
        "cover.bias_period_s",
        1.0,
        "s",
        "[D] derived: equal to the field firmware's 1 s polling period (" + _FIELD + "); in "
        "polling mode the pulses ride on the poll tick and mcu.poll_period_s is used instead",
        "period of the bias pulses (pulsed bias, interrupt wake mode)",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=3600.0,
    ),
    _k(
        "cover.tamper_latch",
        False,
        "-",
        "[U] assumption: hardware.md notes battery/RTC-domain tamper inputs as an option; the "
        "seed design uses a plain MCU pin, so off",
        "a battery-domain tamper input latches and time-stamps the first edge with the MCU off "
        "(or, the cover already open as the MCU dies, the edge it fell on)",
    ),
    _k(
        "cover.sample_period_s",
        0.005,
        "s",
        _FIELD + ": on mains the cover pin is sampled every 5 ms",
        "cover sampling period on mains",
        minimum=0.0,
        exclusive_minimum=True,
        maximum=1.0,
    ),
    _k(
        "cover.debounce_samples",
        9,
        "samples",
        _FIELD + ": a change is accepted after 8–10 equal samples; 9 × 5 ms = 45 ms = "
        "cover.debounce_s",
        "equal samples needed to accept a change on mains",
        minimum=1,
        maximum=1000,
    ),
    _k(
        "cover.debounce_s",
        0.045,
        "s",
        "[D] derived: cover.debounce_samples × cover.sample_period_s (9 × 5 ms), the firmware's "
        "own debounce; " + _FIELD + ": 8–10 samples at 5 ms = 40–50 ms",
        "debounce time: a level must hold this long to count as a change; set it or "
        "cover.debounce_samples, the other follows (it must be a whole number of samples)",
        minimum=0.0,
        maximum=10.0,
    ),
    _k(
        "cover.bounce_s",
        0.005,
        "s",
        "[U] assumption: mechanical key switches settle within a few ms; 5 ms chosen, below "
        "the debounce time",
        "how long a true transition of the switch bounces",
        minimum=0.0,
        maximum=1.0,
    ),
    # --- terminal cover ----------------------------------------------------------------------
    _k(
        "terminal_cover.present",
        False,
        "-",
        "hardware.md 'Field practice found since': a major maker's single-phase firmware checks "
        "the meter cover and the terminal cover, so field meters have one (true); off here so "
        "that every scenario written before it keeps its meaning: a second static pull-up "
        "(cover.pullup_current_a) is the largest load of the watch",
        "a second key switch under the terminal cover, with the meter cover's switch physics "
        "(cover.* keys) and debounce, on the same backup; its openings are their own records",
    ),
    # --- NVM ---------------------------------------------------------------------------------
    _part("nvm.part", "24lc256",
          "hardware.md non-volatile memory rows: 24LC256 / AT24C256C, the 32 KiB EEPROM of "
          "the journal's page map",
          "the NVM chip, a row of the parts catalogue"),
    _k(
        "nvm.page_size",
        64,
        "bytes",
        _EEPROM + ": 64-byte page",
        "EEPROM page size; the journal writes 64-byte-aligned pages of at most 64 bytes, so the "
        "chip's page must be a multiple of 64 that divides its 32 KiB",
        choices=(64, 128, 256, 512),
    ),
    _k(
        "nvm.page_write_time_s",
        0.005,
        "s",
        _EEPROM + ": 5 ms max per byte or page",
        "duration of one page write",
        minimum=0.0,
        maximum=1.0,
    ),
    _k(
        "nvm.write_current_a",
        0.003,
        "A",
        _EEPROM + ": 3 mA max while writing",
        "EEPROM current while a page write runs",
        minimum=0.0,
        maximum=1.0,
    ),
    _k(
        "nvm.standby_current_a",
        0.0,
        "A",
        _STANDBY + " (an AT24C256C up to 6 µA max; 24LC256 1 µA max, " + _EEPROM + "); "
        + _TODAY,
        "NVM standby current while the MCU domain is powered and no write runs",
        minimum=0.0,
        maximum=0.01,
    ),
    _k(
        "nvm.min_voltage_v",
        0.0,
        "V",
        "0 = no minimum, today's model; 24LC256 2.5 V, 24AA256/24FC256 1.7 V (Microchip "
        "DS20001203, device selection table)",
        "lowest supply at which the NVM may write (a write below it is out of specification)",
        minimum=0.0,
        maximum=10.0,
    ),
    # --- RTC ---------------------------------------------------------------------------------
    _k(
        "rtc.current_a",
        0.38e-6,
        "A",
        _RA4C1 + ": RTC 0.38 µA on its own VRTC domain",
        "current of the RTC domain",
        minimum=0.0,
        maximum=0.01,
    ),
    _k(
        "rtc.drift_ppm",
        5.8,
        "ppm",
        "[D] derived: clock error ≤ 0.5 s/day (vendor FAQ row, meter practice) = "
        "0.5/86400 ≈ 5.8 ppm",
        "RTC rate error; positive runs fast",
        minimum=-1000.0,
        maximum=1000.0,
    ),
    _k(
        "rtc.min_voltage_v",
        1.6,
        "V",
        "[U] assumption: just below the 1.65 V supply floor of the STM32L053 row; hardware.md has "
        "no RTC-domain minimum for the RA4C1",
        "the RTC runs while its supply is at or above this",
        minimum=0.0,
        maximum=10.0,
    ),
    # --- radio -------------------------------------------------------------------------------
    _part("radio.module", "rf-micropower",
          "hardware.md 'Field practice found since' (communication modules): a sub-GHz "
          "micro-power RF module reports for tens of mA over tens of ms, within a coin-cell "
          "supercapacitor's reach",
          "the communication module, a row of the parts catalogue"),
    _k(
        "radio.present",
        True,
        "-",
        "DESIGN.md 'The recording behaviour': the active report by the communication module; "
        "the seed's supercapacitor supports module communication",
        "whether a communication module can send an active report on backup",
    ),
    _k(
        "radio.burst_current_a",
        0.05,
        "A",
        "[U] assumption: a last-gasp frame from a low-power module; hardware.md has no number",
        "current of one active-report burst",
        minimum=0.0,
        maximum=5.0,
    ),
    _k(
        "radio.burst_s",
        0.2,
        "s",
        "[U] assumption: one short last-gasp frame; hardware.md has no number",
        "duration of one active-report burst",
        minimum=0.0,
        maximum=60.0,
    ),
    _k(
        "radio.profile",
        "",
        "A×s",
        "empty = one phase (radio.burst_current_a for radio.burst_s), today's model; hardware.md "
        "communication modules: cellular modules draw hundreds of mA for seconds per report, in "
        "phases",
        "the current profile of one send as 'current_a×duration_s' phases separated by commas "
        "(e.g. '0.06x2, 0.22x0.5'); when set, the burst keys are not used",
    ),
    _k(
        "radio.retries",
        0,
        "sends",
        "0 = one send, today's model; hardware.md communication modules: field firmware sends "
        "a power-down report once a second, three times (2 repeats)",
        "how many times a report is sent again after its first send",
        minimum=0,
        maximum=20,
    ),
    _k(
        "radio.retry_gap_s",
        1.0,
        "s",
        "hardware.md communication modules: field firmware sends a power-down report once a "
        "second, three times",
        "pause between the end of one send of a report and the start of the next",
        minimum=0.0,
        maximum=3600.0,
    ),
    _k(
        "radio.own_storage",
        False,
        "-",
        "false = the module runs on the meter's backup, today's model; hardware.md "
        "communication modules: carrier (HPLC/BPLC) modules report a power-down on their own "
        "storage",
        "the module has its own power-off storage: a report costs the meter's backup only its "
        "profile (raising the event line)",
    ),
    # --- firmware parameters the board design fixes -------------------------------------------
    _k(
        "firmware.write_margin_v",
        0.05,
        "V",
        "[U] assumption: 50 mV above brown-out after a write's ESR drop, for ADC error; "
        "hardware.md: firmware must not start a write close to the brown-out level",
        "voltage kept above the brown-out level after a write's ESR drop",
        minimum=0.0,
        maximum=5.0,
    ),
    # --- DL/T 645 face ------------------------------------------------------------------------
    _k(
        "dlt645.password_level02",
        "123456",
        "-",
        "reference/dlt645.md 'Writing and clearing': event clear 1B needs a level-02 password, "
        "sent as PA P0 P1 P2; [U] assumption: the value, as a factory default",
        "the level-02 password P0 P1 P2: six hex digits in wire order (the PyPI dlt645 client's "
        "clear_event('02' + these digits) sends exactly them)",
        pattern=r"[0-9A-Fa-f]{6}",
    ),
    _k(
        "dlt645.max_password_tries_per_day",
        3,
        "-",
        "reference/dlt645.md 'Writing and clearing': meters lock the password after a few "
        "failures a day (a count the profile sets); [U] assumption: 3",
        "wrong passwords or security-module keys the meter takes (within security.lockout_h of "
        "its running time) before it refuses every password and key for security.lockout_h",
        minimum=1,
        maximum=255,
    ),
    _k(
        "dlt645.vendor_prefix",
        "0480",
        "-",
        "[D] derived: the block the project has used since the first DL/T 645 face "
        "(docs/dlt645.md); reference/dlt645.md 'Field rules': Table A.5 defines only 04 80 00 "
        "01..03 there, vendors use 04 FE, 04 90, 04 CC, ... — the prefix is our choice",
        "DI3 DI2 (four hex digits) of the vendor DIs that carry time quality, bounds and "
        "all-time totals; 04 80 00 01..03 stay the standard's whatever it is",
        pattern=r"[0-9A-Fa-f]{4}",
    ),
    # --- security module and authority --------------------------------------------------------
    _k(
        "security.factory_mode",
        False,
        "-",
        "reference/dlt645.md 'Field rules': level 02 (and 04) only in factory mode; in the "
        "field they answer 'not authorised'",
        "the meter is in factory mode: plain level-02 passwords are accepted (with the "
        "programming key); otherwise only level 98 through the security module",
    ),
    _k(
        "security.key",
        "00112233445566778899aabbccddeeff",
        "-",
        "[U] assumption: a per-meter SM4 key (field ESAMs use SM4, the national algorithm); a "
        "test key, to be overridden per meter",
        "the security module's 128-bit SM4 key, 32 hex digits",
        pattern=r"[0-9A-Fa-f]{32}",
    ),
    _k(
        "security.record_mac",
        True,
        "-",
        "issue 13 item 5: each record the journal commits carries a MAC from the security "
        "module chained over the previous one (firmware/chain.py)",
        "chain every journal record with a MAC from the security module (HMAC-SHA256, 8 bytes, "
        "keyed from security.key); off: records carry no MAC",
    ),
    _k(
        "security.mac_current_a",
        0.005,
        "A",
        "[U] assumption: no ESAM/SM4 chip's active current is in reference/hardware.md; 5 mA "
        "brackets a smart-card-class secure element working at a few MHz",
        "the security module's supply current while it computes one record MAC (the MCU, "
        "awake beside it, is counted as mcu.active_current_a)",
        minimum=0.0,
        maximum=0.1,
    ),
    _k(
        "security.mac_time_s",
        0.01,
        "s",
        "[U] assumption: no ESAM timing is in reference/hardware.md; 10 ms covers the command "
        "exchange of a ~60-byte message over the module's serial link and the MAC itself",
        "how long the security module computes one record MAC (with its command exchange)",
        minimum=0.0,
        maximum=1.0,
    ),
    _k(
        "security.lockout_h",
        24.0,
        "h",
        "reference/dlt645.md 'Writing and clearing': meters lock the password after a few "
        "failures a day; [U] assumption: the lock lasts 24 h of the meter's own running time "
        "(a monotonic count no clock setting moves)",
        "how long a lock lasts after too many wrong passwords or keys, and the window in which "
        "wrong tries are counted",
        minimum=0.001,
        maximum=8760.0,
    ),
    # --- billing ---------------------------------------------------------------------------------
    _k(
        "billing.settlement_day",
        1,
        "-",
        "reference/dlt645.md 'Field rules' (no broadcast time near a settlement instant); "
        "[U] assumption: the usual default, the 1st day of the month",
        "day of the month of the settlement instant",
        minimum=1,
        maximum=28,
    ),
    _k(
        "billing.settlement_hour",
        0,
        "h",
        "reference/dlt645.md 'Field rules'; [U] assumption: the usual default, 00:00",
        "hour of the settlement instant",
        minimum=0,
        maximum=23,
    ),
    # --- ambient -----------------------------------------------------------------------------
    _k(
        "ambient.temperature_c",
        20.0,
        "°C",
        "[U] assumption: the 20 °C at which the Eaton PB row states C, ESR and leakage, so the "
        "defaults are nominal",
        "the temperature of the scenario",
        minimum=-40.0,
        maximum=85.0,
    ),
)
