"""The measures the README's figures rest on: precision and recall at k, ROC AUC, the fit, and
the counterfactual stores (a meter that never watched in outages, one that records only on
mains), each checked on cases whose answer is known by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from meterseal.headend.analytics import analyse
from meterseal.headend.analytics.evaluate import (
    apply_variant,
    auc,
    fit,
    matrix,
    order,
    precision_at,
    recall_at,
    scores,
)
from meterseal.headend.analytics.load import load
from meterseal.headend.analytics.score import FEATURES
from meterseal.headend.analytics.weights import Weights
from tests.analytics_helpers import THIEF_BOUNDED, THIEF_EXACT, THIEF_MAINS, seed_store


def test_precision_recall_and_auc_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 0], dtype=float)
    s = np.array([0.9, 0.8, 0.7, 0.1, 0.1])
    ranked = order(s, ["a", "b", "c", "d", "e"])
    assert ranked == [0, 1, 2, 3, 4]
    assert precision_at(ranked, y, 2) == 0.5 and recall_at(ranked, y, 2) == 0.5
    assert precision_at(ranked, y, 3) == pytest.approx(2 / 3) and recall_at(ranked, y, 3) == 1
    # thief 0 beats all 3 honest, thief 2 beats 2 of 3: 5 of 6 pairs
    assert auc(s, y) == pytest.approx(5 / 6)
    assert auc(np.ones(5), y) == 0.5  # ties count half
    assert np.isnan(auc(s, np.zeros(5)))  # no thief: no AUC, not a made-up 0 or 1


def test_ties_are_broken_by_address_as_the_ranking_does() -> None:
    assert order(np.array([1.0, 1.0, 2.0]), ["b", "a", "c"]) == [2, 1, 0]


def test_the_fit_learns_what_separates() -> None:
    rng = np.random.default_rng(1)
    x = np.zeros((400, len(FEATURES)))
    y = (rng.random(400) < 0.2).astype(float)
    x[:, 0] = y * (rng.random(400) < 0.8)  # the first feature marks most thieves
    x[:, 1] = rng.random(400) < 0.3  # the second is noise
    w = fit(x, y, l2=1.0)
    assert w.get(FEATURES[0]) > 2.0 and abs(w.get(FEATURES[1])) < 1.0 and w.bias < -1.0


@pytest.fixture
def town(tmp_path: Path) -> str:
    return seed_store(f"sqlite:///{tmp_path}/s.db", tmp_path / "fleet")


def _features(url: str, variant: str) -> dict[str, dict[str, float]]:
    con = load(url)
    apply_variant(con, variant)
    addresses, x = matrix(con)
    con.close()
    return {a: dict(zip(FEATURES, row, strict=True)) for a, row in zip(addresses, x, strict=True)}


def test_a_meter_that_records_only_on_mains_loses_the_dark_openings(town: str) -> None:
    full, mains = _features(town, "full"), _features(town, "mains-only")
    assert full[THIEF_EXACT]["outage_open_exact"] == 1
    assert mains[THIEF_EXACT]["outage_open_exact"] == 0
    assert full[THIEF_BOUNDED]["outage_open_bounded"] == 1
    assert mains[THIEF_BOUNDED]["outage_open_bounded"] == 0
    assert mains[THIEF_MAINS]["mains_open_no_order"] == 1  # what happened on mains stays


def test_a_meter_that_never_watched_knows_dark_openings_as_intervals(town: str) -> None:
    bounded = _features(town, "bounded-only")
    assert bounded[THIEF_EXACT]["outage_open_exact"] == 0
    assert bounded[THIEF_EXACT]["outage_open_bounded"] == 1


def test_without_work_orders_the_staff_opening_is_unexplained(town: str) -> None:
    assert _features(town, "no-work-orders")["202600000005"]["mains_open_no_order"] == 1


def test_an_unknown_variant_is_refused(town: str) -> None:
    con = load(town)
    try:
        with pytest.raises(ValueError, match="variant 'psychic'"):
            apply_variant(con, "psychic")
    finally:
        con.close()


def test_the_fit_converges_on_a_rare_class_with_a_perfect_separator() -> None:
    """3 % thieves and one kind of evidence only thieves have: the penalty alone holds its
    weight, and the fit must land there rather than run away."""
    rng = np.random.default_rng(7)
    y = (rng.random(5000) < 0.03).astype(float)
    x = np.zeros((5000, len(FEATURES)))
    x[:, 0] = y * (rng.random(5000) < 0.7)
    w = fit(x, y, l2=10.0)
    assert np.isfinite(w.bias) and -10 < w.bias < 0
    assert 0 < w.get(FEATURES[0]) < 50
    # the same evidence on a third of the honest instead: the data turn the weight's sign
    # against the judgement that put it first
    on_honest = x.copy()
    on_honest[:, 0] = (1 - y) * (rng.random(5000) < 0.3)
    assert fit(on_honest, y, l2=0.1).get(FEATURES[0]) < 0


def test_forged_labels_and_rankings_are_refused() -> None:
    y = np.array([1, 0, 0], dtype=float)
    with pytest.raises(ValueError, match="labels: 2 for 3 meters"):
        auc(np.zeros(3), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"0 \(honest\) or 1"):
        auc(np.zeros(3), np.array([0.9, 0.1, 0.0]))  # scores passed as labels
    with pytest.raises(ValueError, match="each meter exactly once"):
        precision_at([0, 0, 1], y, 2)
    with pytest.raises(ValueError, match="visit budget"):
        recall_at([0, 1, 2], y, 0)


def test_a_thief_moved_down_the_list_changes_every_figure() -> None:
    y = np.array([1, 1, 0, 0, 0, 0], dtype=float)
    good = np.array([6, 5, 4, 3, 2, 1], dtype=float)
    worse = np.array([6, 1.5, 4, 3, 2, 1], dtype=float)
    keys = list("abcdef")
    assert precision_at(order(good, keys), y, 2) == 1.0
    assert precision_at(order(worse, keys), y, 2) == 0.5
    assert recall_at(order(worse, keys), y, 2) == 0.5
    assert auc(good, y) == 1.0 and auc(worse, y) == pytest.approx(5 / 8)


def test_weights_for_unknown_evidence_are_refused(town: str) -> None:
    typo = Weights(-6.0, {"outage_open_exakt": 5.0})
    with pytest.raises(ValueError, match="unknown evidence: outage_open_exakt"):
        scores(np.zeros((1, len(FEATURES))), typo)
    with pytest.raises(ValueError, match="outage_open_exakt"):
        analyse(town, typo)
