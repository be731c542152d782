"""Ranking metrics of the paper (section 4): Rank Weighted Score and recall.

Both take ``ranked_is_anomaly``: a boolean/0-1 sequence ordered from the highest-ranked object
(rank 1) downwards, 1 where that object is an anomaly of the kind being scored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from astroanom.ordering import rank_order

__all__ = ["cumulative_recall", "per_class_table", "recall", "rws", "rws_curve"]


def rws(ranked_is_anomaly: Sequence[int] | np.ndarray, n: int) -> float:
    """Rank Weighted Score (eq. 4): (1/S0) * sum_{i=1..N} (N + 1 - i) * I_i, S0 = N(N+1)/2.

    Ranges from 0 (no anomaly in the top N) to 1 (all top N are anomalies).
    """
    if n < 1:
        raise ValueError(f"N must be >= 1, got {n}")
    hits = np.asarray(ranked_is_anomaly, dtype=np.float64)[:n]
    weights = n + 1 - np.arange(1, hits.size + 1, dtype=np.float64)
    return float(weights @ hits / (n * (n + 1) / 2))


def rws_curve(ranked_is_anomaly: Sequence[int] | np.ndarray, ns: Sequence[int]) -> np.ndarray:
    """RWS(N) for every N in ``ns`` (shape (len(ns),)), vectorised with cumulative sums.

    sum_{i<=N} (N + 1 - i) I_i = (N + 1) * C1(N) - C2(N), with C1 = cumsum(I), C2 = cumsum(i I).
    """
    hits = np.asarray(ranked_is_anomaly, dtype=np.float64)
    ns_arr = np.asarray(ns, dtype=np.int64)
    if (ns_arr < 1).any():
        raise ValueError("every N must be >= 1")
    pad = max(0, int(ns_arr.max()) - hits.size)
    hits = np.concatenate([hits, np.zeros(pad)])
    ranks = np.arange(1, hits.size + 1, dtype=np.float64)
    c1 = np.cumsum(hits)[ns_arr - 1]
    c2 = np.cumsum(ranks * hits)[ns_arr - 1]
    return ((ns_arr + 1) * c1 - c2) / (ns_arr * (ns_arr + 1) / 2)


def recall(ranked_is_anomaly: Sequence[int] | np.ndarray, n: int) -> int:
    """Recall (eq. 5): the number of anomalies among the first ``n`` ranked objects."""
    if n < 0:
        raise ValueError(f"N must be >= 0, got {n}")
    return int(np.count_nonzero(np.asarray(ranked_is_anomaly)[:n]))


def per_class_table(
    score: np.ndarray, classes: np.ndarray, class_ids: Sequence[int], ns: Sequence[int]
) -> pd.DataFrame:
    """RWS(N) and recall(N) of each class in ``class_ids`` when ranking by ``score``.

    Returns a long table with columns class, N, rws, recall. An N beyond the number of ranked
    objects has no top N: its row is kept (so tables of datasets and seeds line up) with rws and
    recall NaN.
    """
    ranked = np.asarray(classes)[rank_order(score)]
    rows = []
    for c in class_ids:
        hits = ranked == c
        curve = rws_curve(hits, ns)
        cum = np.cumsum(hits)
        for n, r in zip(ns, curve, strict=True):
            if n > ranked.size:
                rows.append({"class": int(c), "N": int(n), "rws": np.nan, "recall": np.nan})
                continue
            rows.append({"class": int(c), "N": int(n), "rws": float(r), "recall": int(cum[n - 1])})
    return pd.DataFrame(rows)


def cumulative_recall(score: np.ndarray, is_anomaly: np.ndarray, n_max: int) -> np.ndarray:
    """Cumulative number of anomalies found at each rank 1..n_max (shape (n_max,))."""
    ranked = np.asarray(is_anomaly)[rank_order(score)][:n_max]
    return np.cumsum(ranked.astype(np.int64))
