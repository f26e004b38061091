"""The twin's backup supply as an ngspice netlist: an independent check of the closed-form physics.

Owns the translation of a profile plus a load timeline into the equivalent circuit, running
``ngspice -b`` on it in a temporary directory, and reading its measurements back. The circuit is
the usual one for hours-to-days backup (hardware.md, "Supercapacitors used in meters"):

    charge source ─ switch (closed while mains is present) ─ R_charge ─┐
                                                                      term ─ I_load(t) ─ 0
    0 ─ C (IC = V0) ∥ R_leak ─ int ─ ESR ─────────────────────────────┘

``int`` is the capacitor's internal (open-circuit) voltage — the quantity the kernel's trace
holds — and ``term`` its terminal, which sags by I·ESR under a load. Every load current flows
through the ESR; the charging current too, as on a board where the charge resistor meets the
part at its pin (``charge_node="internal"`` puts the resistor on the internal node instead,
which is the twin's own simplification, to measure what that simplification costs). The load is
a piecewise-constant PWL current source built from the kernel's trace (each step a 0.2 µs ramp
centred on the event instant, so the charge it moves is exact), plus optional periodic PULSE
sources for explicit wake pulses; the twin's fast-forwarded ticks appear in the trace as their
average current.

Must not know about the firmware or the oracle, and never changes a run: it reads a scenario and
its RunLog. ngspice is an external program (Debian package ``ngspice``); without it,
``SpiceUnavailable`` says so.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from meterseal.hardware.parts import effective_supercap
from meterseal.sim.runlog import RunLog
from meterseal.sim.scenario import Scenario
from meterseal.sim.trace import Trajectory

__all__ = [
    "CrossCheck",
    "Crossing",
    "OutageCheck",
    "Pulses",
    "SpiceError",
    "SpiceResult",
    "SpiceUnavailable",
    "SupercapCircuit",
    "Timeline",
    "VoltageAt",
    "circuit_from_run",
    "cross_check",
    "hold_load_after",
    "netlist",
    "ngspice_path",
    "relative_error",
    "run_ngspice",
    "simulate",
    "timeline_from_run",
    "twin_voltage_at",
]

Node = Literal["internal", "terminal"]

EDGE_S = 0.2e-6
"""Width of a load step's ramp in the PWL source. Kernel events sit on whole microseconds, so
two steps never overlap; the ramp is centred on the instant, so it moves exactly the charge of
an ideal step."""

_NODE = {"internal": "int", "terminal": "term"}
_MEAS_LINE = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*=\s*([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)", re.I)
# ngspice-39 reports a measurement that finds nothing as ".meas tran NAME when ... failed!".
_MEAS_FAILED = re.compile(r"^\s*\.meas\w*\s+\w+\s+([a-z_][a-z0-9_]*)\b.*\bfailed", re.I)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


class SpiceError(RuntimeError):
    """ngspice ran but failed, or its output could not be read; the message carries its words."""


class SpiceUnavailable(SpiceError):
    """The ngspice program is not installed (Debian: ``apt-get install ngspice``)."""


@dataclass(frozen=True, slots=True)
class SupercapCircuit:
    """The backup capacitor and its charging path, as the run sees them (temperature, tolerance
    and ageing already applied)."""

    capacitance_f: float
    esr_ohm: float
    leakage_ohm: float
    charge_source_v: float
    charge_resistor_ohm: float
    initial_v: float
    charge_node: Node = "terminal"
    # The charge-redistribution branch (a series R_d–C_d beside C), when the part has one.
    redistribution_f: float = 0.0
    redistribution_ohm: float = 0.0
    initial_vd: float | None = None  # its capacitor's voltage at the start (default initial_v)

    @classmethod
    def from_profile(
        cls, profile: Mapping[str, object], initial_v: float, charge_node: Node = "terminal",
        initial_vd: float | None = None,
    ) -> SupercapCircuit:
        cap = effective_supercap(profile)
        return cls(
            capacitance_f=cap.capacitance_f,
            esr_ohm=cap.esr_ohm,
            leakage_ohm=cap.leakage_ohm,
            charge_source_v=float(profile["supercap.charge_source_v"]),  # type: ignore[arg-type]
            charge_resistor_ohm=float(profile["supercap.charge_resistor_ohm"]),  # type: ignore[arg-type]
            initial_v=initial_v,
            charge_node=charge_node,
            redistribution_f=cap.redistribution_f,
            redistribution_ohm=cap.redistribution_ohm,
            initial_vd=initial_vd,
        )


@dataclass(frozen=True, slots=True)
class Pulses:
    """A periodic rectangular current (SPICE PULSE): ``current_a`` for ``width_s`` every
    ``period_s``, the first starting at ``delay_s``; ``edge_s`` rise and fall (centred, so each
    pulse moves current × width of charge)."""

    current_a: float
    width_s: float
    period_s: float
    delay_s: float = 0.0
    edge_s: float = 1e-6


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the circuit goes through: ``steps`` (t_us, current_a) — the load drawn at the
    terminal from each instant until the next (the first step holds from 0) — ``mains`` as
    (from_us, to_us) intervals with the charging path connected, ``pulses`` on top of the steps,
    and the simulated span ``end_us``."""

    end_us: int
    steps: tuple[tuple[int, float], ...] = ()
    mains: tuple[tuple[int, int], ...] = ()
    pulses: tuple[Pulses, ...] = ()


