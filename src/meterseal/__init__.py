"""meterseal: a digital twin of a smart meter that records every cover opening, even in outages.

This file must stay importable under MicroPython (the firmware package lives below it)."""
