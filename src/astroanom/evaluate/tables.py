"""Tables that score a ranking against known anomalies: per class, per round, per N.

``stage`` is "before" (ranked by the detector score S) or "after" (ranked by the retrained S^).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from astroanom.evaluate.metrics import per_class_table, rws_curve
from astroanom.ordering import rank_order


def class_metrics(
    classes: np.ndarray, stages: dict[str, np.ndarray], class_ids: Sequence[int], ns: Sequence[int]
) -> pd.DataFrame:
    """RWS(N) and recall(N) per class for each ranking in ``stages`` (name -> score (n,))."""
    parts = []
    for stage, score in stages.items():
        t = per_class_table(score, classes, class_ids, ns)
        t.insert(0, "stage", stage)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def class_curves(
    classes: np.ndarray, stages: dict[str, np.ndarray], class_ids: Sequence[int], n_max: int
) -> pd.DataFrame:
    """RWS(N) and cumulative recall for N = 1..n_max, per class and stage (Figs. 8 and 9)."""
    ns = np.arange(1, n_max + 1)
    parts = []
    for stage, score in stages.items():
        ranked = np.asarray(classes)[rank_order(score)]
        for c in class_ids:
            hits = ranked == c
            parts.append(
                pd.DataFrame(
                    {
                        "stage": stage,
                        "class": int(c),
                        "N": ns,
                        "rws": rws_curve(hits, ns),
                        "recall": np.cumsum(hits[:n_max]),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def round_metrics(
    classes: np.ndarray,
    round_scores: np.ndarray,
    n_labels: Sequence[int],
    class_ids: Sequence[int],
    top: int,
) -> pd.DataFrame:
    """Per round of the incremental loop (round_scores (rounds, n)): each class's share of the
    ``top`` highest-ranked objects and its RWS(top) (Fig. 7)."""
    rows = []
    for r, score in enumerate(round_scores):
        ranked = np.asarray(classes)[rank_order(score)[:top]]
        for c in class_ids:
            hits = ranked == c
            rows.append(
                {
                    "round": r,
                    "n_labels": int(n_labels[r]),
                    "class": int(c),
                    "share": float(hits.mean()),
                    "rws": float(rws_curve(hits, [top])[0]),
                }
            )
    return pd.DataFrame(rows)


def takeover_labels(rounds: pd.DataFrame, cls: int, column: str = "share") -> float:
    """First label count at which ``cls`` has the largest ``column`` ("share" of the top N, or
    "rws") among the classes (NaN if never). Ties count as not yet the largest.
    """
    for n, grp in rounds.sort_values("n_labels").groupby("n_labels", sort=True):
        share = grp.set_index("class")[column]
        others = share.drop(index=cls)
        if share[cls] > (others.max() if len(others) else -1):
            return float(n)
    return float("nan")


def summarise(table: pd.DataFrame, by: Sequence[str], values: Sequence[str]) -> pd.DataFrame:
    """Mean, sample sd, min and max over seeds of ``values`` grouped by ``by``."""
    g = table.groupby(list(by), sort=True)[list(values)]
    out = g.agg(["mean", "std", "min", "max"])
    out.columns = [f"{v}_{s}" for v, s in out.columns]
    return out.reset_index()
