"""The supercapacitor with a charge-redistribution branch: the closed form of a two-state node.

Owns the node equations of the backup capacitor when a slow branch (R_d in series with C_d)
sits beside the main capacitance C, with the leakage R_leak across C, the charging path from the
source while mains is present, and a constant load I between two events:

    C·dV/dt    = (Vs − V)/Rc·[charging] − V/R_leak − I − (V − Vd)/R_d
    C_d·dVd/dt = (V − Vd)/R_d

V is the main (internal) voltage, Vd the branch capacitor's. Right after a short charge Vd lags
behind V and the branch keeps drawing from C: the voltage sags and the apparent leakage is far
above the steady one (hardware.md, "Field practice found since": leakage right after a charge).

The system x' = A·x + b is linear with two distinct real negative eigenvalues λ_fast < λ_slow < 0
(a passive RC network), so between events

    x(t) = x0 + Σ_i (α_i·expm1(λ_i·t) + β_i·expm1(λ_i·t)/λ_i)·v_i,   v_i = (1, r_i),

where x0 = Σ α_i·v_i and b = Σ β_i·v_i. Written this way no huge asymptote appears (a leakage of
1e15 Ω means V∞ ≈ −I·1e15), so a near-linear discharge keeps full precision, as in rc.py.

The first time V reaches a level: V(t) − level is a constant plus two exponentials, so its
derivative k_1·e^(λ_1 t) + k_2·e^(λ_2 t) vanishes at most once (t* = ln(−k_2/k_1)/(λ_1 − λ_2)).
On each side of t* the voltage is monotone: bracket the crossing there (or, past t*, by doubling
towards the asymptote) and narrow the bracket to 1 µs — no fixed time step anywhere.

With C_d = 0 every function hands over to rc.py, so the model without a branch is exactly
today's.

Must not know profiles, parts, the kernel or the firmware: plain floats in, plain floats out,
standard-library ``math`` only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from meterseal.hardware import rc

__all__ = [
    "TIME_RESOLUTION_S",
    "Node2",
    "node",
    "state_after",
    "time_to_voltage",
    "voltage_after",
    "voltage_integral",
]

TIME_RESOLUTION_S = 1e-6
"""Width of the bracket ``time_to_voltage`` narrows a crossing to: the simulator's 1 µs."""

_MAX_SPAN_S = 1e18  # beyond this a crossing is "never" (3e10 years)


@dataclass(frozen=True, slots=True)
class Node2:
    """The node between two events: its modes, its forcing and its asymptote.

    ``single`` is true without a branch (C_d = 0): then only ``v_inf`` and ``tau_s`` mean
    anything and every function uses rc.py. Otherwise mode 1 is the fast one (λ_1 < λ_2 < 0),
    ``r_i`` the ratio Vd/V of mode i, ``beta_i`` the forcing's share in mode i, and ``tau_s`` the
    slow time constant −1/λ_2. ``v_inf`` is where both voltages settle.
    """

    single: bool
    v_inf: float
    tau_s: float
    lam1: float = 0.0
    lam2: float = 0.0
    r1: float = 1.0
    r2: float = 1.0
    beta1: float = 0.0
    beta2: float = 0.0


