"""Customers' electricity use: hourly load by customer type, rooftop PV, and what the meter sees.

A customer's true load is an hourly series (W): a level drawn for the customer (its mean daily
energy) times the type's daily shape (weekday, Saturday and Sunday differ), a seasonal drift
(heating or cooling: ±5–35 % over the year, peaking mid-January or late July), a day factor and
an hourly noise (both log-normal), and for a few households an absence (3–10 days at a sixth of
their use). Some households have rooftop PV: its hourly output is a clear-sky arc from 06:00 to
18:00 local, larger in summer, times the day's cloudiness.

What flows through the meter: the load, less what a bypass carries past it from the theft's
start on, netted against the PV (import when the load is larger, export when the PV is). The
meter's scenario takes that as ``[[load]]`` steps, one an hour (and one at the instant the
bypass goes in).

Levels are after published single-phase figures in kind, not fitted to a utility's data: a
household uses 4–15 kWh a day (a Chinese urban household's 2020s average is about 7), a shop
about 30, a small workshop about 70; one single-phase service carries at most 20 kW here (80 A
at 230 V, rounded down). Must not know: outages, meters, files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np

from meterseal.fleet.streams import numpy_stream, stream
from meterseal.sim.scenario import LoadStep

__all__ = ["CUSTOMER_TYPES", "MAX_SERVICE_W", "Customer", "draw_customer", "hourly_load",
           "metered_steps"]

H: Final = 3_600_000_000
MAX_SERVICE_W: Final = 20_000.0

# Relative hourly shapes, 00:00..23:00 local; each is scaled to a mean of 1 below.
_HOUSEHOLD_WEEKDAY = (0.45, 0.35, 0.3, 0.3, 0.3, 0.4, 0.8, 1.3, 1.1, 0.7, 0.6, 0.8,
                      1.0, 0.8, 0.6, 0.6, 0.7, 1.1, 1.9, 2.2, 2.1, 1.8, 1.3, 0.8)
_HOUSEHOLD_WEEKEND = (0.5, 0.4, 0.35, 0.3, 0.3, 0.35, 0.5, 0.8, 1.2, 1.3, 1.2, 1.3,
                      1.4, 1.2, 1.0, 0.9, 1.0, 1.3, 1.9, 2.1, 2.0, 1.7, 1.3, 0.9)
_SHOP_OPEN = (0.25, 0.2, 0.2, 0.2, 0.2, 0.2, 0.25, 0.6, 1.4, 1.7, 1.8, 1.8,
              1.8, 1.8, 1.8, 1.8, 1.8, 1.9, 2.0, 2.0, 1.8, 1.2, 0.4, 0.3)
_WORKSHOP_DAY = (0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 1.6, 2.8, 3.0, 3.0, 2.6,
                 1.4, 2.8, 3.0, 3.0, 2.8, 1.2, 0.3, 0.15, 0.1, 0.1, 0.1, 0.1)
_WORKSHOP_SATURDAY = tuple(v if h < 12 else min(v, 0.15) for h, v in enumerate(_WORKSHOP_DAY))
_CLOSED = (0.1,) * 24


@dataclass(frozen=True, slots=True)
class CustomerType:
    name: str
    share: float
    mean_kwh_per_day: float
    spread: float  # σ of the customer level's log-normal
    hour_noise: float  # σ of the hourly log-normal factor
    week: tuple[tuple[float, ...], ...]  # Monday..Sunday shapes


CUSTOMER_TYPES: Final[tuple[CustomerType, ...]] = (
    CustomerType("household", 0.78, 7.0, 0.45, 0.35, (_HOUSEHOLD_WEEKDAY,) * 5
                 + (_HOUSEHOLD_WEEKEND,) * 2),
    CustomerType("shop", 0.17, 30.0, 0.4, 0.2, (_SHOP_OPEN,) * 7),
    CustomerType("small workshop", 0.05, 70.0, 0.35, 0.3, (_WORKSHOP_DAY,) * 5
                 + (_WORKSHOP_SATURDAY, _CLOSED)),
)


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer's drawn parameters (its hourly series follows from these and its seed)."""

    index: int
    kind: str
    kwh_per_day: float
    season_amplitude: float
    season_peak_doy: int  # 15: heating, 205: cooling
    absence: tuple[int, int] | None  # (first day, days) away
    pv_kwp: float  # 0: no PV


