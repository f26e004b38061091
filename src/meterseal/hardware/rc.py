"""Closed-form supercapacitor math: the one place the exponential lives.

Owns the node equation of the backup capacitor between two events, when every load is a constant
current (DESIGN.md, "Physics model"):

    C·dV/dt = (Vs − V)/Rc·[charging] − V/R_leak − I

With G = 1/R_leak (+ 1/Rc while charging) the solution is a first-order relaxation

    V(t) = V∞ + (V0 − V∞)·e^(−t/τ),   V∞ = (Vs/Rc·[charging] − I)/G,   τ = C/G.

Must not know about profiles, parts, the kernel or the firmware: plain floats in, plain floats
out, standard-library ``math`` only. These functions sit on the simulator's hot path (hundreds of
calls per simulated year), so they allocate nothing beyond a returned tuple and validate only what
would otherwise fail obscurely.

Numerics: with a huge leakage resistance (e.g. 1e15 Ω to mean "no leakage") V∞ is a huge negative
number and t/τ is tiny; the forms below use ``expm1``/``log1p`` so they stay exact in that limit
(they reduce to V0 − I·t/C and t = C·ΔV/I).
"""

from __future__ import annotations

import math

__all__ = ["esr_drop_v", "steady_and_tau", "time_to_voltage", "voltage_after"]


def steady_and_tau(
    capacitance_f: float,
    leakage_ohm: float,
    load_a: float,
    source_v: float | None = None,
    charge_ohm: float | None = None,
) -> tuple[float, float]:
    """The asymptote V∞ (volts) and time constant τ (seconds) of the capacitor node.

    G = 1/leakage_ohm + 1/charge_ohm (the second term only while charging),
    V∞ = (source_v/charge_ohm − load_a)/G, τ = capacitance_f/G.

    ``source_v`` None or ``charge_ohm`` None means not charging (mains off). ``load_a`` is the
    current drawn from the capacitor (leakage excluded); a negative load is a current pushed in.
    ``leakage_ohm`` must be finite and positive: use a very large value (1e15) for "no leakage".
    """
    conductance_s = 1.0 / leakage_ohm
    injected_a = -load_a
    if source_v is not None and charge_ohm is not None:
        conductance_s += 1.0 / charge_ohm
        injected_a += source_v / charge_ohm
    if not conductance_s > 0.0 or not capacitance_f > 0.0:
        raise ValueError(
            f"capacitor node needs C > 0 and a finite positive leakage resistance "
            f"(got C={capacitance_f!r} F, R_leak={leakage_ohm!r} Ω); use 1e15 Ω for no leakage"
        )
    return injected_a / conductance_s, capacitance_f / conductance_s


def voltage_after(v0: float, dt_s: float, v_inf: float, tau_s: float) -> float:
    """The voltage ``dt_s`` seconds after ``v0`` on the trajectory (v_inf, tau_s).

    V(t) = V∞ + (V0 − V∞)·e^(−t/τ), evaluated as V0 + (V∞ − V0)·(1 − e^(−t/τ)) with expm1 so a
    near-linear discharge (τ → ∞) keeps full precision.
    """
    return v0 - (v_inf - v0) * math.expm1(-dt_s / tau_s)


def time_to_voltage(v0: float, v_target: float, v_inf: float, tau_s: float) -> float:
    """Seconds until the trajectory starting at ``v0`` reaches ``v_target``.

    t = τ·ln((V0 − V∞)/(Vt − V∞)), evaluated as τ·log1p((V0 − Vt)/(Vt − V∞)).

    Returns 0.0 if ``v0 == v_target`` (already there), and ``math.inf`` when the voltage never
    gets there: the target lies at or beyond the asymptote V∞, or behind ``v0`` (the voltage
    moves away from it — e.g. a falling voltage already below a threshold). A caller watching a
    threshold therefore compares the present voltage first; to schedule the crossing as an
    integer-µs event, round the time up so the voltage at the event is at or past the target.
    """
    if v_target == v0:
        return 0.0
    if v0 > v_target > v_inf or v0 < v_target < v_inf:
        return tau_s * math.log1p((v0 - v_target) / (v_target - v_inf))
    return math.inf


def esr_drop_v(current_a: float, esr_ohm: float) -> float:
    """The instant voltage drop across the series resistance under a pulse load: ΔV = I·ESR."""
    return current_a * esr_ohm
