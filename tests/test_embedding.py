"""embed(): the default is the existing t-SNE bit for bit; every method is seeded and repeatable."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.evaluate.embedding import embed, tsne_map


def _blobs(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated Gaussian blobs in 8-D (labels 0/1)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 8)) + 12.0 * y[:, None]
    return X.astype(np.float32), y


def test_default_is_the_existing_tsne_map():
    X, _ = _blobs(150)
    assert np.array_equal(embed(X, seed=3), tsne_map(X, seed=3))
    assert np.array_equal(embed(X, "tsne", seed=3, perplexity=10.0), tsne_map(X, 3, 10.0))


@pytest.mark.parametrize("method", ["opentsne", "umap"])
def test_methods_are_seeded_repeatable_and_keep_blobs_apart(method):
    pytest.importorskip("openTSNE" if method == "opentsne" else "umap")
    X, y = _blobs(200)
    short = (
        {"n_iter": 60, "early_exaggeration_iter": 40} if method == "opentsne" else {"n_epochs": 40}
    )
    a = embed(X, method, seed=1, n_jobs=2, **short)
    b = embed(X, method, seed=1, n_jobs=2, **short)
    assert a.shape == (X.shape[0], 2) and a.dtype == np.float64 and np.isfinite(a).all()
    assert np.array_equal(a, b)
    # the two blobs stay apart: every point is nearer its own blob's centre than the other's
    c0, c1 = a[y == 0].mean(axis=0), a[y == 1].mean(axis=0)
    near0 = np.linalg.norm(a - c0, axis=1) < np.linalg.norm(a - c1, axis=1)
    assert np.array_equal(near0, y == 0)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown embedding method"):
        embed(np.zeros((5, 2)), "pca")
