"""The discrete-event kernel that runs the firmware on the board model through a scenario.

Scenario loading and validation, fault injection, fast-forward of periodic ticks, traces."""
