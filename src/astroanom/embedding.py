"""2-D t-SNE map of a seeded subset of objects, for the feature-space heat maps (Fig. 1) and
the labeller's map view."""

from __future__ import annotations

import numpy as np
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits


def choose_subset(n: int, size: int, seed: int, always: np.ndarray | None = None) -> np.ndarray:
    """Sorted row indices: ``size`` drawn without replacement (seeded) plus every index in
    ``always`` (e.g. the labelled objects)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(n, size=min(size, n), replace=False)
    if always is not None:
        pick = np.union1d(pick, np.asarray(always, dtype=np.int64))
    return np.sort(pick)


def tsne_map(X: np.ndarray, seed: int, perplexity: float = 30.0, n_jobs: int = 1) -> np.ndarray:
    """t-SNE embedding (n, 2) of ``X`` (n, m); PCA initialisation, seeded, so reruns agree."""
    perplexity = min(perplexity, max(2.0, (X.shape[0] - 1) / 3.0))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, n_jobs=n_jobs)
    with threadpool_limits(limits=max(1, int(n_jobs))):  # OpenMP gradient and BLAS: n_jobs too
        return tsne.fit_transform(np.asarray(X, dtype=np.float64))
