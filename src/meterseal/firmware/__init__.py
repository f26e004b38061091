"""The recorder firmware: cover detection, power states, energy budget, journal, reconciliation.

Runs unchanged under MicroPython and CPython; it talks to the board only through hal.py's ports."""
