"""Approximate neighbours re-ranked exactly: exhaustive settings reproduce the exact search;
the isolation-forest backends; LOF switches to approximate neighbours only above its size."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.detect.ann import approx_kneighbors
from astroanom.detect.detectors import IsolationForestDetector, LocalOutlierFactor, make_detector
from astroanom.detect.knn import kneighbors
from astroanom.errors import AstroanomError

pytest.importorskip("faiss")


def _data(n: int = 1500, m: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m)).astype(np.float32)
    X[:15] += 6.0  # a small far cluster
    return X


def test_exhaustive_ivf_equals_the_exact_search():
    X = _data()
    de, ie = kneighbors(X, 10)
    # nprobe = nlist visits every cell: the candidates are the exact k + margin nearest
    da, ia = approx_kneighbors(X, 10, method="ivf", nlist=8, nprobe=8)
    assert np.array_equal(ia, ie)
    assert np.array_equal(da, de)  # both exact float64 re-ranks of the same pairs
    assert da.dtype == np.float64 and ia.dtype == np.int64
    assert not (ia == np.arange(X.shape[0])[:, None]).any()


def test_hnsw_recall_and_sorted_exact_distances():
    X = _data(seed=1)
    de, ie = kneighbors(X, 10)
    da, ia = approx_kneighbors(X, 10, method="hnsw", ef_search=64)
    recall = np.mean([np.intersect1d(a, b).size for a, b in zip(ia, ie, strict=True)]) / 10
    assert recall >= 0.99
    assert (np.diff(da, axis=1) >= 0).all()
    exact = np.linalg.norm(X[ia].astype(np.float64) - X[:, None, :].astype(np.float64), axis=2)
    np.testing.assert_allclose(da, exact, rtol=1e-12)


def test_bad_arguments():
    X = _data(n=50)
    with pytest.raises(ValueError, match="unknown approximate"):
        approx_kneighbors(X, 5, method="lsh")
    with pytest.raises(ValueError, match="k must be"):
        approx_kneighbors(X, 50)


def test_lof_uses_approximate_neighbours_only_above_the_size():
    X = _data()
    exact = LocalOutlierFactor(n_neighbors=10).fit_score(X)
    below = LocalOutlierFactor(n_neighbors=10, approximate_above=X.shape[0]).fit_score(X)
    assert np.array_equal(below, exact)
    approx = LocalOutlierFactor(
        n_neighbors=10,
        approximate_above=100,
        approximate="ivf",
        approximate_params={"nlist": 8, "nprobe": 8},
    ).fit_score(X)
    assert np.array_equal(approx, exact)  # exhaustive IVF: the same neighbours
    det = make_detector("lof", n_neighbors=10, approximate_above=100)
    assert det.approximate == "ivf" and det.approximate_above == 100


def test_iforest_backends():
    X = _data(n=600)
    sk = IsolationForestDetector(n_estimators=20, seed=2).fit_score(X)
    assert np.array_equal(sk, IsolationForestDetector(n_estimators=20, seed=2).fit_score(X))
    with pytest.raises(AstroanomError, match="backend"):
        IsolationForestDetector(backend="h2o")
    pytest.importorskip("coniferest")
    a = IsolationForestDetector(n_estimators=50, seed=2, backend="coniferest", n_jobs=2)
    b = IsolationForestDetector(n_estimators=50, seed=2, backend="coniferest", n_jobs=1)
    sa, sb = a.fit_score(X), b.fit_score(X)
    assert np.array_equal(sa, sb)  # seeded and independent of the thread count
    assert sa.shape == (600,) and (sa < 0).all() and (sa >= -1).all()  # -2^(-E[h]/c)
    # the shifted cluster is isolated first by both backends
    assert sa[:15].mean() < np.median(sa) and sk[:15].mean() < np.median(sk)
