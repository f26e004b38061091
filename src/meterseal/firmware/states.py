"""The recorder's whole state: the power states, its secondary states, and where each handler acts.

Rules of this module:
- every change of power state in the firmware goes through `next_state`, and every change of
  watch phase through `next_watch`; a pair missing from a table is a firmware bug and raises, so
  an unforeseen path cannot go unnoticed;
- the recorder never compares power states: what a state allows (does the MCU run, is every write
  budgeted, may a report go out, does a handler act) is read from the tables here;
- the tables do not know why an event happened (a comparator, a timer, the simulator): the
  recorder decides when to raise an event, this module only says where it leads.

Power states (TRANSITIONS). DORMANT is the state in which no firmware runs (the MCU is off). The
firmware never observes it from the inside, but it enters it by shutting itself down, and leaves
it by booting; the board (or the simulator) reports brown-outs into it.

Secondary states, kept by the recorder beside its power state; each holds only in the power
states named, and is at rest (WATCH_FULL, False, None) everywhere else:
- watch phase (`watch`; HOLDUP, and DORMANT after the watch shut the MCU down): WATCH_BATTERY
  while the clock battery carries the watch above its undervoltage level (battery designs; the
  supercapacitor is kept for the report, and switched in for a write the battery's pulse cannot
  carry); WATCH_BATTERY_LOW when the battery goes on below it because nothing can take over,
  down to the level a last write needs; WATCH_FULL while the supercapacitor carries the watch
  and a page write is affordable; WATCH_PENDING below the write floor when retained RAM outlives
  the MCU (records wait there; on the battery too, below its last write's level); WATCH_ENDED
  once the watch has stopped (no wake-ups, no new
  records). Arming the watch starts WATCH_BATTERY or WATCH_FULL from any phase; mains' return
  rests it at WATCH_FULL (WATCH_TRANSITIONS).
- reconciling (`reconciling`; RESTORE, and POWER_FAIL or MAINS when power came and went while it
  lasted): the debouncer is settling the cover after a time the meter did not watch it (a
  power-up, or a watch whose retained RAM filled). A change it settles on is reconciled (a
  bounded record from the last instant known), never seen; the power-fail path waits for it to
  finish before arming the watch. Set at boot and when mains returns to a frozen watch; cleared
  when the debouncer is stable.
- frozen-retained (`frozen`; HOLDUP, DORMANT after the shut-down): retained RAM is full, so
  changes seen from then on cannot be kept; it holds (cover level, known_ms) as they were when
  it filled, which the state page and retained RAM claim instead of the cover's present state.
  Set on the first change that does not fit; cleared when mains returns, which then reconciles
  from it.
- shutdown-after-write (`shutdown_after_write`; HOLDUP with WATCH_ENDED where retained RAM dies
  with the MCU, and DORMANT after the shut-down): the watch has ended and its last writes
  (pending records, the state page) are in flight; the MCU shuts itself down when the queue
  drains. Cleared when mains returns first.
"""

from meterseal.firmware.compat import const

MAINS = const(0)
POWER_FAIL = const(1)
HOLDUP = const(2)
DORMANT = const(3)
RESTORE = const(4)

STATE_NAMES = ("MAINS", "POWER_FAIL", "HOLDUP", "DORMANT", "RESTORE")

# Events that move the machine.
EV_POWER_FAIL = const(0)  # the DC rail fell below the power-fail comparator
EV_SAVED = const(1)  # volatile state is in NVM; the watch is armed
EV_POWER_GOOD = const(2)  # mains is back while the MCU is still alive
EV_WATCH_END = const(3)  # the firmware ended its watch to keep its last write affordable
EV_BROWNOUT = const(4)  # the MCU's supply crossed the brown-out level
EV_BOOT_MAINS = const(5)  # the MCU powered up (or reset) with mains present
EV_BOOT_BACKUP = const(6)  # the MCU reset while only the backup supply is there
EV_RECONCILED = const(7)  # journal recovered, pending committed, cover reconciled
EV_NO_MAINS = const(8)  # after recovery on backup: go back to watching

