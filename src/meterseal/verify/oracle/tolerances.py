"""The oracle's timing: what the firmware is built to do and what the board does, as numbers.

Owns every number a check compares against and the one function that reads them from a
scenario's profile, ``tolerances(sc)``: the firmware's own debounce, sampling and polling (from
``firmware_config``, the object the recorder itself is built with, so the oracle can never
disagree with the firmware about them) and the board's physics (switch bounce, wake time, bias
pulses, clock drift, page-write and radio times). Every slack on top of those is a named constant
below that says why it has its size. Nothing else in the oracle reads the profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from meterseal.firmware.pending import MAX_ENTRIES
from meterseal.hardware.board import Bias, BoardParams, WakeMode
from meterseal.sim.scenario import Scenario

MS_US = 1000
"""Record times and the RTC count are whole local milliseconds, each floored when taken."""

STAMP_SLACK_US = 2 * MS_US
"""Rounding between a stamp and the truth: the scenario's start is floored to the ms to become
the RTC's first count, and every reading is floored again. Two ms cover both; they are also
five times smaller than the shortest physical part of the tolerance (a bounce and a sample,
10 ms with the default switch), so they cannot hide an error that matters."""

CLOCK_ROUNDING_US = MS_US
"""The clock's own share on top of its drift: the RTC carries a fraction of a ms that a
reading floors away."""

WRITES_AHEAD = MAX_ENTRIES + 3
"""Page writes allowed to stand between seeing a change and having it in the NVM: as many
records as retained RAM holds (the one just seen among them), a power-down start and end, and a
state save — 13 with the firmware's 10 retained entries. Reports do not count: writes never wait
for the radio."""

EXACT_WRITE_DELAY_US = 2_000_000
"""How late after its debounce, beyond a full queue of page writes ahead of it, an ``exact``
record may be written. The firmware writes it "at once", which is not a number it keeps: behind
a full queue (WRITES_AHEAD page writes: 65 ms with the default EEPROM, 13 s with the slowest the
profile allows, 1 s a page) plus two seconds, while a ``deferred`` record waits for mains or a
budget recovery, minutes to days. Two seconds over the queue tells the two apart without
sitting on either edge."""

REGISTER_SLACK_UNITS = 1
"""Energy registers are floored from mWh to 0.01 kWh by the firmware and again by the oracle's
own integration of the load: one register step either way."""


@dataclass(frozen=True, slots=True)
class Tolerances:
    """Timing facts of one scenario's board and firmware (µs), and the tolerances built on them."""

    debounce_us: int  # debounce_samples × sample_period_us: a change must hold this long
    sample_us: int  # the firmware's sampling period (mains ticks and debounce bursts)
    bounce_us: int  # how long the switch bounces at each transition
    wake_us: int  # one wake from sleep on backup
    polling: bool  # on backup the firmware polls instead of waking on an edge
    poll_us: int
    pulsed: bool  # the switch is biased (and so readable) only at pulses
    bias_period_us: int
    drift: float  # the RTC's signed rate error (fraction, not ppm)
    write_us: int  # one EEPROM page write
    radio_us: int  # one active-report burst
    trip_us: int = 0  # mains lost -> the power-fail comparator trips (the bulk capacitor's hold-up)
    terminal_switch: bool = False  # the board has a key switch under the terminal cover

    @property
    def latency_us(self) -> int:
        """How late a change is first looked at: a sampling, polling or bias period."""
        if self.polling:
            return max(self.sample_us, self.poll_us)
        if self.pulsed:
            return max(self.sample_us, self.bias_period_us)
        return self.sample_us

    @property
    def margin_us(self) -> int:
        """What a detection needs beyond the debounce: the bounce to settle, up to a sample
        before the first agreeing one and a sample of jitter at the end, and a wake."""
        return self.bounce_us + 2 * self.sample_us + self.wake_us

    @property
    def need_us(self) -> int:
        """How long a switch state must last for a watching MCU to be sure to accept it."""
        return self.debounce_us + self.margin_us

    @property
    def stamp_us(self) -> int:
        """How far a seen change's stamp may be from the true instant, the clock's error aside:
        bounce, the latency to the first sample, a wake and the ms rounding."""
        return self.bounce_us + self.latency_us + self.wake_us + STAMP_SLACK_US

    @property
    def write_room_us(self) -> int:
        """How long the MCU must live on after seeing a change to be sure to write it."""
        return WRITES_AHEAD * self.write_us

    @property
    def exact_delay_us(self) -> int:
        """The latest an ``exact`` record may be committed after its true opening."""
        return self.need_us + self.latency_us + self.write_room_us + EXACT_WRITE_DELAY_US

    def clock_us(self, t_us: int) -> int:
        """The RTC's error allowed at t: it was right at the start and has drifted since."""
        return int(abs(self.drift) * t_us) + CLOCK_ROUNDING_US


def tolerances(sc: Scenario) -> Tolerances:
    """The scenario's timing: firmware behaviour as the recorder is configured (the board's
    typed parameters are what the firmware's configuration is built from), board physics as the
    kernel runs it. The only place the oracle reads either."""
    b = BoardParams.from_profile(sc.profile)
    return Tolerances(
        debounce_us=b.debounce_us,
        sample_us=b.sample_us,
        bounce_us=b.bounce_us,
        wake_us=b.wake_us,
        polling=b.wake_mode == WakeMode.POLLING,
        poll_us=b.poll_us,
        pulsed=b.bias == Bias.PULSED,
        bias_period_us=b.bias_period_us,
        drift=b.rtc_drift_ppm * 1e-6,
        write_us=b.nvm_write_us,
        radio_us=b.radio_us,
        trip_us=b.pf_us,
        terminal_switch=b.terminal_cover,
    )
