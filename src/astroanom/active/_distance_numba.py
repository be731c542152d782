"""Compiled (numba) nearest-labelled distances with one fixed order of operations per entry.

For a row x and a labelled row y (both promoted to float64), the squared distance is
``t = (|x|^2 + |y|^2) - 2 (x . y)`` where each sum runs over the features in order, one
multiplication and one addition at a time (no fused multiply-add, no reordering). The value of
an entry therefore depends on x and y only: not on the other rows, the other labelled rows, the
blocking or the threads. That is what lets the labeller keep the running minimum over labelled
rows up to date one label at a time and still end bit for bit where a full computation over
every label ends (the minimum itself is exact).

Shapes: X (n, m) float32 or float64; YT (m, k) float64 the labelled rows as columns; y2 (k,).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

_JIT = {"nogil": True, "cache": True}


@njit(**_JIT)
def squared_norms(Y: np.ndarray) -> np.ndarray:
    """``|y|^2`` (k,) of each row of ``Y`` (k, m), summed over the features in order."""
    k, m = Y.shape
    out = np.empty(k)
    for j in range(k):
        s = 0.0
        for c in range(m):
            v = np.float64(Y[j, c])
            s += v * v
        out[j] = s
    return out


@njit(**_JIT)
def _min_squared(
    X: np.ndarray,
    x2: np.ndarray,
    start: int,
    stop: int,
    YT: np.ndarray,
    y2: np.ndarray,
    out: np.ndarray,
    tag: np.ndarray,
    arg: np.ndarray,
) -> None:
    """``out[i] = min(out[i], min_j t_ij)`` for rows ``start <= i < stop``; where the minimum
    moves to a row j of Y, ``arg[i] = tag[j]`` (when ``arg`` is not empty)."""
    m, k = YT.shape
    g = np.empty(k)
    for i in range(start, stop):
        g[:] = 0.0
        for c in range(m):
            v = np.float64(X[i, c])
            for j in range(k):
                g[j] += v * YT[c, j]
        best = out[i]
        at = -1
        for j in range(k):
            t = (x2[i] + y2[j]) - 2.0 * g[j]
            if t < best:
                best = t
                at = j
        out[i] = best
        if at >= 0 and arg.size:
            arg[i] = tag[at]


@njit(**_JIT)
def _min_squared_one(
    X: np.ndarray,
    x2: np.ndarray,
    start: int,
    stop: int,
    YT: np.ndarray,
    y2: np.ndarray,
    out: np.ndarray,
    tag: np.ndarray,
    arg: np.ndarray,
) -> None:
    """:func:`_min_squared` for one labelled row (k = 1), the same operations per entry."""
    m = YT.shape[0]
    y = YT[:, 0]
    yy = y2[0]
    for i in range(start, stop):
        g = 0.0
        for c in range(m):
            g += np.float64(X[i, c]) * y[c]
        t = (x2[i] + yy) - 2.0 * g
        if t < out[i]:
            out[i] = t
            if arg.size:
                arg[i] = tag[0]


def min_squared_distance(
    X: np.ndarray,
    Y: np.ndarray,
    out: np.ndarray | None = None,
    x2: np.ndarray | None = None,
    n_jobs: int = 1,
    tags: np.ndarray | None = None,
    arg: np.ndarray | None = None,
) -> np.ndarray:
    """The running minimum (n,) float64 over the rows of ``Y`` (k, m) of the squared distance
    ``t`` to each row of ``X`` (n, m): ``out`` (updated in place) or a new array. ``x2`` (n,)
    may pass ``squared_norms(X)`` when the caller keeps it; rows are split over ``n_jobs``
    threads. With ``tags`` (k,) int64 and ``arg`` (n,) int64, ``arg[i]`` becomes the tag of
    the row of Y where row i's minimum moved (ties keep the earlier one)."""
    n = X.shape[0]
    if out is None:
        out = np.full(n, np.inf)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    if Y.shape[0] == 0 or n == 0:
        return out
    if x2 is None:
        x2 = squared_norms(X)
    YT = np.ascontiguousarray(Y.T)
    y2 = squared_norms(Y)
    kernel = _min_squared_one if Y.shape[0] == 1 else _min_squared
    if arg is None or tags is None:
        tags = arg = np.empty(0, dtype=np.int64)
    tags = np.ascontiguousarray(tags, dtype=np.int64)
    n_jobs = max(1, min(int(n_jobs), n // 16384 or 1))
    if n_jobs == 1:
        kernel(X, x2, 0, n, YT, y2, out, tags, arg)
        return out
    bounds = np.linspace(0, n, n_jobs + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        jobs = [
            pool.submit(kernel, X, x2, int(a), int(b), YT, y2, out, tags, arg)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        for job in jobs:
            job.result()
    return out


def distance_from_squared(t: np.ndarray) -> np.ndarray:
    """``sqrt(max(t, 0))`` (n,), a new array (rounding can make a tiny t negative)."""
    d = np.maximum(t, 0.0)
    return np.sqrt(d, out=d)  # in place: one array of n, not two