EVENT_NAMES = (
    "power_fail",
    "saved",
    "power_good",
    "watch_end",
    "brownout",
    "boot_mains",
    "boot_backup",
    "reconciled",
    "no_mains",
)

TRANSITIONS = {
    (MAINS, EV_POWER_FAIL): POWER_FAIL,
    (MAINS, EV_BOOT_MAINS): RESTORE,  # a reset on mains (a power cut) reboots
    (MAINS, EV_BROWNOUT): DORMANT,  # a power cut with no supply left
    (POWER_FAIL, EV_SAVED): HOLDUP,
    (POWER_FAIL, EV_POWER_GOOD): RESTORE,
    (POWER_FAIL, EV_BROWNOUT): DORMANT,
    (POWER_FAIL, EV_BOOT_BACKUP): RESTORE,
    (POWER_FAIL, EV_BOOT_MAINS): RESTORE,
    (HOLDUP, EV_POWER_GOOD): RESTORE,
    (HOLDUP, EV_WATCH_END): DORMANT,
    (HOLDUP, EV_BROWNOUT): DORMANT,
    (HOLDUP, EV_BOOT_BACKUP): RESTORE,
    (HOLDUP, EV_BOOT_MAINS): RESTORE,
    (DORMANT, EV_BOOT_MAINS): RESTORE,
    (DORMANT, EV_BOOT_BACKUP): RESTORE,
    (RESTORE, EV_RECONCILED): MAINS,
    (RESTORE, EV_NO_MAINS): HOLDUP,
    (RESTORE, EV_POWER_FAIL): POWER_FAIL,  # mains fell again while restoring
    (RESTORE, EV_BROWNOUT): DORMANT,
    (RESTORE, EV_BOOT_MAINS): RESTORE,
    (RESTORE, EV_BOOT_BACKUP): RESTORE,
}

# What each power state allows. The recorder asks these instead of comparing states.
RUNS_IN = (MAINS, POWER_FAIL, HOLDUP, RESTORE)  # the MCU executes: timers act, writes are issued
# On the backup supply: a page write starts only if the budget covers it or it may be tried
# (else the record waits in retained RAM), a report only if the watch keeps its reserve; the
# watch lives here. A write that ends inside the DC rail's hold-up after the power-fail trip
# costs the backup nothing and is not budgeted (writequeue._write_budgeted).
BUDGETED_IN = (HOLDUP,)
REPORTS_IN = (MAINS, HOLDUP)  # a radio report may go out (within the budget where budgeted)
FREEZES_IN = (MAINS,)  # the daily freeze runs (a midnight missed elsewhere is made up later)

# The board's handlers that act only in some power states; called in any other, they do nothing
# (the event is stale, or the path that owns it is already under way). boot acts in every state
# (it is the way out of each), on_nvm_done and on_radio_done wherever what they finish was begun.
H_TIMER = const(0)
H_COVER_EDGE = const(1)
H_POWER_FAIL = const(2)
H_POWER_GOOD = const(3)
H_SUPPLY_ALARM = const(4)

HANDLER_NAMES = ("on_timer", "on_cover_edge", "on_power_fail", "on_power_good", "on_supply_alarm")

ACTS_IN = (
    RUNS_IN,  # on_timer
    BUDGETED_IN,  # on_cover_edge: only the watch arms the wake-up (and only while watching)
    (MAINS, RESTORE),  # on_power_fail: exactly the states with an EV_POWER_FAIL row
    (POWER_FAIL, HOLDUP),  # on_power_good: exactly the states with an EV_POWER_GOOD row
    BUDGETED_IN,  # on_supply_alarm: the comparator is armed only by the watch
)

# Watch phases (meaningful in HOLDUP; see the rules at the top).
WATCH_FULL = const(0)
WATCH_PENDING = const(1)
WATCH_ENDED = const(2)
WATCH_BATTERY = const(3)
WATCH_BATTERY_LOW = const(4)

