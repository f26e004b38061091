"""Measuring the score against known thieves: the ranking metrics, fitting the weights, and the
store as other meters would have recorded it (the ablations).

Owns: precision at k, recall at k, ROC AUC (ties counted half); a logistic regression with an L2
penalty fitted by Newton's method (numpy); and the two counterfactual stores the seed's value is
measured with — ``bounded-only`` (every opening seen during an outage known only as the outage's
interval: a meter that reconciles at power-up but never watched) and ``mains-only`` (no opening
during an outage recorded at all: a meter that records only on mains); and ``no-work-orders``
(the utility's work orders unknown to the analytics).

Labels come from the caller; this module never reads a fleet's ground truth itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import duckdb
import numpy as np

from meterseal.headend.analytics import features
from meterseal.headend.analytics.score import FEATURES, check, evidence_rows, inputs
from meterseal.headend.analytics.weights import JUDGEMENT, Weights

VARIANTS: Final = ("full", "bounded-only", "mains-only", "no-work-orders")


def apply_variant(con: duckdb.DuckDBPyConnection, variant: str) -> None:
    """Rewrite the loaded store's cover_open as a meter of that kind would have recorded it,
    then (re)build the evidence."""
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}: one of {', '.join(VARIANTS)}")
    if variant != "full":
        features.build(con)  # to know which openings fell in an outage
        con.execute("CREATE OR REPLACE TEMP TABLE _in_outage AS"
                    " SELECT o.address, o.seq, min(g.started_at) AS nb, max(g.ended_at) AS na"
                    " FROM opening o JOIN outage g ON g.address = o.address"
                    " AND o.latest >= g.started_at AND o.earliest <= g.ended_at"
                    " WHERE o.quality <> 'unsynced' GROUP BY ALL")
    if variant == "bounded-only":
        con.execute("UPDATE cover_open SET time_quality = 'bounded', not_before = i.nb,"
                    " not_after = i.na FROM _in_outage i WHERE i.address ="
                    " cover_open.meter_address AND i.seq = cover_open.seq")
    elif variant == "no-work-orders":
        con.execute("DELETE FROM work_order")
    elif variant == "mains-only":
        con.execute("DELETE FROM cover_open WHERE EXISTS (SELECT 1 FROM _in_outage i"
                    " WHERE i.address = cover_open.meter_address AND i.seq = cover_open.seq)")
    features.build(con)


def matrix(con: duckdb.DuckDBPyConnection) -> tuple[list[str], np.ndarray]:
    """Addresses and the model's inputs (rows in FEATURES order) of every registered meter."""
    rows = evidence_rows(con)
    x = np.array([[inputs(r)[f] for f in FEATURES] for r in rows], dtype=float)
    return [r["address"] for r in rows], x.reshape(len(rows), len(FEATURES))


def fit(x: np.ndarray, y: np.ndarray, names: Sequence[str] = FEATURES, l2: float = 1.0,
        fitted_on: str = "", prior: Weights = JUDGEMENT) -> Weights:
    """Logistic regression whose weights (not the bias) are pulled towards ``prior`` with an L2
    penalty ``l2``: where the fleets cannot tell two kinds of evidence apart (both separate the
    thieves perfectly), the judgement's order between them stands instead of an arbitrary tie."""
    a = np.hstack([np.ones((len(x), 1)), x])
    centre = np.array([0.0, *(prior.get(n) for n in names)])
    penalty = np.full(a.shape[1], l2)
    penalty[0] = 0.0

    def loss(w: np.ndarray) -> float:
        z = a @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z)
                     + 0.5 * np.sum(penalty * (w - centre) ** 2))

    w = centre.copy()
    # Start the bias at the base rate: from the prior's own bias a full Newton step on a rare
    # class can overshoot by orders of magnitude (thieves are 3 % of a fleet).
    rate = min(max(float(np.mean(y)), 1e-6), 1 - 1e-6)
    w[0] = np.log(rate / (1 - rate)) - float(np.mean(a[:, 1:] @ centre[1:]))
    current = loss(w)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (p - y) + penalty * (w - centre)
        hess = (a.T * (p * (1 - p))) @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        # Halve the step until the penalised loss falls: plain Newton diverges where a feature
        # separates the classes and the penalty alone holds its weight.
        t = 1.0
        while t > 1e-6 and loss(w - t * step) > current:
            t /= 2
        w -= t * step
        current = loss(w)
        if float(np.max(np.abs(t * step))) < 1e-8:
            break
    return Weights(float(w[0]), {n: round(float(v), 4) for n, v in zip(names, w[1:],
                                                                       strict=True)}, fitted_on)


def scores(x: np.ndarray, w: Weights, names: Sequence[str] = FEATURES) -> np.ndarray:
    check(w, names)
    return w.bias + x @ np.array([w.get(n) for n in names])


def order(s: np.ndarray, keys: Sequence[str]) -> list[int]:
    """Indices by score, highest first; ties broken by key (as the ranking does)."""
    return sorted(range(len(s)), key=lambda i: (-s[i], keys[i]))


def labels(y: np.ndarray, n: int) -> np.ndarray:
    """``y`` checked as one 0/1 label per meter: a label file of another fleet, or scores
    mistaken for labels, would otherwise still yield plausible-looking figures."""
    y = np.asarray(y, dtype=float)
    if y.shape != (n,):
        raise ValueError(f"labels: {y.shape[0] if y.ndim else 0} for {n} meters")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels: each is 0 (honest) or 1 (a thief)")
    return y


def _ranking(ranked: Sequence[int], y: np.ndarray, k: int) -> np.ndarray:
    y = labels(y, len(y))
    if k < 1:
        raise ValueError(f"k: a visit budget of at least 1, got {k}")
    if sorted(ranked) != list(range(len(y))):
        raise ValueError("ranked: each meter exactly once")
    return y


def precision_at(ranked: Sequence[int], y: np.ndarray, k: int) -> float:
    y = _ranking(ranked, y, k)
    top = ranked[:k]
    return float(sum(y[i] for i in top) / max(len(top), 1))


def recall_at(ranked: Sequence[int], y: np.ndarray, k: int) -> float:
    y = _ranking(ranked, y, k)
    total = float(np.sum(y))
    return float(sum(y[i] for i in ranked[:k]) / total) if total else float("nan")


def auc(s: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC: the chance a random thief outscores a random honest customer (ties half)."""
    y = labels(y, len(s))
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))
