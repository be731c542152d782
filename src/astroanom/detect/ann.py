"""Approximate k-nearest neighbours for LOF on large tables, re-ranked exactly.

Exact neighbours (:mod:`astroanom.knn`) cost O(n^2 m); above a few hundred thousand objects
that is CPU-hours. :func:`approx_kneighbors` asks an approximate index for ``k + margin``
candidates per point (faiss HNSW, or pynndescent), then re-ranks them with exact float64
distances (ties by index) and keeps k, so every returned distance is exact and the only error
is a true neighbour the index missed. Measured recall and LOF rank agreement with exact LOF
are in docs/scaling.md.
"""

from __future__ import annotations

import numpy as np

METHODS = ("hnsw", "ivf", "pynndescent")


_CHUNK = 32768  # query rows per index search and exact re-rank (bounds the working memory)


def _hnsw_index(
    X: np.ndarray, seed: int, n_jobs: int, m: int, ef_construction: int, ef_search: int, c: int
) -> object:
    """A faiss HNSW index (L2) over the rows of ``X`` (n, m) float32.

    faiss draws the node levels from its own fixed-seed generator (``seed`` is unused); the
    graph is deterministic on one thread, while parallel insertion (n_jobs > 1) may vary."""
    import faiss

    faiss.omp_set_num_threads(max(1, int(n_jobs)))
    index = faiss.IndexHNSWFlat(X.shape[1], m)
    index.hnsw.efConstruction = ef_construction
    index.hnsw.efSearch = max(ef_search, c + 1)
    index.add(X)
    return index


def _ivf_index(
    X: np.ndarray, seed: int, n_jobs: int, nlist: int | None, nprobe: int, train_per_cell: int
) -> object:
    """A faiss inverted-file index over ``X`` (n, m) float32: exact L2 within the ``nprobe``
    nearest of ``nlist`` k-means cells (default nlist = 4 sqrt(n)), k-means seeded, trained on
    ``train_per_cell * nlist`` random rows (faiss asks for at least 39 per cell; the k-means
    costs O(train rows * nlist * m) per iteration: at 1M rows and 256 per cell it trained on
    every row and took most of the time)."""
    import faiss

    faiss.omp_set_num_threads(max(1, int(n_jobs)))
    n, m = X.shape
    nlist = int(nlist or max(1, round(4 * np.sqrt(n))))
    quantizer = faiss.IndexFlatL2(m)
    index = faiss.IndexIVFFlat(quantizer, m, nlist)
    index.cp.seed = seed
    size = min(n, max(39, int(train_per_cell)) * nlist)
    train = X[np.sort(np.random.default_rng(seed).choice(n, size, replace=False))]
    index.train(train)
    index.add(X)
    index.nprobe = min(nprobe, nlist)
    return index


def _nndescent_candidates(X: np.ndarray, c: int, seed: int, n_jobs: int) -> np.ndarray:
    """(n, c + 1) candidate indices from pynndescent's k-NN graph (self included)."""
    from pynndescent import NNDescent

    index = NNDescent(
        X,
        n_neighbors=c + 1,
        random_state=seed,
        n_jobs=max(1, int(n_jobs)),
        low_memory=True,
    )
    idx, _ = index.neighbor_graph
    return idx


def _clean(raw: np.ndarray, rows: np.ndarray, n: int, k: int, method: str) -> np.ndarray:
    """Mask (b, c + 1) of unusable candidates in ``raw`` (b, c + 1) for query ``rows`` (b,):
    missing (-1), out of range, the point itself, or a repeat of an earlier entry of its row.
    Raises when a row keeps fewer than k."""
    bad = (raw < 0) | (raw >= n) | (raw == rows[:, None])
    order = np.argsort(raw, axis=1, kind="stable")
    srt = np.take_along_axis(raw, order, axis=1)
    dup_sorted = np.zeros_like(bad)
    dup_sorted[:, 1:] = srt[:, 1:] == srt[:, :-1]
    dup = np.zeros_like(bad)
    np.put_along_axis(dup, order, dup_sorted, axis=1)
    bad |= dup
    short = np.flatnonzero((~bad).sum(axis=1) < k)
    if short.size:
        raise RuntimeError(
            f"the {method} index returned fewer than k = {k} distinct neighbours for "
            f"{short.size} point(s) (e.g. row {int(rows[short[0]])}); raise ef_search or margin"
        )
    return bad


def approx_kneighbors(
    X: np.ndarray,
    k: int,
    method: str = "hnsw",
    seed: int = 0,
    n_jobs: int = 1,
    margin: int = 16,
    hnsw_m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 256,
    nlist: int | None = None,
    nprobe: int = 32,
    train_per_cell: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate k nearest neighbours of every row of ``X`` (n, m) among the other rows.

    Returns (distances (n, k) float64, indices (n, k) int64), each row sorted by exact float64
    distance, ties by index, a point never its own neighbour, as :func:`astroanom.knn.kneighbors`.
    ``method`` is "hnsw" (faiss; ``hnsw_m`` links per node, ``ef_construction``/``ef_search``
    beam widths), "ivf" (faiss inverted file: exact distances within the ``nprobe`` nearest of
    ``nlist`` k-means cells, default 4 sqrt(n), trained on ``train_per_cell`` rows per cell) or
    "pynndescent"; ``k + margin`` candidates per
    point are re-ranked exactly. The faiss indexes are searched in chunks of ``_CHUNK`` rows,
    each re-ranked at once, so the working memory beyond the index (a float32 copy of ``X``)
    and the (n, k) result is that of one chunk.
    """
    from astroanom.detect.knn import _exact_rerank

    n = X.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, got {k}")
    if method not in METHODS:
        raise ValueError(f"unknown approximate neighbour method {method!r}; use one of {METHODS}")
    c = min(n - 1, k + margin)
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    if method == "pynndescent":
        graph = np.asarray(_nndescent_candidates(Xf, c, seed, n_jobs), dtype=np.int64)
        search = lambda s, e: graph[s:e]  # noqa: E731
    else:
        if method == "hnsw":
            index = _hnsw_index(Xf, seed, n_jobs, hnsw_m, ef_construction, ef_search, c)
        else:
            index = _ivf_index(Xf, seed, n_jobs, nlist, nprobe, train_per_cell)
        search = lambda s, e: index.search(Xf[s:e], c + 1)[1]  # type: ignore[attr-defined]  # noqa: E731
    Xs = X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
    dist = np.empty((n, k))
    idx = np.empty((n, k), dtype=np.int64)
    for s in range(0, n, _CHUNK):
        q = np.arange(s, min(n, s + _CHUNK))
        raw = np.asarray(search(s, q[-1] + 1), dtype=np.int64)
        bad = _clean(raw, q, n, k, method)
        d, i = _exact_rerank(Xs, q, np.where(bad, 0, raw), bad)
        dist[q], idx[q] = d[:, :k], i[:, :k]
    return dist, idx