@dataclass(frozen=True, slots=True)
class VoltageAt:
    """Measure a node's voltage at an instant."""

    name: str
    t_us: int
    node: Node = "internal"


@dataclass(frozen=True, slots=True)
class Crossing:
    """Measure the first instant after ``after_us`` when a node falls (or rises) through
    ``level_v``; None in the result when it never does within the timeline."""

    name: str
    level_v: float
    after_us: int = 0
    node: Node = "terminal"
    rising: bool = False


Measure = VoltageAt | Crossing


@dataclass(frozen=True, slots=True)
class SpiceResult:
    """What ngspice measured, by name (None: the crossing never happened), and its wall time."""

    values: dict[str, float | None]
    wall_s: float
    netlist: str = field(repr=False)

    def __getitem__(self, name: str) -> float | None:
        return self.values[name]


# ---------------------------------------------------------------------------------- the netlist


def _num(x: float) -> str:
    """A number as SPICE reads it (no unit suffixes: 'm' would be milli, 'M' too)."""
    return f"{x:.16g}"


def _pwl(points: Sequence[tuple[float, float]], indent: str = "+ ") -> list[str]:
    lines = []
    chunk: list[str] = []
    for t, v in points:
        chunk.append(f"{_num(t)} {_num(v)}")
        if len(chunk) == 6:
            lines.append(indent + " ".join(chunk))
            chunk = []
    if chunk:
        lines.append(indent + " ".join(chunk))
    return lines


def _step_points(
    steps: Sequence[tuple[int, float]], end_s: float
) -> list[tuple[float, float]]:
    """PWL corners of a piecewise-constant current: a centred ramp at every change."""
    merged: list[tuple[int, float]] = []
    for t_us, i_a in steps:
        if merged and merged[-1][0] == t_us:
            merged[-1] = (t_us, i_a)  # several events at one instant: the last one holds
        elif merged and merged[-1][1] == i_a:
            continue
        else:
            merged.append((t_us, i_a))
    if not merged:
        return [(0.0, 0.0), (end_s, 0.0)]
    half = EDGE_S / 2.0
    points = [(0.0, merged[0][1])]
    level = merged[0][1]
    for t_us, i_a in merged[1:]:
        if i_a == level:
            continue
        t = t_us * 1e-6
        if t >= end_s:
            break
        points.append((t - half, level))
        points.append((t + half, i_a))
        level = i_a
    points.append((end_s, level))
    return points


def _mains_points(mains: Sequence[tuple[int, int]], end_s: float) -> list[tuple[float, float]]:
    """PWL of the switch's control voltage: 1 V while mains is present, 0 V otherwise."""
    changes = sorted(
        [(a, 1.0) for a, _b in mains] + [(b, 0.0) for _a, b in mains], key=lambda c: c[0]
    )
    level = 0.0
    for t_us, new in changes:
        if t_us <= 0:
            level = new
    half = EDGE_S / 2.0
    points = [(0.0, level)]
    for t_us, new in changes:
        t = t_us * 1e-6
        if t_us <= 0 or t >= end_s or new == level:
            continue
        points.append((t - half, level))
        points.append((t + half, new))
        level = new
    points.append((end_s, level))
    return points


