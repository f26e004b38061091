"""The kernel's event kinds (in the order they are handled when they share an instant), and the
part of the NVM the kernel snapshots after each write."""

from meterseal.firmware.layout import FREE_BASE_PAGE, PAGE_SIZE

(E_MAINS_ON, E_MAINS_OFF, E_PIN, E_COVER_IRQ, E_PF_TRIP, E_BULK_END, E_CUT, E_BOOT, E_NVM_DONE,
 E_RADIO_DONE, E_WAKE_END, E_TIMER, E_CROSS, E_END) = range(14)

# Every journal page lies below the free area: what a snapshot of the NVM needs to hold.
USED_NVM_BYTES = FREE_BASE_PAGE * PAGE_SIZE

# E_PIN's argument: the switch's new level (0, 1), or the start / end of a false excursion.
GLITCH_ON = 2
GLITCH_OFF = 3
# ...or the terminal cover's switch's new level, TERMINAL_PIN + 0 or + 1.
TERMINAL_PIN = 4
