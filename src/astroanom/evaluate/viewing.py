"""Anomalies found in the first N objects *viewed*, counted three ways.

After active learning the user has already seen the labelled objects, so counting the first N of
the final ranking (the paper's way) credits the method with anomalies the oracle itself labelled.
Three counts for one ranking (``score`` (n,)) and the labelled objects in the order shown:

- **ranked** (the paper's way): the first N of the full ranking by the final score, labelled
  objects included;
- **viewed** (the viewer's way): the labelled objects in the order they were shown, then the
  unlabelled objects by the final score (:func:`astroanom.ordering.viewing_order`);
- **unlabelled**: the first N among the objects the oracle has not labelled, by the final score
  (what the learning recommends that nobody has seen yet).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from astroanom.ordering import (
    rank_order,
    shown_order_rounds,
    shown_order_single,
    shown_then,
    viewing_order,
    without,
)

FIRST_N_COLUMNS = (
    "method",
    "first_n",
    "found_ranked",
    "found_viewed",
    "found_unlabelled",
    "n_labelled",
    "anomalies_labelled",
    "n_anomalies_total",
    "n_anomalies_unlabelled",
    "n_objects",
)


def first_n_counts(
    wanted: np.ndarray,
    order: np.ndarray,
    shown: np.ndarray,
    ns: Sequence[int],
    exclude: np.ndarray | None = None,
) -> pd.DataFrame:
    """Wanted objects (boolean (n,)) in the first N for each N in ``ns``, three ways.

    ``order`` (n,): the method's full ranking (indices, best first); ``shown``: the objects the
    method had labelled, in the order shown (empty for a method without labels, whose viewed
    order is then its ranking). ``exclude``: the labelled set the unlabelled-only count leaves
    out (default ``shown``; pass another run's labels to compare methods on one pool).
    Columns: first_n, found_ranked, found_viewed, found_unlabelled, n_labelled,
    anomalies_labelled, n_anomalies_unlabelled.
    """
    wanted = np.asarray(wanted, dtype=bool)
    order = np.asarray(order, dtype=np.int64)
    shown = np.asarray(shown, dtype=np.int64)
    n = wanted.size
    if order.size != n or np.unique(order).size != n:
        raise ValueError(f"order must be a permutation of the {n} objects")
    viewed = shown_then(shown, order)
    excl = np.zeros(n, dtype=bool)
    excl[shown if exclude is None else np.asarray(exclude, dtype=np.int64)] = True
    unl = without(order, excl)
    rows = []
    for k in ns:
        rows.append(
            {
                "first_n": int(k),
                "found_ranked": int(wanted[order[:k]].sum()),
                "found_viewed": int(wanted[viewed[:k]].sum()),
                "found_unlabelled": int(wanted[unl[:k]].sum()),
                "n_labelled": int(shown.size),
                "anomalies_labelled": int(wanted[shown].sum()),
                "n_anomalies_unlabelled": int(wanted[~excl].sum()),
            }
        )
    return pd.DataFrame(rows)


def first_n_table(
    wanted: np.ndarray,
    methods: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]],
    ns: Sequence[int],
) -> pd.DataFrame:
    """:func:`first_n_counts` for several methods, name -> (order, shown, exclude), as one
    table with the columns :data:`FIRST_N_COLUMNS`."""
    parts = []
    wanted = np.asarray(wanted, dtype=bool)
    for name, (order, shown, exclude) in methods.items():
        t = first_n_counts(wanted, order, shown, ns, exclude)
        t.insert(0, "method", name)
        t["n_anomalies_total"] = int(wanted.sum())
        t["n_objects"] = int(wanted.size)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)[list(FIRST_N_COLUMNS)]


def experiment_orders(
    S: np.ndarray,
    score: np.ndarray,
    labelled: np.ndarray,
    rounds: pd.DataFrame | None,
    seed: int,
    detector_name: str,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]], dict[str, np.ndarray]]:
    """The rankings of an experiment and their viewed orders.

    ``S`` (n,) detector score, ``score`` (n,) the strategy's score after the single retrain on
    the objects in ``labelled`` (boolean (n,)), ``rounds`` the incremental loop's table
    (``roundNN`` score columns and ``label_round``). The single retrain showed its objects in
    the order of the strategy's ranking without labels: ``round00`` of ``rounds`` (the same
    strategy and seed; S for the paper's score), or S without ``rounds``. Returns (methods,
    viewed): methods name -> (order, shown, exclude) for :func:`first_n_table` (random,
    ``detector_name`` and the single retrain share one unlabelled pool, the single retrain's),
    and viewed ``<name>_viewed`` -> viewed order of the two learning methods.
    """
    n = np.asarray(S).size
    first, cols = S, []
    if rounds is not None:
        cols = sorted(c for c in rounds.columns if c.startswith("round") and c[5:].isdigit())
        first = rounds[cols[0]].to_numpy(dtype=np.float64)
    shown_single = shown_order_single(first, labelled)
    none = np.empty(0, dtype=np.int64)
    methods = {
        "random": (np.random.default_rng(seed).permutation(n), none, shown_single),
        detector_name: (rank_order(S), none, shown_single),
        "active": (rank_order(score), shown_single, None),
    }
    viewed = {"active_viewed": viewing_order(shown_single, np.asarray(score, dtype=np.float64))}
    if rounds is not None:  # the incremental loop (simulated oracles only)
        shown_inc = shown_order_rounds(
            rounds["label_round"].to_numpy(), rounds[cols].to_numpy(dtype=np.float64).T
        )
        last = rounds[cols[-1]].to_numpy(dtype=np.float64)
        methods["active_incremental"] = (rank_order(last), shown_inc, None)
        viewed["active_incremental_viewed"] = viewing_order(shown_inc, last)
    return methods, viewed
