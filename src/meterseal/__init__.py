"""meterseal: a digital twin of a smart meter that records every cover opening, also through outages.

This file must stay importable under MicroPython (the firmware package lives below it)."""