def draw_customer(seed: int, index: int, days: int) -> Customer:
    rng = stream(seed, f"customer/{index}")
    kind = rng.choices(CUSTOMER_TYPES, weights=[t.share for t in CUSTOMER_TYPES])[0]
    level = kind.mean_kwh_per_day * math.exp(rng.gauss(-kind.spread**2 / 2, kind.spread))
    amplitude = rng.uniform(0.05, 0.35)
    peak = 15 if rng.random() < 0.5 else 205
    absence = None
    if kind.name == "household" and rng.random() < 0.04 and days > 12:
        length = rng.randint(3, 10)
        absence = (rng.randrange(0, days - length), length)
    pv = round(rng.uniform(2.0, 5.0), 1) if kind.name == "household" and rng.random() < 0.06 \
        else 0.0
    return Customer(index, kind.name, round(level, 3), round(amplitude, 3), peak, absence, pv)


def _kind(name: str) -> CustomerType:
    return next(t for t in CUSTOMER_TYPES if t.name == name)


def hourly_load(seed: int, c: Customer, start: datetime, days: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """(load W, PV W) for every hour from ``start`` (a local midnight) for ``days`` days."""
    kind = _kind(c.kind)
    rng = numpy_stream(seed, f"load/{c.index}")
    hours = days * 24
    day = np.arange(hours) // 24
    weekday = (start.weekday() + day) % 7
    shapes = np.array([np.array(s) / np.mean(s) for s in kind.week])
    shape = shapes[weekday, np.arange(hours) % 24]
    doy = (start.timetuple().tm_yday - 1 + day) % 365
    season = 1 + c.season_amplitude * np.cos(2 * np.pi * (doy - c.season_peak_doy) / 365)
    day_factor = np.exp(rng.normal(-0.15**2 / 2, 0.15, days))[day]
    noise = np.exp(rng.normal(-kind.hour_noise**2 / 2, kind.hour_noise, hours))
    load = c.kwh_per_day * 1000 / 24 * shape * season * day_factor * noise
    if c.absence is not None:
        first, length = c.absence
        load[(day >= first) & (day < first + length)] /= 6
    pv = np.zeros(hours)
    if c.pv_kwp:
        hod = np.arange(hours) % 24 + 0.5
        arc = np.clip(np.sin(np.pi * (hod - 6) / 12), 0, None)
        summer = 0.75 + 0.25 * np.cos(2 * np.pi * (doy - 172) / 365)
        cloud = rng.uniform(0.2, 1.0, days)[day]
        pv = c.pv_kwp * 1000 * 0.8 * arc * summer * cloud
    return np.round(np.clip(load, 0, MAX_SERVICE_W), 1), np.round(pv, 1)


def _net(load_w: np.ndarray, pv_w: np.ndarray) -> tuple[list[float], list[float]]:
    """(import, export) W of a load netted against PV, to 0.1 W."""
    return (np.round(np.maximum(load_w - pv_w, 0.0), 1).tolist(),
            np.round(np.maximum(pv_w - load_w, 0.0), 1).tolist())


def metered_steps(load_w: np.ndarray, pv_w: np.ndarray, theft_us: int | None = None,
                  bypass_fraction: float = 0.0) -> tuple[LoadStep, ...]:
    """The scenario's load steps: one an hour, and one at ``theft_us`` from which the bypass
    carries ``bypass_fraction`` of the load past the meter."""
    hours = len(load_w)
    keep = np.ones(hours)
    if theft_us is not None:
        keep[-(-theft_us // H):] = 1 - bypass_fraction  # from the first hour it covers whole
    imp, exp = _net(load_w * keep, pv_w)
    steps = list(map(LoadStep, range(0, hours * H, H), imp, exp))
    if theft_us is not None and theft_us % H and 0 <= theft_us < hours * H:
        cut = theft_us // H
        (i,), (e,) = _net(load_w[cut:cut + 1] * (1 - bypass_fraction), pv_w[cut:cut + 1])
        steps.insert(cut + 1, LoadStep(theft_us, i, e))
    return tuple(steps)
