"""Theft-suspicion analytics over the head-end store, in DuckDB: the store loaded (load.py),
evidence as SQL views (features.py), a score with reasons in words (score.py, reasons.py), one
meter's timeline (explain.py), and the measures against known thieves (evaluate.py).

``analyse(url)`` is the one call the command line and the dashboard make."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from meterseal.headend.analytics.explain import Timeline, timeline
from meterseal.headend.analytics.features import build
from meterseal.headend.analytics.load import AnalyticsError, load
from meterseal.headend.analytics.score import Suspect, rank
from meterseal.headend.analytics.weights import DEFAULT, Weights

__all__ = ["Analysis", "AnalyticsError", "Suspect", "Timeline", "analyse"]


@dataclass(slots=True)
class Analysis:
    """A store loaded and scored: the ranking, and each meter's timeline on demand."""

    con: duckdb.DuckDBPyConnection
    ranking: list[Suspect]

    def timeline(self, address: str) -> Timeline:
        return timeline(self.con, self.ranking, address)

    def close(self) -> None:
        self.con.close()


def analyse(url: str, weights: Weights = DEFAULT) -> Analysis:
    """Load the store at ``url``, build the evidence, rank every registered meter."""
    con = load(url)
    build(con)
    return Analysis(con, rank(con, weights))
