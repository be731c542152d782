"""Compiled (numba) prediction of a fitted scikit-learn random-forest regressor.

The forest's trees are packed once into flat node arrays (:class:`PackedForest`); a row's
prediction walks every tree as scikit-learn's tree code does (``x[feature] <= threshold`` with
the float32 feature promoted to float64, left otherwise right), adds the leaf values in tree
order starting from 0.0 and divides by the number of trees at the end: exactly the float64
operations of ``RandomForestRegressor.predict`` with one thread, so the result is equal bit for
bit. Rows are taken in blocks (the trees are walked tree by tree inside a block, so one tree's
nodes stay in cache), blocks run on threads (the kernel releases the GIL).

Shapes: X (n, m) float32, C-contiguous; the result (n,) float64.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

_JIT = {"nogil": True, "cache": True}
#: rows walked together through one tree before the next tree
BLOCK_ROWS = 512


@njit(**_JIT)
def _predict_rows(
    Xf: np.ndarray,
    m: int,
    start: int,
    stop: int,
    roots: np.ndarray,
    depth: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    children: np.ndarray,
    value: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[start:stop]`` = the mean over trees of the leaf value reached by each row of the
    C-ordered (n, m) float32 matrix whose flat values are ``Xf`` (n m,).

    Branch-free: every row of a block takes ``depth[t]`` steps through tree ``t`` (a leaf's two
    children are itself), ``children[2 * node + (x > threshold)]``, so the rows of a block walk
    independently and the processor overlaps them. Every index is unsigned (``feature``,
    ``children`` uint32): numba adds no negative-index wrap-around to each load, which made the
    walk 2.5-2.9 times slower."""
    n_trees = roots.size
    acc = np.zeros(BLOCK_ROWS)
    node = np.zeros(BLOCK_ROWS, dtype=np.uint32)
    mm = np.uint64(m)
    for b0 in range(start, stop, BLOCK_ROWS):
        r = min(b0 + BLOCK_ROWS, stop) - b0
        acc[:r] = 0.0
        base = np.uint64(b0) * mm
        for t in range(n_trees):
            root = np.uint32(roots[t])
            for i in range(r):
                node[i] = root
            for _ in range(depth[t]):
                off = base
                for i in range(r):
                    k = np.uint64(node[i])
                    go_right = Xf[off + np.uint64(feature[k])] > threshold[k]
                    node[i] = children[np.uint64(2) * k + np.uint64(go_right)]
                    off += mm
            for i in range(r):
                acc[i] += value[np.uint64(node[i])]
        for i in range(r):
            out[b0 + i] = acc[i] / n_trees


def _float32_floor(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 at or below each float64 ``threshold``: for a float32 x,
    ``x > floor32(t)`` exactly when ``x > t`` (no float32 lies in (floor32(t), t])."""
    t32 = threshold.astype(np.float32)  # nearest; step down where it rounded up
    up = t32.astype(np.float64) > threshold
    t32[up] = np.nextafter(t32[up], np.float32(-np.inf))
    return t32


@dataclass(frozen=True)
class PackedForest:
    """Every tree's nodes in flat arrays: ``roots`` and ``depth`` (trees,), the node index of
    each tree's root and its depth; ``feature``, ``threshold`` and ``value`` (nodes,);
    ``children`` (2 nodes,) uint32: the left then the right child of node k at 2k and 2k + 1, global
    indices, a leaf's both itself."""

    roots: np.ndarray
    depth: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    children: np.ndarray
    value: np.ndarray

    @classmethod
    def from_forest(cls, forest: object) -> PackedForest | None:
        """The packed trees of a fitted single-output ``RandomForestRegressor``, or None when
        its trees cannot be walked this way (several outputs, missing-value routing)."""
        trees = [e.tree_ for e in getattr(forest, "estimators_", [])]
        if not trees or getattr(forest, "n_outputs_", 1) != 1:
            return None
        roots, depths, feats, thr, kids, vals = [], [], [], [], [], []
        offset = 0
        for tree in trees:
            left = tree.children_left.astype(np.int64)
            right = tree.children_right.astype(np.int64)
            value = np.asarray(tree.value)
            if value.ndim != 3 or value.shape[1] != 1 or value.shape[2] != 1:
                return None
            internal = left >= 0
            own = np.arange(tree.node_count, dtype=np.int64)
            pair = np.empty((tree.node_count, 2), dtype=np.uint32)
            pair[:, 0] = np.where(internal, left, own) + offset
            pair[:, 1] = np.where(internal, right, own) + offset
            roots.append(offset)
            depths.append(int(tree.max_depth))
            kids.append(pair.ravel())
            feats.append(np.where(internal, tree.feature, 0).astype(np.uint32))
            thr.append(_float32_floor(np.where(internal, tree.threshold, 0.0)))
            vals.append(value[:, 0, 0].astype(np.float64))
            offset += tree.node_count
        return cls(
            roots=np.asarray(roots, dtype=np.uint32),
            depth=np.asarray(depths, dtype=np.int64),
            feature=np.concatenate(feats),
            threshold=np.concatenate(thr),
            children=np.concatenate(kids),
            value=np.concatenate(vals),
        )

    def predict(self, X: np.ndarray, n_jobs: int = 1, min_rows: int = 65536) -> np.ndarray:
        """The forest's prediction (n,) float64 for the finite float32 rows ``X`` (n, m), on up
        to ``n_jobs`` threads (``min_rows`` rows at least per thread)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        n, m = X.shape
        Xf = X.reshape(-1)  # a view: X is C-contiguous
        out = np.empty(n, dtype=np.float64)
        if n == 0:
            return out
        n_jobs = max(1, min(int(n_jobs), n // max(1, min_rows)))
        args = (self.roots, self.depth, self.feature, self.threshold, self.children, self.value)
        if n_jobs == 1:
            _predict_rows(Xf, m, 0, n, *args, out)
            return out
        bounds = np.linspace(0, n, n_jobs + 1).astype(np.int64)
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            jobs = [
                pool.submit(_predict_rows, Xf, m, int(a), int(b), *args, out)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            ]
            for job in jobs:
                job.result()
        return out