def default_max_step_s(timeline: Timeline, circuit: SupercapCircuit) -> float:
    """A few thousand points over the span, and at least a hundred per time constant: enough for
    .meas to interpolate a crossing to well under 1e-4 of its time. Pulses and load steps place
    their own breakpoints."""
    span_s = timeline.end_us * 1e-6
    tau_s = circuit.capacitance_f / (
        1.0 / circuit.leakage_ohm + 1.0 / circuit.charge_resistor_ohm
    )
    return max(min(span_s / 4000.0, tau_s / 100.0), 1e-6)


def netlist(
    circuit: SupercapCircuit,
    timeline: Timeline,
    measures: Sequence[Measure],
    *,
    max_step_s: float | None = None,
    reltol: float = 1e-6,
    title: str = "meterseal backup supply",
) -> str:
    """The ngspice netlist (text) of ``circuit`` driven by ``timeline``, with one ``.meas`` per
    measure. Measure names must be SPICE identifiers (lower case letters, digits, '_')."""
    if timeline.end_us <= 0:
        raise ValueError("timeline.end_us must be positive")
    end_s = timeline.end_us * 1e-6
    step = max_step_s if max_step_s is not None else default_max_step_s(timeline, circuit)
    charge_at = _NODE[circuit.charge_node]
    lines = [
        f"* {title}",
        f"* C={_num(circuit.capacitance_f)} F ESR={_num(circuit.esr_ohm)} ohm "
        f"R_leak={_num(circuit.leakage_ohm)} ohm, charged from {_num(circuit.charge_source_v)} V "
        f"through {_num(circuit.charge_resistor_ohm)} ohm at the {circuit.charge_node} node",
        f"C1 int 0 {_num(circuit.capacitance_f)} IC={_num(circuit.initial_v)}",
        f"RLEAK int 0 {_num(circuit.leakage_ohm)}",
        # A zero ESR would short two nodes; a micro-ohm stands in for it.
        f"RESR int term {_num(max(circuit.esr_ohm, 1e-6))}",
        f"VSRC src 0 DC {_num(circuit.charge_source_v)}",
        "SMAINS src chg mains 0 swmains",
        f"RCHG chg {charge_at} {_num(circuit.charge_resistor_ohm)}",
        ".model swmains SW(VT=0.5 VH=0 RON=1e-6 ROFF=1e15)",
        "VMAINS mains 0 PWL(",
        *_pwl(_mains_points(timeline.mains, end_s)),
        "+ )",
        "ILOAD term 0 PWL(",
        *_pwl(_step_points(timeline.steps, end_s)),
        "+ )",
    ]
    if circuit.redistribution_f > 0.0:
        vd0 = circuit.initial_v if circuit.initial_vd is None else circuit.initial_vd
        lines += [
            f"RD int slow {_num(circuit.redistribution_ohm)}",
            f"CD slow 0 {_num(circuit.redistribution_f)} IC={_num(vd0)}",
        ]
    for k, p in enumerate(timeline.pulses):
        rise = p.edge_s
        # SPICE's pulse width excludes the edges: shorten it so each pulse carries I × width.
        flat = max(p.width_s - rise, 0.0)
        lines.append(
            f"IPULSE{k} term 0 PULSE(0 {_num(p.current_a)} {_num(max(p.delay_s - rise / 2, 0.0))} "
            f"{_num(rise)} {_num(rise)} {_num(flat)} {_num(p.period_s)})"
        )
    lines.append(f".options reltol={_num(reltol)}")
    lines.append(f".tran {_num(step)} {_num(end_s)} 0 {_num(step)} UIC")
    lines.append(".save v(int) v(term)")
    seen: set[str] = set()
    for m in measures:
        name = m.name.lower()
        if not _NAME.fullmatch(name) or name in seen:
            raise ValueError(f"measure name {m.name!r} must be a unique SPICE identifier")
        seen.add(name)
        node = _NODE[m.node]
        if isinstance(m, VoltageAt):
            lines.append(f".meas tran {name} FIND v({node}) AT={_num(m.t_us * 1e-6)}")
        else:
            edge = "RISE" if m.rising else "FALL"
            lines.append(
                f".meas tran {name} WHEN v({node})={_num(m.level_v)} {edge}=1 "
                f"TD={_num(m.after_us * 1e-6)}"
            )
    lines.append(".end")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- running it


