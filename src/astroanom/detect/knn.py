"""Exact k-nearest neighbours by blocked float32 matrix products (brute force, Euclidean).

The squared-distance matrix is symmetric, so only its tiles on and above the diagonal are
computed: one single-precision GEMM per (block_rows x block_rows) tile, each entry used for its
row and for its column. Before that, every point i gets a threshold tau_i, about the rank-r
squared distance to a random sample of points (from group minima, see ``_Search._thresholds``),
chosen so that about ``_OVERSAMPLE * (k + 16)`` points lie below it. Points are then ordered into spatially compact blocks (a k-d tree on their leading
principal axes; the 5 % with the largest tau, isolated points, in blocks of their own), and a
tile whose blocks' bounding boxes are farther apart than both blocks' largest tau is skipped:
no pair in it can be a candidate (on the default simulation about two thirds of the tiles go).
``||x||^2``, ``||y||^2 - tau_y`` and the factor -2 are folded into augmented (n, m + 2)
matrices, so each tile holds ``d2(x, y) - tau_y`` directly: an entry below 0 is a candidate
for the column point (d2 < tau_y), one with ``d2 < tau_x`` for the row point. The ``k + 16``
smallest candidates of each point are re-ranked with exact float64 distances. A point is
redone (a float32 full row, then float64 if needed) when its threshold caught too few
candidates, or when the margin between its k-th exact distance and the float32 cut is below a
rigorous rounding-error bound of its own (:func:`_tolerance`), so the neighbour sets equal those
of an exact float64 search.
Tiles run in ``n_jobs`` parallel threads (numpy and BLAS release the GIL), BLAS with one thread
each, also when n_jobs = 1, so a search never uses more than n_jobs cores.

With numba (a dependency, via umap-learn too) the scan of each tile, the candidate store and
the float64 re-rank run as compiled kernels (:mod:`astroanom.detect._knn_numba`; about a third
less CPU time than numpy on 50k x 100). Numba's start-up in a fresh process (its import and the
first call of a cached kernel, ~0.3-0.5 s on an idle machine) runs in a background thread while
the search sets up; without numba the same steps run in numpy and find the same neighbours.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

_nb: Any = "not loaded"  # the numba kernels module, None without numba (see _load_kernels)
_nb_lock = threading.Lock()


def _load_kernels() -> None:
    """Import the compiled kernels on first use (importing numba takes ~0.1-0.2 s)."""
    global _nb
    with _nb_lock:
        if isinstance(_nb, str):
            try:
                from astroanom.detect import _knn_numba as kernels
            except ImportError:  # pragma: no cover - numba is a dependency (umap-learn too)
                kernels = None
            _nb = kernels


def _warm_kernels(dtype: np.dtype) -> None:
    """Import the kernels and load each one's cached machine code for ``dtype`` input.

    Numba's first call of a cached kernel in a process initialises its compiler target and
    links the code (~0.3-0.5 s with the import, several times that on a loaded machine); run
    in a background thread while the search sets up, that time overlaps with work. The calls
    use tiny arrays of the dtypes and layouts of the search's own calls and change nothing.
    """
    try:
        _load_kernels()
        if _nb is None:
            return
        X = np.zeros((2, 1), dtype=dtype)
        one = np.zeros(1, dtype=np.int64)
        hits = (np.zeros(1, np.int32), np.zeros(1, np.int32), np.zeros(1, np.float32))
        flags = np.zeros(1, np.uint8)
        vals, nbr = np.zeros((1, 1), np.float32), np.zeros((1, 1), np.int32)
        _nb.exact_rerank(X, one, np.ones((1, 1), np.int64), np.zeros((1, 1), np.bool_))
        _nb.tile_hits(np.zeros((1, 1), np.float32), np.zeros(1), np.zeros(1), False, *hits, flags)
        _nb.store(0, *hits, flags, False, 0, 0, np.zeros(1, np.float32), vals, nbr, one, 1)
        _nb.finish(
            0,
            0,
            vals,
            nbr,
            one,
            1,
            1,
            one,
            X,
            np.zeros(1),
            np.zeros(1),
            1e-6,
            np.zeros((2, 1)),
            np.zeros((2, 1), np.int64),
        )
    except Exception:  # pragma: no cover - the search's own calls then raise the error
        pass


def compile_kernels() -> None:
    """Compile the numba kernels for float32 and float64 input into numba's on-disk cache.

    ``make`` calls this once after installing, so no workflow job pays the one-off compilation
    (~5 s of CPU on an idle machine); it is a no-op for kernels already cached and without numba.
    """
    for dtype in (np.float32, np.float64):
        _warm_kernels(np.dtype(dtype))


_MARGIN = 16  # extra float32 candidates per point re-ranked in float64
_OVERSAMPLE = 2.0  # expected threshold survivors per point, in units of k + _MARGIN
_SAMPLE = 2048  # points in the threshold sample
_GROUPS = 8  # threshold: at least this many sample groups per rank (see _Search._thresholds)
_PROJ = 8  # principal axes of the block bounds
_SPARSE = 0.05  # fraction of points (largest tau) in blocks of their own
_U32 = 2.0**-24  # unit roundoff of float32
_U64 = 2.0**-53


def _run(fn: Callable[[object], object], items: Iterable[object], n_jobs: int) -> list[object]:
    """``[fn(x) for x in items]``, on ``n_jobs`` threads when n_jobs > 1."""
    if n_jobs <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return list(pool.map(fn, items))


def _exact_rerank(
    Xs: np.ndarray, query: np.ndarray, cand: np.ndarray, pad: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact distances from rows ``query`` (b,) of ``Xs`` (n, m) to candidates ``cand`` (b, c).

    Differences are taken in float64 (exact for float32 input). Returns (distances (b, c)
    float64, indices (b, c) int64), each row sorted by distance, ties by index; entries where
    the optional mask ``pad`` (b, c) is true are padding and get distance inf.
    """
    _load_kernels()
    if _nb is not None:
        nopad = np.zeros(cand.shape, dtype=bool) if pad is None else pad
        return _nb.exact_rerank(Xs, query.astype(np.int64), cand.astype(np.int64), nopad)
    out = np.empty(cand.shape, dtype=np.float64)
    xq = np.asarray(Xs[query], dtype=np.float64)
    step = max(1, (2 << 20) // max(1, cand.shape[1] * Xs.shape[1] * 8))  # ~2 MB per gather
    for s in range(0, query.size, step):
        diff = np.subtract(Xs[cand[s : s + step]], xq[s : s + step, None, :], dtype=np.float64)
        out[s : s + step] = np.einsum("bcm,bcm->bc", diff, diff)
    np.sqrt(out, out=out)
    if pad is not None:
        out[pad] = np.inf
    order = np.lexsort((cand, out), axis=1)
    return np.take_along_axis(out, order, axis=1), np.take_along_axis(cand, order, axis=1)


def _exact_rows(
    Xs: np.ndarray, mean: np.ndarray, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Last resort: exact k-NN of ``rows`` (r,) of ``Xs`` (n, m) in float64, ties by index.

    Candidates are all points within a float64 rounding bound of the k-th smallest squared
    distance of the data centred on ``mean``; they are then re-ranked exactly.
    """
    m = Xs.shape[1]
    Xc = Xs - mean
    sq = np.einsum("ij,ij->i", Xc, Xc)
    d2 = sq[rows, None] + sq[None, :] - 2.0 * (Xc[rows] @ Xc.T)
    d2[np.arange(rows.size), rows] = np.inf
    kth = np.partition(d2, k - 1, axis=1)[:, k - 1]
    tol = 4.0 * (m + 8) * _U64 * (sq[rows] + sq.max()) + 1e-300
    r, c = np.nonzero(d2 <= (kth + 2.0 * tol)[:, None])
    counts = np.bincount(r, minlength=rows.size)
    cand = np.zeros((rows.size, int(counts.max())), dtype=np.int64)
    pad = np.ones(cand.shape, dtype=bool)
    at = (r, np.arange(r.size) - (np.cumsum(counts) - counts)[r])
    cand[at] = c
    pad[at] = False
    dist, idx = _exact_rerank(Xs, rows, cand, pad)
    return dist[:, :k], idx[:, :k]


def _tolerance(eps: float, sq: np.ndarray, tau: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Rounding bound (b,) of the float32 values ~d2(x, y) of points x with centred squared
    norms ``sq``, thresholds ``tau`` and cut ``cut`` (b,), over every y that matters.

    A tile entry plus tau_y is a float32 dot product of m + 2 terms whose magnitudes sum to at
    most 2 ||x||^2 + 2 ||y||^2 + 2 tau_y, so it is off d2 by at most eps times that (eps =
    (m + 10) u, input roundings included). Only points y within sqrt(cut) of x can matter (a
    farther y has d2 > cut, above any accepted k-th distance), and for those ||y|| <= ||x|| +
    sqrt(cut) and sqrt(tau_y) <= sqrt(tau_x) + sqrt(cut) (the threshold is an order statistic
    of distances, so its square root is 1-Lipschitz). The bound is thus each point's own,
    not set by the largest norm and threshold of the whole data (with those, 48,000 of 60,000
    real OGLE-III stars failed the exactness check and were searched again in float64). The
    1.01 covers the float64 rounding of the bound and of tau's own computation.
    """
    finite = np.isfinite(cut)  # an infinite cut (every point a candidate) needs no bound
    r = np.sqrt(np.maximum(np.where(finite, cut, 0.0), 0.0))
    near = (np.sqrt(sq) + r) ** 2
    wide = (np.sqrt(np.maximum(tau, 0.0)) + r) ** 2
    return np.where(finite, 1.01 * eps * (2.0 * sq + 2.0 * near + 2.0 * wide), 0.0)


class _Search:
    """State of one k-NN search in the block order (internal to :func:`kneighbors`)."""

    def __init__(self, X: np.ndarray, k: int, block_rows: int, seed: int, n_jobs: int) -> None:
        n, m = X.shape
        self.n, self.m, self.k, self.b, self.n_jobs = n, m, k, block_rows, n_jobs
        self.Xs = X if X.dtype in (np.float32, np.float64) else X.astype(np.float64)
        self.loader: threading.Thread | None = None
        if isinstance(_nb, str):  # the kernels load beside the set-up; run() waits for them
            self.loader = threading.Thread(target=_warm_kernels, args=(self.Xs.dtype,))
            self.loader.start()
        self.mean = self.Xs.mean(axis=0, dtype=np.float64)  # centring shrinks norms and errors
        A = np.empty((n, m + 2), dtype=np.float32)  # [x - mean, ||x - mean||^2, 1]
        sq = np.empty(n, dtype=np.float64)
        for s in range(0, n, 8192):
            xc = self.Xs[s : s + 8192] - self.mean
            sq[s : s + 8192] = np.einsum("ij,ij->i", xc, xc)
            A[s : s + 8192, :m] = xc
        A[:, m] = sq
        A[:, m + 1] = 1.0
        self.sq = sq
        self.n_cand = min(n - 1, k + _MARGIN)
        n_sample = min(n, _SAMPLE)
        self.rank = int(np.ceil(_OVERSAMPLE * self.n_cand * n_sample / n))
        self.tiled = self.n_cand < n - 1 and self.rank < n_sample - 1 and n > 2 * block_rows
        if self.tiled:
            sample = np.random.default_rng(seed).choice(n, n_sample, replace=False)
            tau = self._thresholds(A, sample)  # in random order: see _thresholds
        else:
            tau = np.zeros(n)
        if self.tiled:  # position p holds original point order[p]
            self.order, self.tiles = self._block_order(tau, np.sort(sample))
        else:
            self.order = np.argsort(tau, kind="stable")
        self.tau = tau[self.order]
        self.A = A[self.order]
        del A
        self.BT = np.empty((m + 2, n), dtype=np.float32)  # [-2 y, 1, ||y||^2 - tau_y]
        self.BT[:m] = self.A[:, :m].T
        self.BT[:m] *= -2.0
        self.BT[m] = 1.0
        sqp = sq[self.order]
        self.BT[m + 1] = sqp - self.tau
        self.sqp = sqp
        self.eps = (m + 10) * _U32  # the dot-product bound's factor (see _tolerance)

    def _block_order(
        self, tau: np.ndarray, sample: np.ndarray
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Order points into spatially compact blocks; list the tiles that can hold candidates.

        The points are projected (float64) onto the ``_PROJ`` leading principal axes of the
        ``sample`` rows. The ``_SPARSE`` fraction with the largest thresholds tau (isolated
        points, whose wide neighbourhoods would keep every tile) form blocks of their own at the
        end; each of the two groups is cut into blocks of ``block_rows`` points by recursive
        median splits along the widest axis of the projected bounding box (a k-d tree whose
        leaves are the blocks). Projection onto orthonormal axes never lengthens a distance, so
        the gap g between the boxes of blocks I and J bounds every squared distance of a pair
        from below; tile (I, J), I < J, is skipped when g^2 exceeds the largest tau of both
        blocks (with a relative margin of 1e-6, far above float64 rounding of the bound): no
        pair in it can be a candidate, and every value it would have dropped is above the cut,
        so the exactness check is unchanged. Returns (order (n,), tiles [(I, J)] with I <= J).
        """
        n, m, b = self.n, self.m, self.b
        p = min(m, _PROJ)
        S = np.asarray(self.Xs[sample], dtype=np.float64) - self.mean
        _, vecs = np.linalg.eigh(S.T @ S)
        V = np.ascontiguousarray(vecs[:, ::-1][:, :p])
        P = np.empty((n, p), dtype=np.float64)
        for s in range(0, n, 16384):
            P[s : s + 16384] = (self.Xs[s : s + 16384] - self.mean) @ V
        by_tau = np.argsort(tau, kind="stable")
        n_dense = min(n, max(b, int(round(n * (1.0 - _SPARSE) / b)) * b))
        blocks: list[np.ndarray] = []
        stack = [np.sort(by_tau[n_dense:]), np.sort(by_tau[:n_dense])]
        while stack:  # depth first, dense group first: blocks in k-d tree order
            idx = stack.pop()
            if idx.size == 0:
                continue
            if idx.size <= b:
                blocks.append(idx)
                continue
            Q = P[idx]
            axis = int(np.argmax(Q.max(axis=0) - Q.min(axis=0)))
            left = (-(-idx.size // b) // 2) * b
            part = np.argpartition(Q[:, axis], left)
            stack += [idx[part[left:]], idx[part[:left]]]
        order = np.concatenate(blocks)
        lo = np.array([P[i].min(axis=0) for i in blocks])
        hi = np.array([P[i].max(axis=0) for i in blocks])
        top = np.array([tau[i].max() for i in blocks])
        slack = 1e-12 * (np.abs(P).max() + 1.0)  # rounding of P, far below
        g2 = np.zeros((len(blocks), len(blocks)))
        for d in range(p):
            gap = np.maximum(lo[None, :, d] - hi[:, None, d], lo[:, None, d] - hi[None, :, d])
            g2 += np.maximum(gap - slack, 0.0) ** 2
        keep = g2 <= np.maximum(top[:, None], top[None, :]) * (1.0 + 1e-6)
        bi, bj = np.nonzero(np.triu(keep | np.eye(len(blocks), dtype=bool)))
        return order, list(zip(bi.tolist(), bj.tolist(), strict=True))

    def _thresholds(self, A: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """tau (n,): about the rank-``self.rank`` float32 squared distance to the ``sample``.

        When the sample is large enough for ``_GROUPS * (rank + 1)`` groups of at least 4
        points, it is cut into groups of g consecutive columns and tau is the rank-``rank``
        smallest of the group minima: never below the exact rank-``rank`` value (the group minima are distinct
        entries), a little above it when two of the smallest share a group, and ~3x cheaper
        than a selection over the whole row. ``sample`` must be in random order, so that a
        group's points are not neighbours of each other (in a catalogue sorted by position or
        class they would be, and the group minima would skip whole clusters). The search is
        exact for any tau; tau only sets how many candidates each point collects.
        """
        n, m = self.n, self.m
        BT = np.empty((m + 2, sample.size), dtype=np.float32)
        BT[:m] = -2.0 * A[sample, :m].T
        BT[m] = 1.0
        BT[m + 1] = self.sq[sample]
        spos = np.full(n, -1, dtype=np.int64)
        spos[sample] = np.arange(sample.size)
        tau = np.empty(n, dtype=np.float64)
        g = sample.size // (_GROUPS * (self.rank + 1))
        groups = np.arange(0, sample.size, g) if g >= 4 else None

        def rows(start: int) -> None:
            stop = min(n, start + self.b)
            d2 = A[start:stop] @ BT
            own = spos[start:stop]
            d2[np.flatnonzero(own >= 0), own[own >= 0]] = np.inf
            if groups is not None:
                d2 = np.minimum.reduceat(d2, groups, axis=1)
            tau[start:stop] = np.partition(d2, self.rank, axis=1)[:, self.rank]

        _run(rows, range(0, n, self.b), self.n_jobs)
        return tau

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        if self.loader is not None:
            self.loader.join()
        _load_kernels()
        n, b, k = self.n, self.b, self.k
        self.dist = np.empty((n, k), dtype=np.float64)
        self.idx = np.empty((n, k), dtype=np.int64)
        if self.tiled:
            self.width = 3 * self.n_cand
            self.cap = self.tau.astype(np.float32)  # drop values >= cap (start: tau itself)
            self.vals = np.full((n, self.width), np.inf, dtype=np.float32)
            self.nbr = np.zeros((n, self.width), dtype=np.int32)
            self.fill = np.zeros(n, dtype=np.int64)
            nb = -(-n // b)
            self.locks = [threading.Lock() for _ in range(nb)]
            self._local = threading.local()
            _run(self._tile, self.tiles, self.n_jobs)
            if _nb is not None:  # the data in the sorted order: the compiled re-rank's reads
                self.Xp = self.Xs[self.order]
            redo = np.concatenate(_run(self._finish, range(0, n, b), self.n_jobs))
            del self.vals, self.nbr
        else:
            redo = np.arange(n)
        if redo.size:
            step = max(1, min(b, (32 << 20) // (8 * n)))
            parts = _run(
                self._full_rows,
                [redo[s : s + step] for s in range(0, redo.size, step)],
                self.n_jobs,
            )
            last = np.concatenate(parts)
            for s in range(0, last.size, step):
                r = self.order[last[s : s + step]]
                self.dist[r], self.idx[r] = _exact_rows(self.Xs, self.mean, r, k)
        return self.dist, self.idx

    def _store(self, blk: int, rows: np.ndarray, nbrs: np.ndarray, v: np.ndarray) -> None:
        """Append candidates (rows, nbrs, values) (e,) to block ``blk``'s per-point buffers.

        A point whose buffer overflows keeps its ``n_cand`` smallest values and lowers its cap
        to the largest of them; later values at or above the cap are dropped. Every dropped
        value is thus >= the final cut, which the exactness check relies on.
        """
        if rows.size == 0:
            return
        v = v.astype(np.float32)
        base = blk * self.b
        if rows.size > 1 and (np.diff(rows) < 0).any():
            local = rows - base
            if self.b <= np.iinfo(np.int16).max:
                local = local.astype(np.int16)  # stable sort of int16 is a radix sort
            o = np.argsort(local, kind="stable")
            rows, nbrs, v = rows[o], nbrs[o], v[o]
        stop = min(self.n, base + self.b)
        W = self.width
        with self.locks[blk]:
            counts = np.bincount(rows - base, minlength=stop - base)
            keep = v < np.repeat(self.cap[base:stop], counts)
            if not keep.all():
                rows, nbrs, v = rows[keep], nbrs[keep], v[keep]
                counts = np.bincount(rows - base, minlength=stop - base)
            # position of each entry in its row's buffer: fill + rank among this batch's entries
            off = self.fill[base:stop] - (np.cumsum(counts) - counts)
            pos = np.arange(rows.size) + np.repeat(off, counts)
            self.fill[base:stop] += counts
            ok = pos < W
            if ok.all():
                flat = rows * W + pos
                self.vals.reshape(-1)[flat] = v
                self.nbr.reshape(-1)[flat] = nbrs
            else:
                flat = rows[ok] * W + pos[ok]
                self.vals.reshape(-1)[flat] = v[ok]
                self.nbr.reshape(-1)[flat] = nbrs[ok]
                self._compact(rows[~ok], nbrs[~ok], v[~ok])

    def _compact(self, rows: np.ndarray, nbrs: np.ndarray, v: np.ndarray) -> None:
        """Shrink the full buffers of ``rows`` (sorted) to their ``n_cand`` smallest entries,
        counting the pending entries (rows, nbrs, v) that did not fit."""
        nc = self.n_cand
        ur, start, cnt = np.unique(rows, return_index=True, return_counts=True)
        pv = np.full((ur.size, int(cnt.max())), np.inf, dtype=np.float32)
        pn = np.zeros(pv.shape, dtype=np.int32)
        at = (np.repeat(np.arange(ur.size), cnt), np.arange(rows.size) - np.repeat(start, cnt))
        pv[at] = v
        pn[at] = nbrs
        allv = np.concatenate([self.vals[ur], pv], axis=1)
        alln = np.concatenate([self.nbr[ur], pn], axis=1)
        p = np.argpartition(allv, nc - 1, axis=1)[:, :nc]
        keptv = np.take_along_axis(allv, p, axis=1)
        self.vals[ur, :nc] = keptv
        self.nbr[ur, :nc] = np.take_along_axis(alln, p, axis=1)
        self.vals[ur, nc:] = np.inf
        self.fill[ur] = nc
        self.cap[ur] = keptv.max(axis=1)

    def _tile(self, ij: tuple[int, int]) -> None:
        """Compute tile (I, J), I <= J, and store its candidates for rows and columns."""
        bi, bj = ij
        b, n = self.b, self.n
        i0, i1, j0, j1 = bi * b, min(n, bi * b + b), bj * b, min(n, bj * b + b)
        w = j1 - j0
        buf = getattr(self._local, "tile", None)
        if buf is None:  # one reusable tile per thread: no page faults per tile
            buf = self._local.tile = np.empty(b * b, dtype=np.float32)
        t = buf[: (i1 - i0) * w].reshape(i1 - i0, w)
        np.matmul(self.A[i0:i1], self.BT[:, j0:j1], out=t)  # d2 - tau_col, float32
        if _nb is not None:
            self._tile_compiled(t, bi, bj)
            return
        # a row candidate needs d2 < tau_row, i.e. t < tau_row - tau_col: scan below
        # tau_row - min(tau_col) (rounded up; at least 0, for the column candidates t < 0)
        thr = self._row_thresholds(i0, i1, j0, j1)
        f = np.flatnonzero(t < thr[:, None])
        r, c = np.divmod(f, w)
        tv = t.ravel()[f]
        v = tv + self.tau[j0 + c]  # ~ d2, float64
        row_side = v < self.tau[i0 + r]
        if bi == bj:  # the tile is symmetric: its row side holds every pair twice
            row_side &= r != c
        self._store(bi, i0 + r[row_side], (j0 + c[row_side]).astype(np.int32), v[row_side])
        if bi != bj:  # every entry with t < 0 has d2 < tau_col: a candidate of the column point
            col = tv < 0
            self._store(bj, j0 + c[col], (i0 + r[col]).astype(np.int32), v[col])

    def _row_thresholds(self, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
        """float32 (i1 - i0,): max(0, tau_row - min tau_col) rounded up, per row of a tile."""
        x = np.maximum(self.tau[i0:i1] - self.tau[j0:j1].min(), 0.0).astype(np.float32)
        return np.nextafter(x, np.float32(np.inf))

    def _tile_compiled(self, t: np.ndarray, bi: int, bj: int) -> None:
        """:meth:`_tile` after the product, with the numba kernels: scan ``t``, store hits."""
        b, n = self.b, self.n
        i0, i1, j0, j1 = bi * b, min(n, bi * b + b), bj * b, min(n, bj * b + b)
        hits = getattr(self._local, "hits", None)
        args = (t, self.tau[i0:i1], self.tau[j0:j1], bi == bj)
        cnt = 0 if hits is None else _nb.tile_hits(*args, *hits)
        while hits is None or cnt > hits[0].size:  # (re)allocate the per-thread hit lists
            e = max(cnt, b * b // 16)
            hits = self._local.hits = (
                np.empty(e, np.int32),
                np.empty(e, np.int32),
                np.empty(e, np.float32),
                np.empty(e, np.uint8),
            )
            cnt = _nb.tile_hits(*args, *hits)
        bufs = (self.cap, self.vals, self.nbr, self.fill, self.n_cand)
        with self.locks[bi]:
            _nb.store(cnt, *hits, False, i0, j0, *bufs)
        if bi != bj:
            with self.locks[bj]:
                _nb.store(cnt, *hits, True, j0, i0, *bufs)

    def _finish(self, start: int) -> np.ndarray:
        """Re-rank the candidates of points start.. of one block; return positions to redo."""
        stop = min(self.n, start + self.b)
        if _nb is not None:
            return _nb.finish(
                start,
                stop,
                self.vals,
                self.nbr,
                self.fill,
                self.n_cand,
                self.k,
                self.order,
                self.Xp,
                self.sqp,
                self.tau,
                self.eps,
                self.dist,
                self.idx,
            )
        vals, nbr = self.vals[start:stop], self.nbr[start:stop]
        part = np.argpartition(vals, self.n_cand - 1, axis=1)[:, : self.n_cand]
        vals = np.take_along_axis(vals, part, axis=1)
        nbr = np.take_along_axis(nbr, part, axis=1)
        fill = self.fill[start:stop]
        ok = fill >= self.n_cand
        return self._rerank(np.arange(start, stop), nbr, vals.max(axis=1), ok)

    def _rerank(
        self, pos: np.ndarray, nbr: np.ndarray, cut: np.ndarray, ok: np.ndarray
    ) -> np.ndarray:
        """Exact re-ranking of candidates ``nbr`` (b, n_cand) (sorted order) of points ``pos``.

        ``cut`` (b,) is the largest float32 value kept; every point not kept has a value >= cut.
        Writes rows that are provably exact; returns the positions of the others.
        """
        k = self.k
        q = self.order[pos]
        cand = np.sort(self.order[nbr], axis=1)  # gathers in address order are a bit faster
        ed, ei = _exact_rerank(self.Xs, q, cand)
        cut = np.asarray(cut, dtype=np.float64)
        tol = _tolerance(self.eps, self.sqp[pos], self.tau[pos], cut)
        ok = ok & (ed[:, k - 1] ** 2 < cut - 2.0 * tol)
        self.dist[q[ok]] = ed[ok, :k]
        self.idx[q[ok]] = ei[ok, :k]
        return pos[~ok]

    def _full_rows(self, pos: np.ndarray) -> np.ndarray:
        """Float32 search of full rows for points ``pos`` (sorted order); returns those to redo."""
        v = (self.A[pos] @ self.BT).astype(np.float64)
        v += self.tau[None, :]
        v[np.arange(pos.size), pos] = np.inf
        nc = self.n_cand
        part = np.argpartition(v, nc - 1, axis=1)[:, :nc]
        cut = np.take_along_axis(v, part, axis=1).max(axis=1)
        if nc >= self.n - 1:
            cut = np.full(pos.size, np.inf)
        return self._rerank(pos, part, cut, np.ones(pos.size, dtype=bool))


def kneighbors(
    X: np.ndarray, k: int, block_rows: int = 1024, seed: int = 0, n_jobs: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours of every row of ``X`` (n, m) among the other rows (Euclidean).

    Returns (distances (n, k) float64, indices (n, k) int64), each row sorted by distance
    (ties by index). A point is never its own neighbour. The neighbour sets equal an exact
    float64 search. ``seed`` only picks the threshold sample (the result does not depend on
    it); ``n_jobs`` threads (default: the CPUs available) share the work. Working memory is
    O(n * (k + 16)) for the candidates plus O(block_rows^2) per thread.
    """
    n = X.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, got {k}")
    if n_jobs is None:
        n_jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    n_jobs = max(1, int(n_jobs))
    with threadpool_limits(limits=1, user_api="blas"):  # parallelism is ours: n_jobs threads
        return _Search(np.asarray(X), k, max(1, int(block_rows)), seed, n_jobs).run()
