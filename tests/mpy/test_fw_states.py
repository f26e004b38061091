"""The power-state machine as a table: every row leads where DESIGN.md says, and nothing else."""

from meterseal.firmware import states as st


def test_table_rows():
    expect = [
        (st.MAINS, st.EV_POWER_FAIL, st.POWER_FAIL),
        (st.POWER_FAIL, st.EV_SAVED, st.HOLDUP),
        (st.POWER_FAIL, st.EV_POWER_GOOD, st.RESTORE),
        (st.HOLDUP, st.EV_POWER_GOOD, st.RESTORE),
        (st.HOLDUP, st.EV_WATCH_END, st.DORMANT),
        (st.HOLDUP, st.EV_BROWNOUT, st.DORMANT),
        (st.DORMANT, st.EV_BOOT_MAINS, st.RESTORE),
        (st.DORMANT, st.EV_BOOT_BACKUP, st.RESTORE),
        (st.RESTORE, st.EV_RECONCILED, st.MAINS),
        (st.RESTORE, st.EV_NO_MAINS, st.HOLDUP),
    ]
    for state, event, to in expect:
        assert st.next_state(state, event) == to


def test_every_state_is_reachable_and_can_reach_mains():
    reach = {st.DORMANT}
    changed = True
    while changed:
        changed = False
        for (a, _e), b in st.TRANSITIONS.items():
            if a in reach and b not in reach:
                reach.add(b)
                changed = True
    assert reach == {st.MAINS, st.POWER_FAIL, st.HOLDUP, st.DORMANT, st.RESTORE}
    for s in reach:
        seen = {s}
        todo = [s]
        while todo:
            x = todo.pop()
            for (a, _e), b in st.TRANSITIONS.items():
                if a == x and b not in seen:
                    seen.add(b)
                    todo.append(b)
        assert st.MAINS in seen or s == st.MAINS


def test_missing_rows_raise():
    for state in range(5):
        for event in range(len(st.EVENT_NAMES)):
            if (state, event) in st.TRANSITIONS:
                continue
            try:
                st.next_state(state, event)
            except st.TransitionError:
                continue
            raise AssertionError("no error for a missing row")


def test_mains_never_jumps_straight_to_holdup():
    # Saving state comes first: the only way into HOLDUP is through POWER_FAIL or RESTORE.
    for (a, _e), b in st.TRANSITIONS.items():
        if b == st.HOLDUP:
            assert a in (st.POWER_FAIL, st.RESTORE)


def test_handlers_that_raise_an_event_act_exactly_where_the_table_has_its_row():
    pairs = ((st.H_POWER_FAIL, st.EV_POWER_FAIL), (st.H_POWER_GOOD, st.EV_POWER_GOOD))
    for handler, event in pairs:
        rows = [a for (a, e) in st.TRANSITIONS if e == event]
        assert sorted(st.ACTS_IN[handler]) == sorted(rows), st.HANDLER_NAMES[handler]
    for state in range(5):
        assert st.acts(st.H_POWER_FAIL, state) == st.has_transition(state, st.EV_POWER_FAIL)


def test_what_each_state_allows():
    assert st.DORMANT not in st.RUNS_IN and len(st.RUNS_IN) == 4
    for handler in range(len(st.HANDLER_NAMES)):
        for state in st.ACTS_IN[handler]:
            assert state in st.RUNS_IN  # nothing acts while the MCU is off
    # Only the watch is budgeted, and only the watch takes cover wake-ups and supply alarms.
    assert st.BUDGETED_IN == (st.HOLDUP,)
    assert st.ACTS_IN[st.H_COVER_EDGE] == st.ACTS_IN[st.H_SUPPLY_ALARM] == st.BUDGETED_IN
    for state in st.BUDGETED_IN:
        assert state in st.REPORTS_IN


def test_watch_phases():
    phases = (st.WATCH_FULL, st.WATCH_PENDING, st.WATCH_ENDED, st.WATCH_BATTERY,
              st.WATCH_BATTERY_LOW)
    for phase in phases:
        # Arming the watch and mains' return start afresh from anywhere.
        assert st.next_watch(phase, st.WEV_ARM) == st.WATCH_FULL
        assert st.next_watch(phase, st.WEV_ARM_BATTERY) == st.WATCH_BATTERY
        assert st.next_watch(phase, st.WEV_MAINS) == st.WATCH_FULL
    full = st.WATCH_FULL
    assert st.next_watch(full, st.WEV_ALARM_KEPT) == st.WATCH_PENDING
    assert st.next_watch(full, st.WEV_ALARM_LOST) == st.WATCH_ENDED
    assert st.next_watch(st.WATCH_PENDING, st.WEV_ALARM_KEPT) == st.WATCH_ENDED
    assert st.WATCH_ENDED not in st.WATCHING and len(st.WATCHING) == 4
    # The battery's part of the watch: over to the supercapacitor, or on to its last write.
    battery = st.WATCH_BATTERY
    assert st.next_watch(battery, st.WEV_TO_SUPERCAP) == st.WATCH_FULL
    assert st.next_watch(battery, st.WEV_BATTERY_LOW) == st.WATCH_BATTERY_LOW
    assert st.next_watch(st.WATCH_BATTERY_LOW, st.WEV_ALARM_LOST) == st.WATCH_ENDED
    # A battery that gave out under retained RAM while records were pending ends the watch.
    assert st.next_watch(st.WATCH_PENDING, st.WEV_ALARM_LOST) == st.WATCH_ENDED
    # An ended watch has no alarm armed; the supercapacitor has no battery to hand over from.
    for phase, event in (
        (st.WATCH_ENDED, st.WEV_ALARM_KEPT),
        (st.WATCH_ENDED, st.WEV_ALARM_LOST),
        (st.WATCH_FULL, st.WEV_TO_SUPERCAP),
        (st.WATCH_BATTERY_LOW, st.WEV_TO_SUPERCAP),
    ):
        try:
            st.next_watch(phase, event)
        except st.TransitionError:
            continue
        raise AssertionError("no error for a missing watch row")
