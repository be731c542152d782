"""Orders of objects: the one place rankings, shown orders and viewed orders are computed.

Every order is an int64 array of row indices, best (shown first) first. Ties in a score keep
the input order (a stable sort), everywhere. This module imports nothing of astroanom, so
``active/`` (the labelling loop) and ``evaluate/`` (the metrics) both build on it without one
importing the other.

- the *ranking* by a score: :func:`rank_order`;
- the *shown order*: the labelled objects in the order a loop showed them to its oracle
  (recorded by :class:`astroanom.active.loop.LoopResult`; rebuilt from a run's tables by
  :func:`shown_order_single` and :func:`shown_order_rounds`);
- the *viewed order*: the shown objects, then the rest by a ranking (:func:`viewing_order`,
  :func:`shown_then`).
"""

from __future__ import annotations

import numpy as np


def rank_order(score: np.ndarray) -> np.ndarray:
    """Indices that sort ``score`` (n,) from highest to lowest; ties keep input order (stable)."""
    return np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")


def top_order(score: np.ndarray, k: int, skip: np.ndarray | None = None) -> np.ndarray:
    """The first ``k`` of :func:`rank_order` (``score`` (n,)) leaving out the rows where ``skip``
    (boolean (n,)) is True: the same indices in the same order (ties in input order, NaN
    last), found in O(n) with a partition instead of sorting every score (the labelling loop
    asks for the next batch of 10 among 400k objects every round)."""
    v = -np.asarray(score, dtype=np.float64)
    rows = np.arange(v.size) if skip is None else np.flatnonzero(~np.asarray(skip, dtype=bool))
    k = max(0, int(k))
    vals = v[rows]
    if k >= rows.size:
        return rows[np.argsort(vals, kind="stable")]
    if k == 0:
        return np.empty(0, dtype=np.int64)
    kth = np.partition(vals, k - 1)[k - 1]  # the k-th best value (NaN sort last)
    if np.isnan(kth):  # fewer than k numbers: all of them, then NaN rows in input order
        num = ~np.isnan(vals)
        best = rows[num][np.argsort(vals[num], kind="stable")]
        return np.concatenate([best, rows[~num][: k - best.size]])
    above = rows[vals < kth]  # strictly better than the k-th, in input order
    tied = rows[vals == kth][: k - above.size]  # ties with the k-th: the first ones
    cand = np.concatenate([above, tied])
    return cand[np.argsort(v[cand], kind="stable")]


def without(order: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``order`` with the objects ``rows`` (indices, or a boolean mask (n,)) left out."""
    order = np.asarray(order, dtype=np.int64)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        drop = rows.copy()
    else:
        drop = np.zeros(order.size, dtype=bool)
        drop[rows.astype(np.int64)] = True
    return order[~drop[order]]


def shown_then(shown: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The viewed order (n,): ``shown`` (k,) as given, then the rest of ``order`` (n,) in order."""
    shown = np.asarray(shown, dtype=np.int64)
    return np.concatenate([shown, without(order, shown)])


def viewing_order(shown: np.ndarray, final: np.ndarray) -> np.ndarray:
    """The viewed order (n,): ``shown`` in order, then the rest ranked by ``final`` (n,)."""
    return shown_then(shown, rank_order(final))


def shown_order_single(S: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """Labelled objects (boolean mask (n,) or indices) in the order a single retrain showed
    them: by its first ranking ``S`` (n,), highest first (ties in input order)."""
    mask = np.zeros(np.asarray(S).size, dtype=bool)
    mask[labelled] = True
    order = rank_order(S)
    return order[mask[order]]


def shown_order_rounds(label_round: np.ndarray, round_scores: np.ndarray) -> np.ndarray:
    """Labelled objects in the order the incremental loop showed them: by ``label_round`` (n,)
    (1, 2, ...; -1 = never labelled), within a round by the score of the previous round,
    ``round_scores[r - 1]`` ((rounds, n)), highest first (ties in input order)."""
    label_round = np.asarray(label_round)
    round_scores = np.asarray(round_scores, dtype=np.float64)
    out = []
    for r in np.unique(label_round[label_round > 0]):
        members = np.flatnonzero(label_round == r)
        prev = round_scores[int(r) - 1, members]
        out.append(members[np.argsort(-prev, kind="stable")])
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)
