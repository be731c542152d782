"""2-D t-SNE map of a seeded subset of objects, for the feature-space heat maps (Fig. 1) and
the labeller's map view."""

from __future__ import annotations

import numpy as np
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
    from sklearn.manifold import TSNE

    perplexity = min(perplexity, max(2.0, (X.shape[0] - 1) / 3.0))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, n_jobs=n_jobs)
    with threadpool_limits(limits=max(1, int(n_jobs))):  # OpenMP gradient and BLAS: n_jobs too
        return tsne.fit_transform(np.asarray(X, dtype=np.float64))


EMBED_METHODS = ("tsne", "opentsne", "umap")


def embed(
    X: np.ndarray, method: str = "tsne", seed: int = 0, n_jobs: int = 1, **params: object
) -> np.ndarray:
    """2-D embedding (n, 2) float64 of ``X`` (n, m), seeded; reruns with the same seed and
    ``n_jobs`` agree exactly.

    - ``"tsne"``: scikit-learn's Barnes-Hut t-SNE, exactly :func:`tsne_map` (the default);
      ``params``: ``perplexity`` (30).
    - ``"opentsne"``: openTSNE's FFT-interpolated t-SNE (Linderman et al. 2019), O(n) per
      iteration, PCA initialisation; ``params`` go to ``openTSNE.TSNE`` (perplexity 30 unless
      given, clamped for small n as in :func:`tsne_map`).
    - ``"umap"``: UMAP (McInnes et al. 2018); ``params`` go to ``umap.UMAP``. A seed makes UMAP
      run its optimisation on one thread (its own rule), so ``n_jobs`` only bounds BLAS there.
    """
    if method not in EMBED_METHODS:
        raise ValueError(f"unknown embedding method {method!r}; use one of {EMBED_METHODS}")
    n_jobs = max(1, int(n_jobs))
    X = np.asarray(X)
    if method == "tsne":
        return tsne_map(X, seed=seed, n_jobs=n_jobs, **params)  # type: ignore[arg-type]
    kwargs = dict(params)
    with threadpool_limits(limits=n_jobs):
        if method == "opentsne":
            from openTSNE import TSNE as OpenTSNE

            perplexity = float(kwargs.pop("perplexity", 30.0))  # type: ignore[arg-type]
            perplexity = min(perplexity, max(2.0, (X.shape[0] - 1) / 3.0))
            kwargs.setdefault("initialization", "pca")
            kwargs.setdefault("negative_gradient_method", "fft")
            model = OpenTSNE(
                n_components=2, perplexity=perplexity, random_state=seed, n_jobs=n_jobs, **kwargs
            )
            return np.asarray(model.fit(np.asarray(X, dtype=np.float64)), dtype=np.float64)
        import warnings

        from umap import UMAP

        with warnings.catch_warnings():  # "n_jobs value 1 overridden ... by setting random_state"
            warnings.filterwarnings("ignore", message=".*random_state.*", category=UserWarning)
            model = UMAP(n_components=2, random_state=seed, n_jobs=1, **kwargs)
            return np.asarray(
                model.fit_transform(np.asarray(X, dtype=np.float32)), dtype=np.float64
            )
