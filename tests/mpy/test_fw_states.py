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
