"""The labelling loop's two shortcuts give the same bytes as the long way: the next batch by a
partition (ordering.top_order) instead of a full sort, and each round's distances to the
labelled objects from the previous round's plus the new batch's (RelevanceLearner)."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.active.loop import labelling_loop
from astroanom.active.score import RelevanceLearner, nearest_labelled_distance
from astroanom.active.strategies import PaperScore
from astroanom.ordering import rank_order, top_order, without


def test_top_order_by_hand():
    s = np.array([1.0, 3.0, np.nan, 3.0, 2.0, 3.0])
    assert top_order(s, 2).tolist() == [1, 3]  # ties with the 2nd best: the first in order
    assert top_order(s, 4).tolist() == [1, 3, 5, 4]
    assert top_order(s, 6).tolist() == [1, 3, 5, 4, 0, 2]  # NaN last
    skip = np.array([False, True, False, False, False, False])
    assert top_order(s, 3, skip).tolist() == [3, 5, 4]
    assert top_order(np.array([np.nan, 1.0, np.nan]), 2).tolist() == [1, 0]
    assert top_order(s, 0).tolist() == []


@pytest.mark.parametrize("seed", range(6))
def test_top_order_is_the_head_of_rank_order(seed):
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        s = rng.integers(0, 4, n).astype(float) if seed % 2 else rng.normal(size=n)
        s[rng.random(n) < 0.2] = np.nan
        s[rng.random(n) < 0.1] = -0.0
        skip = rng.random(n) < 0.3
        k = int(rng.integers(0, n + 2))
        assert np.array_equal(top_order(s, k), rank_order(s)[:k])
        assert np.array_equal(top_order(s, k, skip), without(rank_order(s), skip)[:k])


def _data(n: int = 3000, m: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    X[:40] += 3.0  # a cluster of wanted objects
    S = np.clip(5 * rng.random(n), 0, 5)
    return X.astype(np.float32), S  # float32 features, as the workflow reads them


def test_incremental_distances_equal_the_full_computation():
    X, _ = _data(n=5000, m=21)
    rows = np.random.default_rng(1).choice(X.shape[0], 120, replace=False)
    learner = RelevanceLearner(n_estimators=5, seed=0, n_jobs=2)
    for k in (10, 20, 20, 50, 120):  # growing, the same again, growing by more
        got = learner._distances(X, rows[:k])
        assert np.array_equal(got, nearest_labelled_distance(X, rows[:k], n_jobs=2)), k
    other = rows[::-1][:30]  # not an extension of the last set: computed afresh
    assert np.array_equal(learner._distances(X, other), nearest_labelled_distance(X, other))
    assert np.array_equal(
        learner._distances(X.copy(), rows[:10]), nearest_labelled_distance(X, rows[:10])
    )


class _Fresh(PaperScore):
    """PaperScore with a new learner for every refit: no distances carried over."""

    def _score(self) -> np.ndarray:
        self.learner = RelevanceLearner(self.learner.n_estimators, self.learner.seed, 1)
        return super()._score()


def test_loop_scores_equal_a_loop_without_carried_distances():
    X, S = _data()
    truth = (np.arange(X.shape[0]) < 40).astype(float) * 5

    def oracle(rows: np.ndarray) -> np.ndarray:
        return truth[rows]

    fast = labelling_loop(X, S, oracle, PaperScore(1.0, 10, seed=3), batch=10, budget=60)
    slow = labelling_loop(X, S, oracle, _Fresh(1.0, 10, seed=3), batch=10, budget=60)
    assert fast.rounds == 6
    assert np.array_equal(fast.shown, slow.shown)
    assert np.array_equal(fast.scores, slow.scores)  # bit for bit, every round
