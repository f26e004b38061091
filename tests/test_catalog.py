"""The parts catalogue, the keys that select its rows, and what the typed board makes of them.

Layers: registry defaults < the selected row < the scenario's own keys. The defaults are today's
board (``custom`` everywhere), so nothing changes until a scenario picks a part.
"""

from __future__ import annotations

import itertools
import math

import pytest

from meterseal.hardware import catalog
from meterseal.hardware.board import BoardParams, Topology
from meterseal.hardware.parts import cold_ratio
from meterseal.hardware.profile import ProfileError, list_keys, resolve_profile
from meterseal.hardware.redistribution_fit import apparent_leakage_a

REGISTRY = {k.name: k for k in list_keys()}
SUPERCAP_KEYS = ("supercap.capacitance_f", "supercap.esr_ohm", "supercap.leakage_ohm",
                 "supercap.rated_v", "supercap.min_temperature_c", "supercap.max_temperature_c",
                 "supercap.redistribution_f", "supercap.redistribution_ohm")


def test_the_field_board_is_the_default():
    """battery-first, catalogue parts: the seed's design as meters are built."""
    p = resolve_profile({})
    assert p["supply.topology"] == "battery-first"
    assert (p["supercap.part"], p["nvm.part"], p["battery.part"], p["radio.module"]) == (
        "eaton-kw-1f", "24lc256", "er14250", "rf-micropower")
    assert p["supercap.esr_ohm"] == 30.0 and p["supercap.redistribution_f"] > 0
    assert p["supply.quiescent_current_a"] == 3e-6
    assert BoardParams.from_profile(p).warnings == ()
    for key in p:
        assert p.source(key), key  # every default names where it comes from


def test_the_supercap_watch_profile_is_the_first_board():
    p = resolve_profile({}, "supercap-watch")
    for selector in catalog.SELECTORS:
        assert p[selector] == "custom"
    assert p["battery.state"] == "healthy"
    for key in ("supercap.redistribution_f", "battery.initial_drawn_fraction",
                "battery.self_discharge_per_year", "battery.passivation_ohm",
                "supply.quiescent_current_a", "nvm.standby_current_a",
                "mcu.ir_receiver_current_a", "radio.retries", "nvm.min_voltage_v"):
        assert p[key] == 0, key
    assert (p["radio.profile"], p["radio.own_storage"]) == ("", False)
    b = BoardParams.from_profile(p)
    assert b.warnings == ()
    assert b.radio_phases == ((0.05, 200_000),) and b.radio_us == 200_000
    assert b.loads.radio_a == 0.05 and b.loads.standby_a == 0.0
    assert (b.radio_retries, b.radio_own_storage, b.radio_module) == (0, False, "custom")
    assert b.supercap.redistribution_f == 0.0


def test_the_pb_row_is_todays_supercapacitor():
    row = catalog.find("supercap.part", "eaton-pb-1f")
    assert row is not None
    assert row.value("supercap.capacitance_f") == 1.0
    assert row.value("supercap.esr_ohm") == 0.5
    assert row.value("supercap.leakage_ohm") == 420_000.0
    assert row.value("supercap.rated_v") == 5.0
    assert (row.value("supercap.min_temperature_c"), row.value("supercap.max_temperature_c")) \
        == (-25.0, 70.0)
    assert row.value("supercap.redistribution_f") == 0.0
    today = resolve_profile({}, "supercap-watch")
    pb = resolve_profile({"supercap.part": "eaton-pb-1f"}, "supercap-watch")
    assert [pb[k] for k in SUPERCAP_KEYS] == [today[k] for k in SUPERCAP_KEYS]
    # So the board is the same in every field but the part's name, at any temperature.
    for t in (-25.0, 20.0, 70.0):
        a = BoardParams.from_profile(resolve_profile({"ambient.temperature_c": t},
                                                     "supercap-watch"))
        b = BoardParams.from_profile(resolve_profile({"supercap.part": "eaton-pb-1f",
                                                      "ambient.temperature_c": t},
                                                     "supercap-watch"))
        assert b.supercap_part == "eaton-pb-1f" and b.supercap == a.supercap
        assert {f: getattr(a, f) for f in a.__dataclass_fields__ if f != "supercap_part"} == \
            {f: getattr(b, f) for f in b.__dataclass_fields__ if f != "supercap_part"}


@pytest.mark.parametrize("row", catalog.PARTS, ids=lambda r: r.name)
def test_a_selected_row_sets_its_values_with_their_sources(row):
    p = resolve_profile({row.selects: row.name})
    for v in row.values:
        assert p[v.key] == REGISTRY[v.key].check(v.value), v.key
        assert p.source(v.key) == f"{row.name}: {v.source}"
        assert v.source.strip(), (row.name, v.key)
        if v.source.startswith(("[U]", "[D]")):
            assert len(v.source) > 30, (row.name, v.key)
    BoardParams.from_profile(p)  # every row makes a board


