"""Retrain at scale: the threaded row-block prediction and the threaded distances equal the
single-threaded reference computations bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from astroanom.active.score import (
    RelevanceLearner,
    nearest_labelled_distance,
    predict_in_row_blocks,
)


def _data(n: int = 3000, m: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m)).astype(np.float32)
    lab = rng.choice(n, 80, replace=False)
    y = rng.integers(0, 6, lab.size).astype(np.float64)
    return X, lab, y


@pytest.mark.parametrize(("n_jobs", "min_rows"), [(1, 1), (2, 1), (3, 500), (4, 10**6)])
def test_row_blocks_equal_a_single_threaded_predict(n_jobs, min_rows):
    X, lab, y = _data()
    rf = RandomForestRegressor(n_estimators=15, random_state=1, n_jobs=1).fit(X[lab], y)
    ref = rf.predict(X)
    got = predict_in_row_blocks(rf, X, n_jobs=n_jobs, min_rows=min_rows)
    assert got.shape == (X.shape[0],) and np.array_equal(got, ref)
    assert rf.n_jobs == 1  # prediction threads are ours


def test_learner_result_does_not_depend_on_threads():
    X, lab, y = _data(n=140_000, m=4, seed=2)  # > 2 x 65536 rows: two prediction blocks
    S = np.linspace(0, 5, X.shape[0])
    a = RelevanceLearner(10, seed=3, n_jobs=1).retrain(X, S, lab, y, alpha=1.0)
    b = RelevanceLearner(10, seed=3, n_jobs=2).retrain(X, S, lab, y, alpha=1.0)
    for f in ("U", "d", "score"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def _sequential_squared(A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """(|x|^2 + |y|^2) - 2 x.y (n, k) with every sum over the features in order, one IEEE
    multiplication and addition at a time (numpy elementwise: no BLAS, no fused ops)."""
    x2 = np.zeros(A.shape[0])
    y2 = np.zeros(Y.shape[0])
    g = np.zeros((A.shape[0], Y.shape[0]))
    for c in range(A.shape[1]):
        x2 = x2 + A[:, c] * A[:, c]
        y2 = y2 + Y[:, c] * Y[:, c]
        g = g + A[:, c, None] * Y[None, :, c]
    return (x2[:, None] + y2[None, :]) - 2.0 * g


def test_distances_equal_the_sequential_formula_for_any_blocking_threads_and_label_order():
    X, lab, _ = _data(n=5000, m=21, seed=4)
    Y = X[lab].astype(np.float64)
    A = X.astype(np.float64)
    ref = np.sqrt(np.maximum(_sequential_squared(A, Y).min(axis=1), 0.0))
    ref[lab] = 0.0
    for block_rows, n_jobs in [(8192, 1), (2048, 1), (777, 2), (64, 3)]:
        got = nearest_labelled_distance(X, lab, block_rows=block_rows, n_jobs=n_jobs)
        assert np.array_equal(got, ref), (block_rows, n_jobs)
    # one label at a time, in another order, ends bit for bit where all at once ends
    from astroanom.active._distance_numba import min_squared_distance, squared_norms

    t = np.full(X.shape[0], np.inf)
    x2 = squared_norms(X)
    for j in lab[::-1]:
        min_squared_distance(X, X[j : j + 1], out=t, x2=x2)
    one = np.sqrt(np.maximum(t, 0.0))
    one[lab] = 0.0
    assert np.array_equal(one, ref)
    brute = np.sqrt(((A[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(ref, brute, rtol=1e-6, atol=1e-5)
