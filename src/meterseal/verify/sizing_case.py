"""The catalogue sizing's design case: one requirement, one pair of parts, one temperature, run.

Owns the requirement a meter designer states over the catalogue — "watch X h after mains is
lost, with the clock battery in this state, reporting on module M, at −25…+70 °C, at end of
life" — the design case it becomes (a long-charged board on the seed's battery-first supply,
mains lost, N cover openings of up to 10 min spread over the required watch, the last one closing
at its end) and the facts one run of the twin gives: how long the firmware watched, and for each
opening whether the oracle matched a record to it, with which time quality, and whether its
report went out on backup (the firmware's own report status in the NVM image beside the frames
the kernel saw leave the module). Judging those facts is sizing_verdict's; the search over
parts and temperatures is sizing_catalog's.

Must not change what the kernel or the firmware do; it builds scenarios and reads their results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meterseal.firmware.image import decode_image
from meterseal.firmware.records import QUALITY_NAMES, REPORT_CUT_SHORT, REPORT_ON_BACKUP
from meterseal.hardware import catalog
from meterseal.hardware.board import BoardParams
from meterseal.sim.kernel import Kernel
from meterseal.sim.scenario import CoverOp, Outage, Scenario
from meterseal.verify.matrix import START
from meterseal.verify.oracle import judge
from meterseal.verify.sizing_requirement import SizingError, check_options

__all__ = [
    "BATTERY_ALIASES",
    "END_OF_LIFE",
    "CaseRun",
    "CatalogRequirement",
    "OpeningFacts",
    "run_case",
]

PROFILE = "single-phase"
"""The field's board: battery-first supply, catalogue parts (the registry's defaults)."""

HOUR_US = 3_600_000_000
_OPEN_US = 600_000_000  # an opening of the design case lasts 10 min (less when they crowd)
_MAX_OPENINGS = 10  # the NVM keeps the latest 10 records: more could not all be read back

BRACKET_DOUBLING_C = 10.0
"""The pessimistic side of the [U] leakage-vs-temperature law (profile_keys.py,
supercap.leakage_doubling_c): the 10 °C chemical rule of thumb, 32× at +70 °C."""

BATTERY_ALIASES = {"good": "healthy"}
"""The capacitance sweep's ``--battery good`` is the catalogue cell's ``healthy`` state."""

# End of life per supercapacitor row: (capacitance lost, ESR multiplied), with the source. The
# catalogue's rows leave supercap.ageing at 0 (a new part) so that scenarios run new parts.
END_OF_LIFE: dict[str, tuple[float, float, str]] = {
    "eaton-pb-1f": (0.3, 3.0, "Eaton PB datasheet, Performance: after 1000 h at 70 °C, ΔC 30 %, "
                    "ESR 300 %"),
    "eaton-kw-1f": (0.3, 2.0, "Eaton KW datasheet, Performance: after 2000 h at +85 °C, "
                    "ΔC ≤ 30 %, ESR ≤ 200 %"),
    "eaton-kr-0.22f": (0.3, 3.0, "[U] the KR datasheet figure is not in hardware.md: the worse "
                       "of the same maker's PB and KW end-of-life figures (ΔC 30 %, ESR 300 %)"),
    "generic-h-1f": (0.3, 3.0, "[U] no end-of-life figure in the Forecon specification: the "
                     "worse of the Eaton PB and KW figures (ΔC 30 %, ESR 300 %)"),
}

# Profile keys the requirement's options set, or that a catalogue row sets: --set may not set
# them too, or the named part would no longer be the catalogue's part.
_OPTION_KEYS = {
    "supercap.part": "--parts",
    "nvm.part": "--parts",
    "battery.part": "--battery",
    "battery.state": "--battery",
    "battery.present": "--battery",
    "radio.module": "--module",
    "ambient.temperature_c": "--temperature",
    "supercap.tolerance": "--tolerance",
    "supercap.ageing": "--end-of-life",
    "supercap.esr_ageing_factor": "--end-of-life",
}
_PART_KEYS = {v.key for p in catalog.PARTS if p.selects in ("supercap.part", "nvm.part")
              for v in p.values}


@dataclass(frozen=True, slots=True)
class CatalogRequirement:
    """What the backup supply must do, stated over the catalogue.

    ``watch_us``: the firmware watches the cover this long after mains is lost, and each of
    ``openings`` cover openings in that time is written to the NVM on backup and (with a module
    that reports) reported on backup in full — the last opening closes at the end of the watch.
    ``battery``: the er14250's state; ``module``: a ``radio.module`` row;
    ``temperature_range_c``: the range (its ends, and 20 °C inside it, are simulated);
    ``end_of_life``: each supercapacitor's own ageing (END_OF_LIFE).
    """

    watch_us: int
    battery: str = "undervoltage"
    module: str = "rf-micropower"
    temperature_range_c: tuple[float, float] = (-25.0, 70.0)
    end_of_life: bool = False
    tolerance: float = -0.2
    openings: int = 2
    overrides: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        if self.watch_us <= 0:
            raise SizingError("--watch: the required watch must be longer than zero")
        if self.watch_us > 365 * 24 * HOUR_US:
            raise SizingError("--watch: more than a year of hold-up is not a supercapacitor's job")
        states = (*catalog.BATTERY_STATES, *BATTERY_ALIASES)
        if self.battery not in states:
            raise SizingError(f"--battery: {self.battery!r} is not one of {', '.join(states)}")
        modules = tuple(p.name for p in catalog.parts_for("radio.module"))
        if self.module not in modules:
            raise SizingError(f"--module: {self.module!r} is not one of {', '.join(modules)}")
        if not 0 <= self.openings <= _MAX_OPENINGS:
            raise SizingError(f"--openings: {self.openings} must be between 0 and "
                              f"{_MAX_OPENINGS} with catalogue parts (the NVM keeps the latest "
                              f"{_MAX_OPENINGS} records)")
        lo, hi = self.temperature_range_c
        if lo > hi:
            raise SizingError(f"--temperature: the range {lo:g}..{hi:g} °C runs backwards; "
                              "give the cold end first")
        for key, _value in self.overrides:
            if key in _OPTION_KEYS:
                raise SizingError(f"--set {key}: set it with {_OPTION_KEYS[key]} instead")
            if key in _PART_KEYS:
                raise SizingError(f"--set {key}: a catalogue part sets it; name another part "
                                  "with --parts instead")
        self._check_profile()

    def _check_profile(self) -> None:
        lo, hi = self.temperature_range_c
        check_options((("--temperature", "ambient.temperature_c", lo),
                       ("--temperature", "ambient.temperature_c", hi),
                       ("--tolerance", "supercap.tolerance", self.tolerance)),
                      self.overrides, PROFILE)

    @property
    def watch_h(self) -> float:
        return self.watch_us / HOUR_US

    @property
    def battery_state(self) -> str:
        return BATTERY_ALIASES.get(self.battery, self.battery)

    @property
    def temperatures_c(self) -> tuple[float, ...]:
        """The temperatures simulated: the range's ends and 20 °C between them. Each drift is
        monotonic from 20 °C (cold: C down, ESR and the cell's passivation up; heat: leakage and
        sleep current up), so the worst case of each lies at an end of the range."""
        lo, hi = self.temperature_range_c
        return tuple(sorted({lo, hi, *((20.0,) if lo < 20.0 < hi else ())}))

    @property
    def leakage_bracket(self) -> dict[str, object] | None:
        """The other side of the leakage-vs-temperature law's bracket, for the hot end: the
        registry's doubling per 20 °C is [U]; the chemical rule of thumb doubles per 10 °C.
        None when the range stays at or below 20 °C or --set chose the law."""
        if self.temperature_range_c[1] <= 20.0 or any(
                k == "supercap.leakage_doubling_c" for k, _v in self.overrides):
            return None
        return {"supercap.leakage_doubling_c": BRACKET_DOUBLING_C}

    @property
    def reports_needed(self) -> bool:
        """A module that sends on the meter's backup must get each report out."""
        return bool(catalog.find("radio.module", self.module).value("radio.present"))  # type: ignore[union-attr]

    def profile_overrides(self, supercap: str, nvm: str, temperature_c: float
                          ) -> dict[str, object]:
        ov: dict[str, object] = dict(self.overrides)
        ov.update({
            "supercap.part": supercap, "nvm.part": nvm, "battery.part": "er14250",
            "battery.state": self.battery_state, "radio.module": self.module,
            "ambient.temperature_c": temperature_c, "supercap.tolerance": self.tolerance,
        })
        if self.end_of_life:
            ageing, esr_factor, _source = END_OF_LIFE[supercap]
            ov["supercap.ageing"] = ageing
            ov["supercap.esr_ageing_factor"] = esr_factor
        return ov

    def describe(self) -> str:
        lo, hi = self.temperature_range_c
        span = f"{lo:g} °C" if lo == hi else f"{lo:g}…{hi:+g} °C"
        return (f"watch ≥ {self.watch_h:g} h after mains is lost, {self.openings} opening(s) in "
                f"it each written on backup{' and reported' if self.reports_needed else ''}, "
                f"battery {self.battery_state}, module {self.module}, at {span}, capacitance "
                f"{self.tolerance * 100:+g} % tolerance, "
                f"{'end of life' if self.end_of_life else 'new parts'}")


