"""The kernel: fast-forward changes nothing a user can see, and the physics between events is the
closed form."""

from __future__ import annotations

import math

from meterseal.firmware.image import decode_image
from meterseal.hardware.parts import effective_loads, effective_supercap
from meterseal.hardware.rc import steady_and_tau, voltage_after
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.verify.matrix import START, d


def _polling_scenario() -> Scenario:
    return Scenario(
        name="ff vs stepping",
        start=START,
        duration_us=d("3h"),
        seed=3,
        overrides=(("mcu.wake_mode", "polling"),),
        outages=(Outage(d("10min"), d("2h")),),
        cover=(CoverOp(d("5min"), d("6min")), CoverOp(d("40min 0.31s"), d("40min 2.5s")),
               CoverOp(d("1h"), d("1h 10min"))),
    )


def test_fast_forward_gives_the_same_records_and_voltage_as_stepping_every_tick() -> None:
    sc = _polling_scenario()
    ff = Kernel(sc, trace=True).run()
    step = Kernel(sc, trace=True, fast_forward=False).run()
    assert ff.ticks_skipped > 1000
    assert step.ticks_skipped == 0
    assert step.ticks_fired > 100 * ff.ticks_fired
    assert decode_image(ff.final_image).cover == decode_image(step.final_image).cover
    assert ff.writes == step.writes
    # Skipped polls are charged as their average current: same end-of-outage voltage.
    end = sc.outages[0].end_us
    v_ff = next(r[1] for r in ff.trace if r[0] >= end)
    v_step = next(r[1] for r in step.trace if r[0] >= end)
    assert math.isclose(v_ff, v_step, rel_tol=1e-5)


def test_holdup_voltage_follows_the_closed_form_between_events() -> None:
    sc = Scenario(name="quiet outage", start=START, duration_us=d("2d"),
                  outages=(Outage(d("1h"), d("1d")),), profile_name="supercap-watch")
    log = Kernel(sc).run()
    p = sc.profile
    cap = effective_supercap(p)
    loads = effective_loads(p)
    # Interrupt wake, cover on: sleep current and the static pull-up; the RTC is on the battery.
    i = loads.sleep_a + loads.pullup_a
    v_inf, tau = steady_and_tau(cap.capacitance_f, cap.leakage_ohm, i)
    bulk_end = d("1h") + round(float(p["supply.bulk_holdup_s"]) * 1e6)
    # The power-down record is written once the outage has lasted the power-down debounce (1 s);
    # from the end of that write nothing happens until mains returns.
    start = [r for r in log.trace if r[0] < d("1d 1h")][-1]
    assert d("1h") + 1_000_000 < start[0] < d("1h") + 2_000_000 and start[0] > bulk_end
    assert start[4] == "HOLDUP" and math.isclose(start[3], i, rel_tol=1e-9)
    restore = next(r for r in log.trace if r[0] == d("1d 1h"))
    expected = voltage_after(start[1], (restore[0] - start[0]) / 1e6, v_inf, tau)
    assert math.isclose(restore[1], expected, rel_tol=1e-12)
    assert start[1] - restore[1] > 0.3  # a day of drain is visible


def test_trace_shows_charging_as_negative_load_on_mains() -> None:
    sc = Scenario(name="recharge", start=START, duration_us=d("2d"),
                  outages=(Outage(d("1h"), d("1d")),), cover=(CoverOp(d("1d 5h"), d("1d 6h")),))
    log = Kernel(sc).run()
    after = [r for r in log.trace if r[0] > d("1d 1h 1s")]
    assert after and all(r[3] < 0 for r in after)
    assert after[-1][1] > after[0][1]  # the supercap recharges


def test_an_outage_soon_after_another_finds_the_supercap_partly_charged() -> None:
    sc = Scenario(name="two outages", start=START, duration_us=d("3d"),
                  outages=(Outage(d("1h"), d("20h")), Outage(d("22h"), d("10h"))))
    log = Kernel(sc, trace=False).run()
    first, second = log.outages
    assert second.supercap_v < first.supercap_v - 0.2
