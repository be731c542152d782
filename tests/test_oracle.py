"""Oracles and the labelling loops: invariants of the incremental loop and the single retrain."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.active.loop import incremental_loop, next_to_label, single_retrain
from astroanom.active.oracle import ClassOracle, FractionOracle
from astroanom.active.score import RelevanceLearner
from astroanom.errors import ConfigError
from astroanom.evaluate.metrics import rank_order
from astroanom.sources.simulation import simulate

RELEVANCE = {0: 0, 1: 0, 2: 3, 3: 0, 4: 5}


@pytest.fixture(scope="module")
def small(paper_preset):
    d = simulate(paper_preset, {0: 400, 1: 400, 2: 30, 3: 30, 4: 30}, seed=2)
    rng = np.random.default_rng(0)
    S = rng.uniform(0, 5, d.features.shape[0])
    S[d.classes == 3] += 5  # boring class on top, as LOF does in the paper
    return d, S


def test_class_oracle_maps_and_refuses_missing_class():
    o = ClassOracle(np.array([0, 4, 2, 3]), RELEVANCE)
    np.testing.assert_array_equal(o(np.array([1, 2, 3, 0])), [5, 3, 0, 0])
    with pytest.raises(ConfigError, match=r"no entry for class\(es\) \[4\]"):
        ClassOracle(np.array([0, 4]), {0: 0, 1: 0})
    with pytest.raises(ConfigError, match="0..5"):
        ClassOracle(np.array([0]), {0: 7})


def test_fraction_oracle_rounds_5f():
    o = FractionOracle(np.array([0.0, 0.09, 0.11, 0.5, 0.95, 1.0]))
    np.testing.assert_array_equal(o(np.arange(6)), [0, 0, 1, 2, 5, 5])
    with pytest.raises(ConfigError):
        FractionOracle(np.array([1.5]))


def test_next_to_label_skips_already_labelled():
    score = np.array([1.0, 9.0, 8.0, 7.0])
    np.testing.assert_array_equal(next_to_label(score, np.array([1]), 2), [2, 3])


def test_incremental_loop_invariants(small):
    d, S = small
    oracle = ClassOracle(d.classes, RELEVANCE)
    res = incremental_loop(d.features, S, oracle, RelevanceLearner(10, seed=1), batch=10, budget=50)
    np.testing.assert_array_equal(res.n_labels, [0, 10, 20, 30, 40, 50])
    assert np.unique(res.labelled).size == 50  # never relabels
    np.testing.assert_array_equal(res.labels, oracle(res.labelled))
    np.testing.assert_array_equal(res.scores[0], S)
    for r in range(5):  # each batch is the top of the previous round's ranking, unlabelled only
        before = res.labelled[: 10 * r]
        expect = next_to_label(res.scores[r], before, 10)
        np.testing.assert_array_equal(res.labelled[10 * r : 10 * r + 10], expect)
    # the boring class was on top; after labelling it is pushed down
    top = rank_order(res.scores[-1])[:30]
    assert (d.classes[top] == 3).mean() < (d.classes[rank_order(S)[:30]] == 3).mean()


def test_single_retrain_labels_top_by_S(small):
    d, S = small
    oracle = ClassOracle(d.classes, RELEVANCE)
    lab, labels, res = single_retrain(
        d.features, S, oracle, RelevanceLearner(10, seed=1), n_labels=25
    )
    np.testing.assert_array_equal(lab, rank_order(S)[:25])
    np.testing.assert_array_equal(res.U[lab], labels)
    assert (res.d[lab] == 0).all()


def test_loop_config_errors(small):
    d, S = small
    with pytest.raises(ConfigError):
        incremental_loop(
            d.features,
            S,
            ClassOracle(d.classes, RELEVANCE),
            RelevanceLearner(5),
            batch=20,
            budget=10,
        )
