"""The compiled forest prediction and the threaded distances equal the reference computations
bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from astroanom.active import RelevanceLearner, nearest_labelled_distance
from astroanom.forest import forest_predict

pytest.importorskip("numba")


def _data(n: int = 3000, m: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m)).astype(np.float32)
    lab = rng.choice(n, 80, replace=False)
    y = rng.integers(0, 6, lab.size).astype(np.float64)
    return X, lab, y


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_forest_predict_is_bit_identical_to_sklearn(n_jobs):
    X, lab, y = _data()
    rf = RandomForestRegressor(n_estimators=15, random_state=1, n_jobs=1).fit(X[lab], y)
    ref = rf.predict(X)
    got = forest_predict(rf, X, n_jobs=n_jobs)
    assert got.dtype == np.float64 and got.shape == (X.shape[0],)
    assert np.array_equal(got, ref)
    # float64 input is cast to float32 first, as scikit-learn does
    assert np.array_equal(
        forest_predict(rf, X.astype(np.float64)), rf.predict(X.astype(np.float64))
    )


def test_forest_predict_one_stump_by_hand():
    X = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    rf = RandomForestRegressor(n_estimators=1, bootstrap=False, max_depth=1, random_state=0)
    rf.fit(X, np.array([0.0, 0.0, 4.0, 4.0]))  # split at 1.5: left mean 0, right mean 4
    q = np.array([[1.4], [1.5], [1.6], [-9.0]], dtype=np.float32)
    assert forest_predict(rf, q).tolist() == [0.0, 0.0, 4.0, 0.0]


def test_forest_predict_rejects_bad_input():
    X, lab, y = _data(n=200)
    rf = RandomForestRegressor(n_estimators=3, random_state=0).fit(X[lab], y)
    with pytest.raises(ValueError, match="shape"):
        forest_predict(rf, X[:, :3])
    bad = X.copy()
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        forest_predict(rf, bad)


def test_learner_numba_predictor_equals_sklearn_predictor():
    X, lab, y = _data(seed=2)
    S = np.linspace(0, 5, X.shape[0])
    a = RelevanceLearner(20, seed=3, n_jobs=1).retrain(X, S, lab, y)
    b = RelevanceLearner(20, seed=3, n_jobs=2, predictor="numba").retrain(X, S, lab, y)
    for f in ("U", "d", "score"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    with pytest.raises(ValueError, match="predictor"):
        RelevanceLearner(predictor="fast")


def test_distances_equal_the_one_block_formula_for_any_blocking_and_threads():
    X, lab, _ = _data(n=5000, m=21, seed=4)
    Y = X[lab].astype(np.float64)
    A = X.astype(np.float64)
    # the formula of the previous implementation, over the whole matrix at once
    d2 = (
        np.einsum("ij,ij->i", A, A)[:, None]
        + np.einsum("ij,ij->i", Y, Y)[None, :]
        - 2.0 * (A @ Y.T)
    )
    ref = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    ref[lab] = 0.0
    for block_rows, n_jobs in [(8192, 1), (2048, 1), (777, 2), (64, 3)]:
        got = nearest_labelled_distance(X, lab, block_rows=block_rows, n_jobs=n_jobs)
        assert np.array_equal(got, ref), (block_rows, n_jobs)
    brute = np.sqrt(((A[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    np.testing.assert_allclose(ref, brute, rtol=1e-6, atol=1e-5)