def test_an_explicit_key_overrides_the_part():
    p = resolve_profile({"supercap.part": "eaton-kw-1f", "supercap.esr_ohm": 50.0,
                         "radio.module": "rf-micropower", "radio.retries": 0})
    assert p["supercap.esr_ohm"] == 50.0
    assert p.source("supercap.esr_ohm") == REGISTRY["supercap.esr_ohm"].source
    assert p["supercap.rated_v"] == 5.5  # the rest of the row stays
    assert p["radio.retries"] == 0 and p["radio.burst_current_a"] == 0.0328


def test_an_unknown_part_is_one_line_naming_the_choices():
    for selector in (*catalog.SELECTORS, "battery.state"):
        with pytest.raises(ProfileError) as info:
            resolve_profile({selector: "no-such-part"})
        msg = str(info.value)
        assert "\n" not in msg and selector in msg and "'no-such-part'" in msg
        expected = (catalog.choices(selector) if selector != "battery.state"
                    else catalog.BATTERY_STATES)
        for name in expected:
            assert repr(name) in msg, (selector, name)


def test_every_selector_offers_custom_and_its_rows():
    for selector in catalog.SELECTORS:
        assert REGISTRY[selector].choices == catalog.choices(selector)
        assert catalog.choices(selector)[0] == "custom"
        assert catalog.find(selector, "custom") is None
    names = [(r.selects, r.name) for r in catalog.PARTS]
    assert len(names) == len(set(names))
    assert {r.name for r in catalog.parts_for("supercap.part")} == {
        "eaton-pb-1f", "eaton-kw-1f", "eaton-kr-0.22f", "generic-h-1f"}
    assert {r.name for r in catalog.parts_for("radio.module")} == {
        "none", "rf-micropower", "nb-iot", "hplc-own-storage"}
    with pytest.raises(KeyError, match="no part"):
        catalog.find("nvm.part", "at24c02")


@pytest.mark.parametrize("name", ["eaton-kw-1f", "eaton-kr-0.22f", "generic-h-1f"])
def test_coin_cells_carry_a_branch_fitted_to_their_figures(name):
    row = catalog.find("supercap.part", name)
    assert row is not None and len(row.figures) == 2
    c, esr = row.value("supercap.capacitance_f"), row.value("supercap.esr_ohm")
    r_leak, cd, rd = (row.value("supercap.leakage_ohm"), row.value("supercap.redistribution_f"),
                      row.value("supercap.redistribution_ohm"))
    assert cd > 0.0 and rd * cd == pytest.approx(row.figures[0].time_s, rel=1e-9)
    for fig in row.figures:
        assert apparent_leakage_a(c, esr, r_leak, cd, rd, fig) == pytest.approx(fig.current_a,
                                                                               rel=1e-6)
        assert fig.kind in ("maximum", "nominal", "typical") and fig.source


def test_the_branch_follows_temperature_tolerance_and_ageing():
    base = {"supercap.part": "eaton-kw-1f"}
    nominal = BoardParams.from_profile(resolve_profile(base)).supercap
    row = catalog.find("supercap.part", "eaton-kw-1f")
    assert row is not None
    assert nominal.redistribution_f == pytest.approx(row.value("supercap.redistribution_f"))
    cold = BoardParams.from_profile(resolve_profile(
        {**base, "ambient.temperature_c": -25.0, "supercap.tolerance": -0.2,
         "supercap.ageing": 0.3, "supercap.esr_ageing_factor": 2.0})).supercap
    p = resolve_profile(base)
    c_factor = 0.8 * 0.7 * cold_ratio(float(p["supercap.c_ratio_cold"]), -25.0)
    r_factor = 2.0 * cold_ratio(float(p["supercap.esr_ratio_cold"]), -25.0)
    assert cold.redistribution_f == pytest.approx(nominal.redistribution_f * c_factor)
    assert cold.redistribution_ohm == pytest.approx(nominal.redistribution_ohm * r_factor)
    assert cold.capacitance_f == pytest.approx(nominal.capacitance_f * c_factor)


def test_a_part_outside_its_rating_warns():
    b = BoardParams.from_profile(resolve_profile({"supercap.part": "eaton-pb-1f",
                                                  "ambient.temperature_c": -40.0}))
    assert b.warnings == ("supercap eaton-pb-1f at −40 °C is outside its rated −25…+70 °C",)
    # An EEPROM that writes from 2.5 V: the firmware budgets its writes above that, no warning.
    assert BoardParams.from_profile(resolve_profile({"nvm.part": "24lc256"})).warnings == ()
    hot = BoardParams.from_profile(resolve_profile({"supercap.part": "eaton-kr-0.22f",
                                                    "ambient.temperature_c": 85.0}))
    assert hot.warnings == ("supercap eaton-kr-0.22f at 85 °C is outside its rated −25…+70 °C",)
    kw = BoardParams.from_profile(resolve_profile({"supercap.part": "eaton-kw-1f",
                                                   "ambient.temperature_c": -40.0}))
    assert kw.warnings == ()  # rated −40…+85 °C
    fram = BoardParams.from_profile(resolve_profile({"nvm.part": "fm24c256"}))
    assert fram.warnings == ("nvm fm24c256 writes only at or above 4.5 V: no write on the "
                             "battery (3.6 V)",)