def ngspice_path() -> str | None:
    """Where the ngspice program is, or None."""
    return shutil.which("ngspice")


def run_ngspice(text: str, names: Sequence[str], timeout_s: float = 600.0) -> SpiceResult:
    """Run ``ngspice -b`` on a netlist in a temporary directory; the values of ``names``.

    A measurement ngspice reports as failed (a crossing that never happens) is None. ngspice
    prints measurements with 7 significant digits: values are good to about 1e-6 of themselves.
    """
    exe = ngspice_path()
    if exe is None:
        raise SpiceUnavailable("ngspice is not installed (Debian package 'ngspice')")
    with tempfile.TemporaryDirectory(prefix="meterseal-spice-") as tmp:
        cir = Path(tmp) / "backup.cir"
        cir.write_text(text, encoding="ascii")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [exe, "-b", str(cir)],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SpiceError(f"ngspice did not finish within {timeout_s:g} s") from None
        wall_s = time.perf_counter() - t0
    out = proc.stdout + "\n" + proc.stderr
    wanted = {n.lower() for n in names}
    values: dict[str, float | None] = {}
    for line in out.splitlines():
        m = _MEAS_LINE.match(line)
        if m and m.group(1).lower() in wanted:
            values[m.group(1).lower()] = float(m.group(2))
            continue
        m = _MEAS_FAILED.match(line)
        if m and m.group(1).lower() in wanted:
            values[m.group(1).lower()] = None
    missing = wanted - values.keys()
    if proc.returncode != 0 or missing:
        tail = " | ".join(
            ln.strip() for ln in out.splitlines() if "rror" in ln or "arning" in ln
        )[:500]
        raise SpiceError(
            f"ngspice exit {proc.returncode}; missing measurements {sorted(missing)}; {tail}"
        )
    return SpiceResult(values={n.lower(): values[n.lower()] for n in names}, wall_s=wall_s,
                       netlist=text)


def simulate(
    circuit: SupercapCircuit,
    timeline: Timeline,
    measures: Sequence[Measure],
    *,
    max_step_s: float | None = None,
    reltol: float = 1e-6,
    timeout_s: float = 600.0,
) -> SpiceResult:
    """Write the netlist, run ngspice on it and return its measurements."""
    text = netlist(circuit, timeline, measures, max_step_s=max_step_s, reltol=reltol)
    result = run_ngspice(text, [m.name for m in measures], timeout_s=timeout_s)
    return result


# ---------------------------------------------------------------------------------- from a run


def timeline_from_run(sc: Scenario, log: RunLog) -> Timeline:
    """The load and mains timeline a kernel run went through, from its trace (``trace=True``):
    the trajectory's load proper at each row (the circuit has its own charging path) and the
    mains intervals (the kernel connects the charging path exactly while mains is present)."""
    tr = Trajectory.of(sc, log)
    return Timeline(end_us=log.t_end_us, steps=tr.steps(), mains=tr.mains)


def circuit_from_run(
    sc: Scenario, log: RunLog, charge_node: Node = "terminal"
) -> SupercapCircuit:
    """The run's supercapacitor circuit, starting at the voltage the kernel started with."""
    if not log.trace:
        raise ValueError("the run has no trace: run the kernel with trace=True")
    return SupercapCircuit.from_profile(sc.profile, log.trace[0][1], charge_node,
                                        initial_vd=log.trace[0][5])


def hold_load_after(timeline: Timeline, t_us: int) -> Timeline:
    """The same timeline, but the load that flowed just before ``t_us`` flows on to the end.

    For measuring a brown-out independently of the twin's own decision: in the trace the MCU's
    current ends at the instant the kernel found the brown-out; in a circuit it flows until the
    supply really crosses the level, whenever that is.
    """
    kept = [s for s in timeline.steps if s[0] < t_us]
    return replace(timeline, steps=tuple(kept))


def twin_voltage_at(sc: Scenario, log: RunLog, t_us: int) -> float:
    """The twin's internal supercapacitor voltage at ``t_us``: exactly what the kernel computes
    between two events (the run's Trajectory)."""
    return Trajectory.of(sc, log).voltage_at(t_us)