def node(
    capacitance_f: float,
    leakage_ohm: float,
    load_a: float,
    redistribution_f: float = 0.0,
    redistribution_ohm: float = 0.0,
    source_v: float | None = None,
    charge_ohm: float | None = None,
) -> Node2:
    """The node with main capacitance C, leakage R_leak, load I and a branch (C_d, R_d).

    ``source_v``/``charge_ohm`` None: not charging (mains off). ``load_a`` is the current drawn
    from the node (leakage excluded; negative pushes current in). ``redistribution_f`` 0 means
    no branch: the result then wraps rc.steady_and_tau exactly.
    """
    if not redistribution_f > 0.0:
        if redistribution_f != 0.0:
            raise ValueError(f"redistribution capacitance must be >= 0 F, got {redistribution_f!r}")
        v_inf, tau_s = rc.steady_and_tau(capacitance_f, leakage_ohm, load_a, source_v,
                                         charge_ohm)
        return Node2(single=True, v_inf=v_inf, tau_s=tau_s)
    if not (redistribution_ohm > 0.0 and math.isfinite(redistribution_ohm)):
        raise ValueError(
            f"a redistribution branch of {redistribution_f!r} F needs a finite positive "
            f"resistance, got {redistribution_ohm!r} Ω"
        )
    g = 1.0 / leakage_ohm
    injected_a = -load_a
    if source_v is not None and charge_ohm is not None:
        g += 1.0 / charge_ohm
        injected_a += source_v / charge_ohm
    if not (g > 0.0 and capacitance_f > 0.0):
        raise ValueError(
            f"capacitor node needs C > 0 and a finite positive leakage resistance "
            f"(got C={capacitance_f!r} F, R_leak={leakage_ohm!r} Ω); use 1e15 Ω for no leakage"
        )
    gd = 1.0 / redistribution_ohm
    a = (g + gd) / capacitance_f  # −A[0][0]
    g1 = gd / capacitance_f  # A[0][1]
    d = gd / redistribution_f  # A[1][0] = −A[1][1]
    s = math.sqrt((a - d) ** 2 + 4.0 * g1 * d)
    lam1 = -0.5 * (a + d + s)
    lam2 = (g / capacitance_f) * d / lam1  # det A / λ_1, free of cancellation
    # d + λ_i without cancellation (one of d − a ± s is a difference of near-equal numbers).
    if d >= a:
        q = d - a + s
        d_lam1, d_lam2 = -2.0 * g1 * d / q, 0.5 * q
    else:
        p = a - d + s
        d_lam1, d_lam2 = -0.5 * p, 2.0 * g1 * d / p
    r1, r2 = d / d_lam1, d / d_lam2  # r1 < 0 < r2
    b_v = injected_a / capacitance_f
    den = r1 - r2
    return Node2(
        single=False,
        v_inf=injected_a / g,
        tau_s=-1.0 / lam2,
        lam1=lam1,
        lam2=lam2,
        r1=r1,
        r2=r2,
        beta1=-r2 * b_v / den,
        beta2=r1 * b_v / den,
    )


def _modes(n: Node2, v0: float, vd0: float) -> tuple[float, float]:
    """(α_1, α_2): the state (v0, vd0) in the modes' coordinates."""
    den = n.r1 - n.r2
    return (vd0 - n.r2 * v0) / den, (n.r1 * v0 - vd0) / den


def _deltas(n: Node2, a1: float, a2: float, dt_s: float) -> tuple[float, float]:
    e1 = math.expm1(n.lam1 * dt_s)
    e2 = math.expm1(n.lam2 * dt_s)
    return a1 * e1 + n.beta1 * e1 / n.lam1, a2 * e2 + n.beta2 * e2 / n.lam2


def state_after(n: Node2, v0: float, vd0: float, dt_s: float) -> tuple[float, float]:
    """(V, Vd) ``dt_s`` seconds after (v0, vd0). Without a branch Vd follows V (a capacitor of
    no size sits at its node's voltage)."""
    if n.single:
        v = rc.voltage_after(v0, dt_s, n.v_inf, n.tau_s)
        return v, v
    a1, a2 = _modes(n, v0, vd0)
    d1, d2 = _deltas(n, a1, a2, dt_s)
    return v0 + d1 + d2, vd0 + n.r1 * d1 + n.r2 * d2


def voltage_after(n: Node2, v0: float, vd0: float, dt_s: float) -> float:
    """The main voltage V ``dt_s`` seconds after (v0, vd0)."""
    if n.single:
        return rc.voltage_after(v0, dt_s, n.v_inf, n.tau_s)
    a1, a2 = _modes(n, v0, vd0)
    d1, d2 = _deltas(n, a1, a2, dt_s)
    return v0 + d1 + d2


def _h2(z: float) -> float:
    """(expm1(z) − z)/z², by its series near 0 where the difference cancels."""
    if abs(z) < 1e-2:
        return 0.5 + z * (1.0 / 6.0 + z * (1.0 / 24.0 + z * (1.0 / 120.0 + z / 720.0)))
    return (math.expm1(z) - z) / (z * z)


