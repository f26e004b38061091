"""The board's physics and parts: supply, supercapacitor, battery, loads, cover switch, NVM, RTC.

Built-in profiles in profile.py, the parts catalogue in catalog.py, closed-form supercapacitor
math in rc.py (and rc2.py with a redistribution branch); no firmware or kernel."""