def relative_error(twin: float, spice: float) -> float:
    """|twin − spice| / |spice| (inf when spice is 0 and twin is not)."""
    if spice == 0.0:
        return 0.0 if twin == 0.0 else math.inf
    return abs(twin - spice) / abs(spice)


# ---------------------------------------------------------------------------------- cross-check


@dataclass(frozen=True, slots=True)
class OutageCheck:
    """One outage's brown-out instant, seconds after mains fell: the twin's and ngspice's (None:
    the supply did not cross the brown-out level before mains came back)."""

    outage: int
    twin_s: float | None
    spice_s: float | None

    @property
    def relative_error(self) -> float:
        if self.twin_s is None or self.spice_s is None:
            return 0.0 if self.twin_s is None and self.spice_s is None else math.inf
        return relative_error(self.twin_s, self.spice_s)


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """The twin against ngspice on one run: internal voltages at instants, brown-out instants."""

    instants_us: tuple[int, ...]
    twin_v: tuple[float, ...]
    spice_v: tuple[float, ...]
    brownouts: tuple[OutageCheck, ...]
    charge_node: Node
    spice_wall_s: float

    @property
    def worst_voltage_error(self) -> float:
        return max(
            (relative_error(a, b) for a, b in zip(self.twin_v, self.spice_v, strict=True)),
            default=0.0,
        )

    @property
    def worst_brownout_error(self) -> float:
        return max((b.relative_error for b in self.brownouts), default=0.0)


def cross_check(
    sc: Scenario,
    log: RunLog,
    instants_us: Sequence[int],
    *,
    charge_node: Node = "terminal",
    max_step_s: float | None = None,
    reltol: float = 1e-6,
) -> CrossCheck:
    """Replay a traced kernel run in ngspice and compare.

    Voltages: the capacitor's internal node at each instant, against ``twin_voltage_at``.
    Brown-outs: for every outage, the first instant the terminal falls through the MCU's
    brown-out level after mains fell. Where the twin found one, the circuit keeps the load that
    flowed just before it (``hold_load_after``), so ngspice decides the instant on its own; where
    the twin found none, ngspice must not cross before mains returns.
    """
    circuit = circuit_from_run(sc, log, charge_node)
    trajectory = Trajectory.of(sc, log)
    timeline = Timeline(end_us=log.t_end_us, steps=trajectory.steps(), mains=trajectory.mains)
    brownout_v = float(sc.profile["mcu.brownout_v"])  # type: ignore[arg-type]
    measures: list[Measure] = [VoltageAt(f"v{k}", t) for k, t in enumerate(instants_us)]
    for o in log.outages:
        if o.brownout_us is None:
            measures.append(Crossing(f"bo{o.index}", brownout_v, after_us=o.from_us))
    exact = simulate(circuit, timeline, measures, max_step_s=max_step_s, reltol=reltol)
    wall = exact.wall_s
    checks: list[OutageCheck] = []
    for o in log.outages:
        if o.brownout_us is None:
            t = exact[f"bo{o.index}"]
            spice_s = None
            if t is not None and t * 1e6 < o.to_us:
                spice_s = t - o.from_us * 1e-6
            checks.append(OutageCheck(o.index, None, spice_s))
            continue
        held = simulate(
            circuit,
            hold_load_after(timeline, o.brownout_us),
            [Crossing("bo", brownout_v, after_us=o.from_us)],
            max_step_s=max_step_s,
            reltol=reltol,
        )
        wall += held.wall_s
        t = held["bo"]
        checks.append(
            OutageCheck(
                o.index,
                (o.brownout_us - o.from_us) * 1e-6,
                None if t is None else t - o.from_us * 1e-6,
            )
        )
    spice_v = tuple(exact[f"v{k}"] for k in range(len(instants_us)))
    if any(v is None for v in spice_v):
        raise SpiceError("ngspice did not report a voltage at every instant")
    return CrossCheck(
        instants_us=tuple(instants_us),
        twin_v=tuple(trajectory.voltage_at(t) for t in instants_us),
        spice_v=spice_v,  # type: ignore[arg-type]
        brownouts=tuple(checks),
        charge_node=charge_node,
        spice_wall_s=wall,
    )
