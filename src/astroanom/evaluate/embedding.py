"""2-D t-SNE map of a seeded subset of objects, for the feature-space heat maps (Fig. 1) and
the labeller's map view. Each method logs bounded progress lines (:mod:`astroanom.progress`):
t-SNE and openTSNE their iterations, UMAP its epochs."""

from __future__ import annotations

import contextlib
import logging

import numpy as np
from threadpoolctl import threadpool_limits

from astroanom.progress import Progress, ProgressStream

log = logging.getLogger("astroanom.embedding")

#: scikit-learn's t-SNE prints this every 50 iterations at verbose=2 (the only output used).
TSNE_ITERATION = r"\[t-SNE\] Iteration (\d+)"
#: The tqdm bar UMAP draws over its epochs, formatted as this (n done, total).
UMAP_EPOCHS = r"epochs (\d+)/(\d+)"


def choose_subset(n: int, size: int, seed: int, always: np.ndarray | None = None) -> np.ndarray:
    """Sorted row indices: ``size`` drawn without replacement (seeded) plus every index in
    ``always`` (e.g. the labelled objects)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(n, size=min(size, n), replace=False)
    if always is not None:
        pick = np.union1d(pick, np.asarray(always, dtype=np.int64))
    return np.sort(pick)


def varying_columns(X: np.ndarray) -> int:
    """How many columns of ``X`` (n, m) take more than one value (ignoring NaN)."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[0] == 0:
        return 0
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(X, axis=0) - np.nanmin(X, axis=0) if X.shape[1] else np.empty(0)
    return int(np.count_nonzero(spread > 0))


def degenerate_map(X: np.ndarray) -> np.ndarray | None:
    """The map when there is nothing to embed, else None: fewer than 3 objects (t-SNE needs
    a perplexity below n) lie on the x axis at 0, 1; objects whose features are all constant
    (0 varying columns: they are one point in feature space) all lie at (0, 0)."""
    n = X.shape[0]
    if n < 3:
        return np.column_stack([np.arange(n, dtype=np.float64), np.zeros(n)])
    if varying_columns(X) == 0:
        log.warning("every feature is constant over the %d mapped objects: all lie at (0, 0)", n)
        return np.zeros((n, 2))
    return None


def _init(X: np.ndarray) -> str:
    """PCA initialisation needs two varying features; with one (a single-feature table), the
    seeded random start is used."""
    if varying_columns(X) >= 2:
        return "pca"
    log.info("one varying feature: the map starts from a seeded random layout, not PCA")
    return "random"


def tsne_map(X: np.ndarray, seed: int, perplexity: float = 30.0, n_jobs: int = 1) -> np.ndarray:
    """t-SNE embedding (n, 2) of ``X`` (n, m); PCA initialisation (a seeded random one when
    fewer than two features vary), seeded, so reruns agree; see :func:`degenerate_map` for
    fewer than 3 objects or no varying feature."""
    from sklearn.manifold import TSNE

    flat = degenerate_map(X)
    if flat is not None:
        return flat
    perplexity = min(perplexity, max(2.0, (X.shape[0] - 1) / 3.0))
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init=_init(X),
        random_state=seed,
        n_jobs=n_jobs,
        verbose=2,  # printing only: the iterations become progress lines
    )
    bar = Progress(f"t-SNE map of {X.shape[0]} objects", tsne.max_iter, "iterations", log)
    stream = ProgressStream(bar, TSNE_ITERATION)
    with (
        threadpool_limits(limits=max(1, int(n_jobs))),  # OpenMP gradient and BLAS: n_jobs too
        contextlib.redirect_stdout(stream),
    ):
        out = tsne.fit_transform(np.asarray(X, dtype=np.float64))
    stream.close()
    bar.done()
    return out


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
    flat = degenerate_map(X)
    if flat is not None:
        return flat
    with threadpool_limits(limits=n_jobs):
        if method == "opentsne":
            from openTSNE import TSNE as OpenTSNE

            perplexity = float(kwargs.pop("perplexity", 30.0))  # type: ignore[arg-type]
            perplexity = min(perplexity, max(2.0, (X.shape[0] - 1) / 3.0))
            kwargs.setdefault("initialization", _init(X))
            kwargs.setdefault("negative_gradient_method", "fft")
            every = int(kwargs.setdefault("callbacks_every_iters", 50))  # type: ignore[arg-type]
            total = int(kwargs.get("early_exaggeration_iter", 250)) + int(kwargs.get("n_iter", 500))  # type: ignore[call-overload]
            bar = Progress(f"openTSNE map of {X.shape[0]} objects", total, "iterations", log)

            def tick(iteration: int, error: float, embedding: object) -> bool:
                bar.advance(every)
                return False  # True would stop the optimisation

            kwargs.setdefault("callbacks", tick)
            model = OpenTSNE(
                n_components=2, perplexity=perplexity, random_state=seed, n_jobs=n_jobs, **kwargs
            )
            out = np.asarray(model.fit(np.asarray(X, dtype=np.float64)), dtype=np.float64)
            bar.done()
            return out
        import warnings

        from umap import UMAP

        with warnings.catch_warnings():  # "n_jobs value 1 overridden ... by setting random_state"
            warnings.filterwarnings("ignore", message=".*random_state.*", category=UserWarning)
            bar = Progress(f"UMAP map of {X.shape[0]} objects", None, "epochs", log)
            stream = ProgressStream(bar, UMAP_EPOCHS)
            bars = {"disable": False, "file": stream, "bar_format": "epochs {n}/{total}"}
            model = UMAP(n_components=2, random_state=seed, n_jobs=1, tqdm_kwds=bars, **kwargs)
            out = np.asarray(model.fit_transform(np.asarray(X, dtype=np.float32)), dtype=np.float64)
            stream.close()
            bar.done()
            return out
