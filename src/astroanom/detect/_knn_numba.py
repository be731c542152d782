"""Compiled (numba) kernels of :mod:`astroanom.detect.knn`; imported only when numba is.

They replace the numpy candidate scan, candidate store and exact re-rank with loops that make
no temporaries, with the same float32/float64 comparisons as the numpy path, so both find the
same neighbours. Exact distances are the same float64 differences, their squares summed in the
vectorised loop's order instead of einsum's (a difference of an ulp or so). All kernels release
the GIL; ``cache=True`` keeps the compiled code on disk (compiled once, on first use).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"nogil": True, "cache": True}


@njit(nogil=True, cache=True, fastmath={"reassoc", "nsz"})  # reassoc: a vectorised sum
def _sorted_row(
    X: np.ndarray,
    q: int,
    cand: np.ndarray,
    pad: np.ndarray,
    d: np.ndarray,
    loc: np.ndarray,
) -> np.ndarray:
    """Distances ``d`` (c,) from point ``q`` to ``cand`` (c,) (inf where ``pad``); returns the
    order sorting them by (distance, index). ``loc`` (c, m) float64 holds the gathered rows.
    The squares of the exact differences are summed in the vectorised loop's order."""
    m = X.shape[1]
    for i in range(cand.size):  # gather first: the row loads overlap
        if not pad[i]:
            row = X[cand[i]]
            for j in range(m):
                loc[i, j] = row[j]
    xq = X[q].astype(np.float64)
    for i in range(cand.size):
        if pad[i]:
            d[i] = np.inf
            continue
        acc = 0.0
        for j in range(m):
            t = loc[i, j] - xq[j]
            acc += t * t
        d[i] = np.sqrt(acc)
    o = np.argsort(d)
    i = 0
    while i < o.size - 1:  # runs of equal distances: by index
        j = i + 1
        while j < o.size and d[o[j]] == d[o[i]]:
            j += 1
        if j - i > 1:
            run = o[i:j].copy()
            o[i:j] = run[np.argsort(cand[run])]
        i = j
    return o