@dataclass(frozen=True, slots=True)
class OpeningFacts:
    """One opening of the design case as the run left it."""

    opened_h: float  # after mains loss
    status: str  # the oracle's: recorded | missed | undetectable
    quality: str | None  # the record's time quality (None: no record)
    sends: int  # the firmware's report status: sends made (0: none or no status)
    sends_planned: int
    on_backup: bool  # the status says the sends went out on backup
    cut_short: bool
    frames_on_backup: int  # report frames the kernel saw leave the module on backup


@dataclass(frozen=True, slots=True)
class CaseRun:
    """The facts of one design-case run: a pair of parts at one temperature, watch ``watch_h``."""

    supercap: str
    nvm: str
    temperature_c: float
    required_h: float
    watch_h: float  # how long the firmware watched; a lower bound when ``outlasted``
    outlasted: bool
    supercap_v_at_outage: float
    supercap_out_h: float | None  # the supercapacitor crossed the brown-out level
    openings: tuple[OpeningFacts, ...]
    invariants: Mapping[str, str]
    warnings: tuple[str, ...]
    nvm_min_v: float = 0.0  # the NVM's write floor and the MCU's brown-out: what ends a watch
    brownout_v: float = 0.0


def case_scenario(req: CatalogRequirement, supercap: str, nvm: str, temperature_c: float,
                  watch_us: int, outage_us: int, extra: Mapping[str, object] | None = None,
                  ) -> Scenario:
    """On mains for an hour (the part charged for days before, as the kernel starts it), then
    one outage of ``outage_us``; openings close at watch·k/N, the last at the end of the watch."""
    at_us = HOUR_US
    n = req.openings
    open_us = min(_OPEN_US, watch_us // (2 * n)) if n else 0
    covers = tuple(CoverOp(at_us + watch_us * k // n - open_us, at_us + watch_us * k // n)
                   for k in range(1, n + 1))
    return Scenario(
        profile_name=PROFILE,
        name=f"size {supercap} {nvm} {temperature_c:g} °C",
        start=START,
        duration_us=at_us + outage_us + 60_000_000,
        seed=1,
        overrides=tuple(sorted({**req.profile_overrides(supercap, nvm, temperature_c),
                                **(extra or {})}.items())),
        outages=(Outage(at_us, outage_us),),
        cover=covers,
    )


def run_case(req: CatalogRequirement, supercap: str, nvm: str, temperature_c: float, *,
             watch_us: int | None = None, outage_us: int | None = None,
             extra: Mapping[str, object] | None = None) -> CaseRun:
    """Simulate the design case (for the requirement's watch, or ``watch_us``) and read its
    facts: the watch from the kernel's outage log, each opening through the oracle's verdict,
    the record's quality and report status decoded from the NVM image. ``extra``: profile keys
    laid over the requirement's (the leakage bracket)."""
    watch = req.watch_us if watch_us is None else watch_us
    outage = outage_us if outage_us is not None else watch + HOUR_US
    sc = case_scenario(req, supercap, nvm, temperature_c, watch, max(outage, watch + HOUR_US),
                       extra)
    log = Kernel(sc, trace=False).run()
    verdicts = judge(sc, log)
    image = decode_image(log.final_image)
    records = {r.seq: r for r in image.cover}
    out = log.outages[0]
    loss_us = sc.outages[0].at_us
    planned = 1 + int(sc.profile["radio.retries"])  # type: ignore[call-overload]
    openings = []
    for v in sorted(verdicts.verdicts, key=lambda v: v.truth):
        cover = sc.cover[v.truth]
        rec = records.get(v.record) if v.record is not None else None
        status = image.reports.get(v.record) if v.record is not None else None
        flags = status.flags if status is not None else 0
        openings.append(OpeningFacts(
            opened_h=(cover.open_us - loss_us) / HOUR_US,
            status=v.status,
            quality=QUALITY_NAMES[rec.quality] if rec is not None else None,
            sends=status.sends if status is not None else 0,
            sends_planned=planned,
            on_backup=bool(flags & REPORT_ON_BACKUP),
            cut_short=bool(flags & REPORT_CUT_SHORT),
            frames_on_backup=sum(1 for _t, _k, seq, on in log.reports
                                 if seq == v.record and on == "backup"),
        ))
    outlasted = out.watch_until_us is None
    end_us = sc.outages[0].end_us if outlasted else int(out.watch_until_us)  # type: ignore[arg-type]
    return CaseRun(
        supercap=supercap, nvm=nvm, temperature_c=temperature_c, required_h=watch / HOUR_US,
        watch_h=(end_us - loss_us) / HOUR_US, outlasted=outlasted,
        supercap_v_at_outage=out.supercap_v,
        supercap_out_h=(None if out.brownout_us is None
                        else (out.brownout_us - loss_us) / HOUR_US),
        openings=tuple(openings), invariants=dict(verdicts.invariants),
        warnings=BoardParams.from_profile(sc.profile).warnings,
        nvm_min_v=float(sc.profile["nvm.min_voltage_v"]),  # type: ignore[arg-type]
        brownout_v=float(sc.profile["mcu.brownout_v"]),  # type: ignore[arg-type]
    )

