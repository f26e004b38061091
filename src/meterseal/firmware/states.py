"""The meter's power states and every transition between them, as a table.

Rules of this module:
- every change of power state in the firmware goes through `next_state`; a pair missing from the
  table is a firmware bug and raises, so an unforeseen path cannot go unnoticed;
- the table does not know why an event happened (a comparator, a timer, the simulator): the
  recorder decides when to raise an event, this module only says where it leads.

DORMANT is the state in which no firmware runs (the MCU is off). The firmware never observes it
from the inside, but it enters it by shutting itself down, and leaves it by booting; the board
(or the simulator) reports brown-outs into it.
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


class TransitionError(Exception):
    pass


def next_state(state, event):
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionError(
            "no transition from " + STATE_NAMES[state] + " on " + EVENT_NAMES[event]
        ) from None