WATCH_NAMES = ("FULL", "PENDING", "ENDED", "BATTERY", "BATTERY_LOW")
# Cover edges wake the MCU and changes are recorded.
WATCHING = (WATCH_FULL, WATCH_PENDING, WATCH_BATTERY, WATCH_BATTERY_LOW)
ON_BATTERY = (WATCH_BATTERY, WATCH_BATTERY_LOW)  # the MCU runs on the clock battery

# Events of the watch phase.
WEV_ARM = const(0)  # the watch is armed on the supercapacitor (entering HOLDUP)
WEV_MAINS = const(1)  # mains is back
WEV_ALARM_KEPT = const(2)  # the supply alarm, where retained RAM outlives the MCU
WEV_ALARM_LOST = const(3)  # the supply alarm, where retained RAM dies with the MCU
WEV_ARM_BATTERY = const(4)  # the watch is armed on the battery
WEV_TO_SUPERCAP = const(5)  # the battery reached undervoltage; the supercapacitor takes over
WEV_BATTERY_LOW = const(6)  # ... it cannot: the battery goes on to its last write

WATCH_EVENT_NAMES = ("arm", "mains", "alarm_kept", "alarm_lost", "arm_battery", "to_supercap",
                     "battery_low")

_PHASES = (WATCH_FULL, WATCH_PENDING, WATCH_ENDED, WATCH_BATTERY, WATCH_BATTERY_LOW)

WATCH_TRANSITIONS = {
    # The battery's part of the watch ends.
    (WATCH_BATTERY, WEV_TO_SUPERCAP): WATCH_FULL,
    (WATCH_BATTERY, WEV_BATTERY_LOW): WATCH_BATTERY_LOW,
    # Past its last write, the battery watches on with records pending where retained RAM
    # outlives the MCU.
    (WATCH_BATTERY, WEV_ALARM_KEPT): WATCH_PENDING,
    (WATCH_BATTERY, WEV_ALARM_LOST): WATCH_ENDED,
    (WATCH_BATTERY_LOW, WEV_ALARM_KEPT): WATCH_PENDING,
    (WATCH_BATTERY_LOW, WEV_ALARM_LOST): WATCH_ENDED,
    # Below the write floor: keep records in retained RAM, watch on to the retained floor.
    (WATCH_FULL, WEV_ALARM_KEPT): WATCH_PENDING,
    (WATCH_PENDING, WEV_ALARM_KEPT): WATCH_ENDED,
    # ... unless the battery under retained RAM gave out meanwhile: what it held dies with it.
    (WATCH_PENDING, WEV_ALARM_LOST): WATCH_ENDED,
    # At the watch floor, with what a last write needs still in hand: stop.
    (WATCH_FULL, WEV_ALARM_LOST): WATCH_ENDED,
}
# Arming and mains' return, from any phase.
for _p in _PHASES:
    WATCH_TRANSITIONS[(_p, WEV_ARM)] = WATCH_FULL
    WATCH_TRANSITIONS[(_p, WEV_ARM_BATTERY)] = WATCH_BATTERY
    WATCH_TRANSITIONS[(_p, WEV_MAINS)] = WATCH_FULL


class TransitionError(Exception):
    pass


def next_state(state, event):
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionError(
            "no transition from " + STATE_NAMES[state] + " on " + EVENT_NAMES[event]
        ) from None


def has_transition(state, event):
    """True where the table has a row for (state, event): next_state would not raise."""
    return (state, event) in TRANSITIONS


def acts(handler, state):
    """True where the handler H_* acts in this power state."""
    return state in ACTS_IN[handler]


def next_watch(phase, event):
    try:
        return WATCH_TRANSITIONS[(phase, event)]
    except KeyError:
        raise TransitionError(
            "no watch transition from " + WATCH_NAMES[phase] + " on " + WATCH_EVENT_NAMES[event]
        ) from None
