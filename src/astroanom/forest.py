"""Prediction of a fitted scikit-learn random-forest regressor by a compiled (numba) kernel.

The relevance learner's forest is fitted on a few hundred labelled rows, but predicts for every
object; at a million objects scikit-learn's per-tree prediction (one pass and one temporary per
tree) dominates a retrain. :func:`forest_predict` walks all trees for one row at a time, in
parallel over rows, and sums the tree outputs in tree order exactly as scikit-learn does
(0 + t1 + t2 + ...; then / n_trees), on the same float32 input, so its output is bit-identical
to ``RandomForestRegressor.predict`` with ``n_jobs=1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _kernel() -> Any:
    """The compiled kernel (numba is imported and the code compiled, or loaded from its
    on-disk cache, on first use)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(parallel=True, cache=True, nogil=True)
        def predict(X, left, right, feature, threshold, value, roots, out):  # noqa: ANN001, ANN202
            # blocks of rows, trees outer within a block: one tree stays in cache while the
            # block's rows walk it; each row still sums its trees in tree order
            n, n_trees, b = X.shape[0], roots.size, 2048
            for blk in numba.prange((n + b - 1) // b):
                lo = blk * b
                hi = min(n, lo + b)
                acc = np.zeros(hi - lo)
                for t in range(n_trees):
                    root = roots[t]
                    for i in range(lo, hi):
                        node = root
                        while left[node] != -1:
                            if X[i, feature[node]] <= threshold[node]:
                                node = left[node]
                            else:
                                node = right[node]
                        acc[i - lo] += value[node]
                for i in range(lo, hi):
                    out[i] = acc[i - lo] / n_trees

        _KERNEL = predict
    return _KERNEL


_KERNEL: Any = None


def warm_up() -> None:
    """Compile the kernel (or load it from numba's on-disk cache) on a one-node forest."""
    z = np.zeros(1, dtype=np.int32)
    _kernel()(
        np.zeros((1, 1), dtype=np.float32),
        np.full(1, -1, dtype=np.int32),
        z,
        z,
        np.zeros(1),
        np.zeros(1),
        np.zeros(1, dtype=np.int64),
        np.empty(1),
    )


def pack_forest(
    forest: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the trees of a fitted single-output ``RandomForestRegressor`` into flat
    arrays (left, right, feature, threshold, value, roots); child indices become global."""
    if getattr(forest, "n_outputs_", 1) != 1:
        raise ValueError("forest_predict supports single-output regression forests only")
    trees = [e.tree_ for e in forest.estimators_]
    sizes = np.array([t.node_count for t in trees], dtype=np.int64)
    roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    left = np.concatenate(
        [
            np.where(t.children_left < 0, -1, t.children_left + r)
            for t, r in zip(trees, roots, strict=True)
        ]
    ).astype(np.int32)
    right = np.concatenate(
        [
            np.where(t.children_right < 0, -1, t.children_right + r)
            for t, r in zip(trees, roots, strict=True)
        ]
    ).astype(np.int32)
    feature = np.concatenate([t.feature for t in trees]).astype(np.int32)
    threshold = np.concatenate([t.threshold for t in trees]).astype(np.float64)
    value = np.concatenate([t.value[:, 0, 0] for t in trees]).astype(np.float64)
    return left, right, feature, threshold, value, roots


def forest_predict(forest: Any, X: np.ndarray, n_jobs: int = 1) -> np.ndarray:
    """``forest.predict(X)`` (n,) float64 for a fitted single-output RandomForestRegressor, on
    ``n_jobs`` threads; bit-identical to scikit-learn's (n_jobs=1) for finite ``X`` (n, m).

    ``X`` is cast to float32 like scikit-learn does. Non-finite input raises ValueError (the
    trees' missing-value routing is not reproduced).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != forest.n_features_in_:
        raise ValueError(f"X must have shape (n, {forest.n_features_in_}), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("forest_predict needs finite features")
    import numba

    kernel = _kernel()
    out = np.empty(X.shape[0], dtype=np.float64)
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS)))
    try:
        kernel(X, *pack_forest(forest), out)
    finally:
        numba.set_num_threads(previous)
    return out