@njit(**_JIT)
def exact_rerank(
    X: np.ndarray, query: np.ndarray, cand: np.ndarray, pad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Compiled :func:`astroanom.detect.knn._exact_rerank` (``pad`` (b, c) bool, all false
    for none): exact distances (b, c) float64 and indices (b, c) int64, sorted per row."""
    b, c = cand.shape
    out = np.empty((b, c), dtype=np.float64)
    idx = np.empty((b, c), dtype=np.int64)
    d = np.empty(c, dtype=np.float64)
    loc = np.empty((d.size, X.shape[1]), dtype=np.float64)
    for r in range(b):
        o = _sorted_row(X, query[r], cand[r], pad[r], d, loc)
        for i in range(c):
            out[r, i] = d[o[i]]
            idx[r, i] = cand[r, o[i]]
    return out, idx


@njit(**_JIT)
def tile_hits(
    t: np.ndarray,
    tau_i: np.ndarray,
    tau_j: np.ndarray,
    diag: bool,
    thr: np.float32,
    hr: np.ndarray,
    hc: np.ndarray,
    hv: np.ndarray,
    hs: np.ndarray,
) -> int:
    """Candidates of one tile ``t`` (r, w) = d2 - tau_j (float32): entries below ``thr``.

    Writes local row, column, value ``float32(t + tau_j)`` and whether the pair is also a
    row candidate (value < tau_i; on a diagonal tile only those, without the diagonal itself)
    into ``hr, hc, hv, hs`` (capacity e,); returns the number of hits (may exceed e: then the
    caller enlarges the arrays and calls again).
    """
    cap = hr.size
    cnt = 0
    w = t.shape[1]
    w16 = w - w % 16
    for r in range(t.shape[0]):
        ti = tau_i[r]
        row = t[r]
        for c0 in range(0, w16, 16):  # a vectorised test of 16 entries first: hits are rare
            h = False
            for c in range(c0, c0 + 16):
                h |= row[c] < thr
            if not h:
                continue
            for c in range(c0, c0 + 16):
                x = row[c]
                if x < thr:
                    v = np.float64(x) + tau_j[c]
                    side = v < ti
                    if diag and (not side or r == c):
                        continue
                    if cnt < cap:
                        hr[cnt], hc[cnt], hv[cnt], hs[cnt] = r, c, np.float32(v), side
                    cnt += 1
        for c in range(w16, w):  # the same for the last, partial chunk
            x = row[c]
            if x < thr:
                v = np.float64(x) + tau_j[c]
                side = v < ti
                if diag and (not side or r == c):
                    continue
                if cnt < cap:
                    hr[cnt], hc[cnt], hv[cnt], hs[cnt] = r, c, np.float32(v), side
                cnt += 1
    return cnt


@njit(**_JIT)
def store(
    cnt: int,
    hr: np.ndarray,
    hc: np.ndarray,
    hv: np.ndarray,
    hs: np.ndarray,
    col_side: bool,
    row0: int,
    nbr0: int,
    cap: np.ndarray,
    vals: np.ndarray,
    nbr: np.ndarray,
    fill: np.ndarray,
    nc: int,
) -> None:
    """Append the first ``cnt`` hits of :func:`tile_hits` to the per-point buffers.

    Row side (``col_side`` false): the row candidates, point ``row0 + hr``, neighbour
    ``nbr0 + hc``; column side: every hit, point ``row0 + hc``, neighbour ``nbr0 + hr``.
    Values at or above the point's ``cap`` are dropped; a full buffer (w,) keeps its ``nc``
    smallest values and lowers the cap to the largest of them, as in the numpy path.
    """
    w = vals.shape[1]
    for e in range(cnt):
        if col_side:
            p, q = row0 + hc[e], nbr0 + hr[e]
        elif hs[e]:
            p, q = row0 + hr[e], nbr0 + hc[e]
        else:
            continue
        v = hv[e]
        if not v < cap[p]:
            continue
        f = fill[p]
        if f == w:
            o = np.argsort(vals[p], kind="mergesort")[:nc]
            kv, kn = vals[p][o], nbr[p][o]
            vals[p, :nc] = kv
            nbr[p, :nc] = kn
            vals[p, nc:] = np.inf
            cap[p] = kv[nc - 1]
            f = nc
            if not v < cap[p]:
                fill[p] = f
                continue
        vals[p, f] = v
        nbr[p, f] = q
        fill[p] = f + 1


@njit(**_JIT)
def finish(
    start: int,
    stop: int,
    vals: np.ndarray,
    nbr: np.ndarray,
    fill: np.ndarray,
    nc: int,
    k: int,
    order: np.ndarray,
    X: np.ndarray,
    tol: np.ndarray,
    dist: np.ndarray,
    idx: np.ndarray,
) -> np.ndarray:
    """Compiled ``_Search._finish``: re-rank the ``nc`` smallest candidates of points
    start..stop (sorted order) exactly; write the provably exact rows of ``dist``, ``idx``
    (n, k) (original order); return the positions to redo."""
    redo = np.empty(stop - start, dtype=np.int64)
    nred = 0
    cand = np.empty(nc, dtype=np.int64)
    pad = np.zeros(nc, dtype=np.bool_)
    d = np.empty(nc, dtype=np.float64)
    loc = np.empty((d.size, X.shape[1]), dtype=np.float64)
    for p in range(start, stop):
        f = fill[p]
        if f < nc:
            redo[nred] = p
            nred += 1
            continue
        row, nb = vals[p, :f], nbr[p, :f]
        kth = np.partition(row, nc - 1)[nc - 1] if f > nc else row.max()
        j = 0
        for i in range(f):  # the nc smallest: all below kth, then ties at kth
            if row[i] < kth:
                cand[j] = order[nb[i]]
                j += 1
        for i in range(f):
            if j == nc:
                break
            if row[i] == kth:
                cand[j] = order[nb[i]]
                j += 1
        q = order[p]
        o = _sorted_row(X, q, cand, pad, d, loc)
        if d[o[k - 1]] ** 2 < np.float64(kth) - 2.0 * tol[p]:
            for i in range(k):
                dist[q, i] = d[o[i]]
                idx[q, i] = cand[o[i]]
        else:
            redo[nred] = p
            nred += 1
    return redo[:nred]