def test_nvm_rows_and_the_fram_bus_time():
    eeprom = BoardParams.from_profile(resolve_profile({"nvm.part": "24lc256"}))
    assert (eeprom.nvm_write_us, eeprom.loads.nvm_write_a) == (5000, 0.003)
    assert eeprom.loads.nvm_standby_a == 1e-6 and eeprom.nvm_min_v == 2.5
    fram = BoardParams.from_profile(resolve_profile({"nvm.part": "fm24c256"}))
    # 67 bytes of 9 clocks plus START and STOP = 605 clocks at 400 kHz = 1512.5 µs.
    assert fram.nvm_write_us == round(605 / 400e3 * 1e6)
    assert fram.loads.nvm_write_a == 400e-6 and fram.loads.nvm_standby_a == 100e-6


def test_radio_modules_give_phases_retries_and_storage():
    nb = BoardParams.from_profile(resolve_profile({"radio.module": "nb-iot"}))
    assert nb.radio_phases == ((0.06, 2_000_000), (0.22, 500_000), (0.06, 1_000_000),
                               (0.01, 5_000_000))
    assert nb.radio_us == 8_500_000
    charge = 0.06 * 2 + 0.22 * 0.5 + 0.06 * 1 + 0.01 * 5
    assert nb.loads.radio_a * nb.radio_us * 1e-6 == pytest.approx(charge)
    assert (nb.radio_retries, nb.radio_retry_gap_us) == (2, 1_000_000)
    rf = BoardParams.from_profile(resolve_profile({"radio.module": "rf-micropower"}))
    assert rf.radio_phases == ((0.0328, 16_000),) and rf.loads.radio_a == 0.0328
    hplc = BoardParams.from_profile(resolve_profile({"radio.module": "hplc-own-storage"}))
    assert hplc.radio_own_storage and hplc.radio_present and hplc.loads.radio_a == 0.0
    off = BoardParams.from_profile(resolve_profile({"radio.module": "none"}))
    assert not off.radio_present
    # A profile typed in a scenario, with both spellings of the times sign.
    own = BoardParams.from_profile(resolve_profile({"radio.profile": "0.1x0.5, 0.02 × 1"}))
    assert own.radio_phases == ((0.1, 500_000), (0.02, 1_000_000))
    for text, needle in (("0.1", "current_a×duration_s"), ("0.1x0", "duration > 0 s"),
                         ("-1x1", "current >= 0 A"), ("ax1", "not one")):
        with pytest.raises(ProfileError, match=r"radio\.profile") as info:
            resolve_profile({"radio.profile": text})
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_standby_loads_sum_into_loads():
    b = BoardParams.from_profile(resolve_profile({
        "supply.quiescent_current_a": 3e-6, "nvm.standby_current_a": 6e-6,
        "mcu.ir_receiver_current_a": 0.35e-3}))
    assert (b.loads.quiescent_a, b.loads.nvm_standby_a, b.loads.ir_receiver_a) == (
        3e-6, 6e-6, 0.35e-3)
    assert b.loads.standby_a == pytest.approx(3e-6 + 6e-6 + 0.35e-3)


def test_new_topologies_are_accepted():
    for name in ("battery-first", "battery-only"):
        assert BoardParams.from_profile(resolve_profile({"supply.topology": name})).topology \
            == Topology(name)


def test_branch_keys_must_make_a_branch():
    with pytest.raises(ProfileError, match="redistribution_ohm"):
        resolve_profile({"supercap.redistribution_f": 0.4}, "supercap-watch")
    with pytest.raises(ProfileError, match=r"below 'supercap\.max_temperature_c'"):
        resolve_profile({"supercap.min_temperature_c": 80.0}, "supercap-watch")


def test_a_resolved_profile_resolves_again_from_its_own_keys():
    # Sizing and `run --json` hand a whole resolved profile back as a scenario's keys.
    options = [catalog.choices(s) for s in catalog.SELECTORS]
    for combo in itertools.product(*options):
        for state in ("healthy", "weak", "undervoltage", "absent"):
            keys = dict(zip(catalog.SELECTORS, combo, strict=True))
            first = resolve_profile({**keys, "battery.state": state})
            again = resolve_profile(first.flat())
            assert again.entries == first.entries, (combo, state)
            assert not math.isnan(float(first["battery.initial_drawn_fraction"]))