def voltage_integral(n: Node2, v0: float, vd0: float, dt_s: float) -> float:
    """∫ V dt over the next ``dt_s`` seconds (V·s); the leakage takes this over R_leak."""
    if n.single:
        # ∫ (V∞ + (V0 − V∞)·e^(−t/τ)) dt = V0·t + (V∞ − V0)·(t + τ·expm1(−t/τ))
        z = -dt_s / n.tau_s
        return v0 * dt_s + (n.v_inf - v0) * dt_s * dt_s * _h2(z) / n.tau_s
    a1, a2 = _modes(n, v0, vd0)
    total = v0 * dt_s
    for alpha, beta, lam in ((a1, n.beta1, n.lam1), (a2, n.beta2, n.lam2)):
        z = lam * dt_s
        h2 = _h2(z)
        # ∫ expm1(λs) ds = t·z·h2(z);  ∫ expm1(λs)/λ ds = t²·h2(z)
        total += alpha * dt_s * z * h2 + beta * dt_s * dt_s * h2
    return total


def _extremum_s(n: Node2, a1: float, a2: float) -> float | None:
    """The one instant t > 0 where dV/dt = 0, if there is one."""
    k1 = a1 * n.lam1 + n.beta1
    k2 = a2 * n.lam2 + n.beta2
    if k1 == 0.0 or k2 == 0.0 or (k1 > 0.0) == (k2 > 0.0):
        return None
    ratio = -k2 / k1
    if ratio >= 1.0:  # t* ≤ 0: already past it
        return None
    return math.log(ratio) / (n.lam1 - n.lam2)


def time_to_voltage(n: Node2, v0: float, vd0: float, level_v: float) -> float:
    """Seconds until the main voltage first reaches ``level_v``, starting from (v0, vd0).

    0.0 if V is at the level now; ``math.inf`` if it never gets there. With a branch the answer
    is the right end of a bracket no wider than 1 µs (TIME_RESOLUTION_S): the voltage has reached
    the level by then, and had not 1 µs earlier. Without a branch, rc.time_to_voltage's exact
    logarithm.
    """
    if n.single:
        return rc.time_to_voltage(v0, level_v, n.v_inf, n.tau_s)
    f0 = v0 - level_v
    if f0 == 0.0:
        return 0.0
    a1, a2 = _modes(n, v0, vd0)

    def f(t: float) -> float:
        d1, d2 = _deltas(n, a1, a2, t)
        return (v0 - level_v) + d1 + d2

    lo, f_lo = 0.0, f0
    t_star = _extremum_s(n, a1, a2)
    if t_star is not None:
        f_star = f(t_star)
        if f_star == 0.0:
            return t_star
        if (f_star > 0.0) != (f0 > 0.0):
            return _solve(f, 0.0, f0, t_star, f_star)
        lo, f_lo = t_star, f_star
    # Monotone from lo on, towards V∞: reached only if the asymptote lies strictly beyond.
    f_inf = n.v_inf - level_v
    if f_inf == 0.0 or (f_inf > 0.0) == (f_lo > 0.0):
        return math.inf
    step = n.tau_s
    hi = lo + step
    f_hi = f(hi)
    while (f_hi > 0.0) == (f_lo > 0.0) and f_hi != 0.0:
        lo, f_lo = hi, f_hi
        step *= 2.0
        hi = lo + step
        if hi > _MAX_SPAN_S:
            return math.inf
        f_hi = f(hi)
    if f_hi == 0.0:
        return hi
    return _solve(f, lo, f_lo, hi, f_hi)


def _solve(f: Callable[[float], float], lo: float, f_lo: float, hi: float, f_hi: float) -> float:
    """Narrow a sign-changing bracket [lo, hi] of a monotone ``f`` to TIME_RESOLUTION_S;
    return its right end. Regula falsi with the Illinois weight, bisecting when a step fails to
    halve the bracket. Far out (beyond ~1e9 s) a float cannot hold 1 µs: the bracket then stops
    at a few units in the last place."""
    side = 0
    while hi - lo > max(TIME_RESOLUTION_S, 4.0 * math.ulp(hi)):
        width = hi - lo
        t = hi - f_hi * width / (f_hi - f_lo)
        if not lo < t < hi:
            t = lo + 0.5 * width
        ft = f(t)
        if ft == 0.0:
            return t
        if (ft > 0.0) == (f_lo > 0.0):
            lo, f_lo = t, ft
            if side == -1:
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = t, ft
            if side == 1:
                f_lo *= 0.5
            side = 1
        if hi - lo > 0.5 * width:  # slow progress: force a bisection next
            mid = lo + 0.5 * (hi - lo)
            fm = f(mid)
            if fm == 0.0:
                return mid
            if (fm > 0.0) == (f_lo > 0.0):
                lo, f_lo = mid, fm
            else:
                hi, f_hi = mid, fm
            side = 0
    return hi
