"""The suspicion score and its reasons in words.

Owns: turning a meter's evidence row (features.py ``meter_evidence``) into the model's inputs
(each kind of evidence present or not, a second unexplained opening, consumption drops against
the peers as fractions 0..1), the score (a logistic model, weights.py; 0..100), and one sentence
per piece of evidence that moved it, with its numbers — the opening and how its time is known,
the work order that is missing, the drop.

A meter whose model cannot see an opening during an outage is never called clean: its caveats
say so, beside its score.

Must not know: how the evidence was computed (features.py), the fleet's ground truth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb

from meterseal.headend.analytics.weights import DEFAULT, Weights

COUNTS: Final = ("outage_open_exact", "outage_open_bounded", "mains_open_no_order",
                 "unknown_open_no_order", "unsynced_open", "open_with_order",
                 "open_in_local_cut", "local_cuts", "clears_near_open", "clock_changes_near_open",
                 "terminal_open_no_order")
DROPS: Final = {"drop_open_7d": "open_change_7d", "drop_open_30d": "open_change_30d",
                "drop_cut_30d": "cut_change_30d", "drop_outage_30d": "outage_change_30d"}
UNEXPLAINED: Final = ("outage_open_exact", "outage_open_bounded", "mains_open_no_order",
                      "unknown_open_no_order", "unsynced_open", "terminal_open_no_order")
FEATURES: Final = (*COUNTS, "repeat_unexplained", *DROPS)
QUALITY_RANK: Final = {"exact": 0, "deferred": 1, "bounded": 2, "unknown": 3, "unsynced": 4}


@dataclass(frozen=True, slots=True)
class Suspect:
    address: str
    feeder: str
    customer_type: str
    meter_model: str
    sees_outage_openings: bool
    collected: bool
    score: float  # 0..100
    features: dict[str, float]
    reasons: tuple[str, ...]
    caveats: tuple[str, ...]  # what the score cannot know (a model blind in outages, ...)
    qualities: tuple[str, ...]  # time qualities of its openings no work order covers

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "score": round(self.score, 1), "feeder": self.feeder,
                "customer_type": self.customer_type, "meter_model": self.meter_model,
                "sees_outage_openings": self.sees_outage_openings,
                "collected": self.collected, "qualities": list(self.qualities),
                "reasons": list(self.reasons), "caveats": list(self.caveats),
                "features": {k: round(v, 4) for k, v in self.features.items()}}


def inputs(row: dict[str, Any]) -> dict[str, float]:
    """The model's inputs from one ``meter_evidence`` row: whether each kind of evidence is
    there (a second opening of a kind is not a second kind of evidence: it counts once, in
    ``repeat_unexplained`` — a thief who came back), and the drops against the peers."""
    x = {name: float(min(int(row[name] or 0), 1)) for name in COUNTS}
    x["repeat_unexplained"] = float(sum(int(row[n] or 0) for n in UNEXPLAINED) >= 2)
    for name, column in DROPS.items():
        change = row[column]
        x[name] = 0.0 if change is None else min(max(-float(change), 0.0), 1.0)
    return x


def check(w: Weights, names: Sequence[str] = FEATURES) -> None:
    """Refuse weights for evidence the model does not have: a misspelt name would otherwise
    weigh nothing, silently."""
    unknown = sorted(set(w.weights) - set(names))
    if unknown:
        raise ValueError(f"weights for unknown evidence: {', '.join(unknown)}")


def logit(x: dict[str, float], w: Weights) -> float:
    return w.bias + sum(w.get(k) * v for k, v in x.items())


def probability(z: float) -> float:
    return 100.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def evidence_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cur = con.execute("SELECT * FROM meter_evidence ORDER BY address")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def rank(con: duckdb.DuckDBPyConnection, weights: Weights = DEFAULT) -> list[Suspect]:
    """Every registered meter, most suspicious first (ties: by address)."""
    from meterseal.headend.analytics.reasons import Details, caveats

    check(weights)
    details = Details.load(con)
    out = []
    for row in evidence_rows(con):
        x = inputs(row)
        out.append(Suspect(
            address=row["address"], feeder=row["feeder"], customer_type=row["customer_type"],
            meter_model=row["meter_model"], sees_outage_openings=bool(row["sees_outage_openings"]),
            collected=bool(row["collected"]), score=probability(logit(x, weights)), features=x,
            reasons=details.reasons(row, x, weights), caveats=caveats(row),
            qualities=details.qualities(row["address"]),
        ))
    out.sort(key=lambda s: (-s.score, s.address))
    return out
