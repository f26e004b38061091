"""The diode-OR node the firmware estimates a page write with, under MicroPython too."""

from meterseal.firmware.power_path import diode_or_node_v


def _close(a, b):
    return abs(a - b) < 1e-9


def test_diode_or_node_in_each_regime():
    # Battery 3.0 V behind 50 ohm, supercapacitor behind 100 ohm, 2 mA.
    assert _close(diode_or_node_v(3.5, 3.0, 2e-3, 50.0, 100.0), 3.3)  # the capacitor alone
    assert _close(diode_or_node_v(2.8, 3.0, 2e-3, 50.0, 100.0), 2.9)  # the battery alone
    ic = (3.05 - 3.0 + 2e-3 * 50.0) / 150.0  # both conduct
    assert _close(diode_or_node_v(3.05, 3.0, 2e-3, 50.0, 100.0), 3.05 - ic * 100.0)
