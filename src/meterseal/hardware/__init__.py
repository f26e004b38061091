"""The board's physics and parts: supply, supercapacitor, battery, loads, cover switch, NVM, RTC.

Built-in profiles in profile.py, closed-form supercapacitor math in rc.py; no firmware or kernel."""
