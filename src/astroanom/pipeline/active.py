"""Steps of ``workflow/rules/active.smk``: the single retrain and the incremental loop.

Both build the dataset's ``strategy:`` (:func:`astroanom.active.strategies.strategy_from_config`).
Simulated oracle (the paper's experiments, a dataset with truth): the labelling loop
(:func:`astroanom.active.loop.labelling_loop`) with one round of ``budget`` labels (the single
retrain) and with ``batch`` labels per round (the incremental loop). Human oracle (the
default): one refit of the strategy on the user's label file; with no labels yet the ranking
stays by S and the log says how to start labelling.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from astroanom.ordering import rank_order
from astroanom.store.io import read_features, write_parquet

if TYPE_CHECKING:
    from astroanom.active.strategies import Strategy

log = logging.getLogger("astroanom.active")
#: Objects whose score an intermediate round of ``rounds.parquet`` keeps (its top by score).
KEEP_TOP = 1000


PathLike = str | os.PathLike[str]


def aligned(ids: np.ndarray, *tables: tuple[str, pd.DataFrame]) -> None:
    """Raise ValueError unless every table's ``id`` column equals ``ids`` row for row."""
    want = np.asarray(ids).astype(str)
    for name, table in tables:
        have = table["id"].to_numpy().astype(str)
        if have.shape != want.shape or not np.array_equal(have, want):
            raise ValueError(
                f"the {name} table's ids do not match the feature table's ids row for row; "
                "rerun the workflow from the features step (snakemake --forcerun)"
            )


def read_inputs(
    features: PathLike, scores: PathLike
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features (table, float32 (n, m)) and S (n,) of a run, checked row for row."""
    df, X = read_features(features)
    sc = pd.read_parquet(scores)
    aligned(df["id"].to_numpy(), ("scores", sc))
    return df, X, sc["S"].to_numpy(dtype=np.float64)


def _oracle(
    features_ids: np.ndarray,
    truth: PathLike,
    truth_spec: Mapping[str, Any],
    oracle: Mapping[str, Any],
):
    from astroanom.active.oracle import make_oracle

    t = pd.read_parquet(truth)
    aligned(features_ids, ("truth", t))
    return make_oracle(t, truth_spec, oracle)


def _write_active(
    ids: np.ndarray,
    S: np.ndarray,
    labelled: np.ndarray,
    labels: np.ndarray,
    U: np.ndarray,
    d: np.ndarray,
    score: np.ndarray,
    out: PathLike,
) -> None:
    label_col = np.full(S.size, np.nan)
    label_col[labelled] = labels
    write_parquet(
        pd.DataFrame({"id": ids, "S": S, "U": U, "d": d, "score": score, "label": label_col}), out
    )


def human_labels(path: PathLike | None, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (k,) and labels (k,) of a user's label file, validated against ``ids`` (n,)."""
    from astroanom.store.labels import label_arrays, read_labels

    keys = np.asarray(ids).astype(str)
    index = {k: i for i, k in enumerate(keys)}
    if path is None or not Path(path).is_file():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    frame = read_labels(path, valid_ids=index.keys())
    return label_arrays(dict(zip(frame["id"], frame["label"].astype(int), strict=True)), index)


def _strategy(
    strategy: Mapping[str, Any], shared: Mapping[str, Any], seed: int, threads: int
) -> Strategy:
    from astroanom.active.strategies import strategy_from_config

    return strategy_from_config(strategy, seed=seed, n_jobs=threads, shared=shared)


def _paper_terms(strategy: Strategy, n: int) -> tuple[np.ndarray, np.ndarray]:
    """U and d (n,) of the strategy's last refit where it has them (the paper's), else NaN."""
    res = getattr(strategy, "result", None)
    if res is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    return res.U, res.d


def retrain_step(
    features: PathLike,
    scores: PathLike,
    active: PathLike,
    oracle: Mapping[str, Any],
    strategy: Mapping[str, Any],
    shared: Mapping[str, Any],
    seed: int,
    threads: int = 1,
    truth: PathLike | None = None,
    truth_spec: Mapping[str, Any] | None = None,
    labels_file: PathLike | None = None,
    dataset: str = "",
) -> None:
    """The single retrain; writes id, S, U, d, score (the strategy's ranking score), label.

    Simulated oracle: one round of the labelling loop with ``batch = oracle.budget`` (the top
    ``budget`` of the strategy's label-free ranking, S for the paper's score). Human oracle:
    the labels in ``labels_file`` (all of them). Both refit the dataset's ``strategy``; U and d
    are NaN for a strategy without them. ``shared``: the ``active_learning`` section.
    """
    df, X, S = read_inputs(features, scores)
    ids = df["id"].to_numpy()
    t0 = time.perf_counter()
    if oracle["mode"] == "simulated":
        from astroanom.active.loop import labelling_loop

        strat = _strategy(strategy, shared, seed, threads)
        orc = _oracle(ids, truth, truth_spec, oracle)
        budget = int(oracle["budget"])
        run = labelling_loop(X, S, orc, strat, batch=budget, budget=budget)
        _write_active(
            ids, S, run.shown, run.labels, *_paper_terms(strat, S.size), run.final, active
        )
        log.info(
            "retrained %s on %d simulated labels in %.3f s",
            strategy["name"],
            run.shown.size,
            time.perf_counter() - t0,
        )
        return
    labelled, labels = human_labels(labels_file, ids)
    if labelled.size == 0:
        log.warning(
            "no labels in %s yet: the ranking stays by S. Start labelling with "
            "`astroanom label %s`, then rerun snakemake",
            labels_file,
            dataset or "<dataset>",
        )
        nan = np.full(S.size, np.nan)
        _write_active(ids, S, labelled, labels, nan, nan.copy(), S.copy(), active)
        return
    from astroanom.active.loop import refit_strategy

    strat = _strategy(strategy, shared, seed, threads)
    score = refit_strategy(strat, X, S, labelled, labels)
    _write_active(ids, S, labelled, labels, *_paper_terms(strat, S.size), score, active)
    log.info(
        "retrained %s on %d labels from %s in %.3f s",
        strategy["name"],
        labelled.size,
        labels_file,
        time.perf_counter() - t0,
    )


def incremental_step(
    features: PathLike,
    scores: PathLike,
    truth: PathLike,
    rounds: PathLike,
    oracle: Mapping[str, Any],
    truth_spec: Mapping[str, Any],
    strategy: Mapping[str, Any],
    shared: Mapping[str, Any],
    seed: int,
    threads: int = 1,
    keep_top: int = KEEP_TOP,
) -> None:
    """The labelling loop with the simulated oracle, ``oracle.batch`` labels per round up to
    ``oracle.budget``, refitting the dataset's ``strategy``; writes per-object scores before
    any label and after each round (``round00``..; the rounds in between only for their top
    ``keep_top`` and the labelled objects, see :func:`compact_rounds`), ``label_round`` (round
    an object was labelled in, -1 if never) and ``label``."""
    from astroanom.active.loop import labelling_loop

    df, X, S = read_inputs(features, scores)
    ids = df["id"].to_numpy()
    orc = _oracle(ids, truth, truth_spec, oracle)
    strat = _strategy(strategy, shared, seed, threads)
    run = labelling_loop(X, S, orc, strat, int(oracle["batch"]), int(oracle["budget"]))
    log.info(
        "%s: %d rounds, %d labels in %.2f s",
        strategy["name"],
        run.rounds,
        run.shown.size,
        run.seconds,
    )
    when = np.full(X.shape[0], -1, dtype=np.int64)
    when[run.shown] = run.label_round
    cols = compact_rounds(list(run.scores[: run.rounds + 1]), when >= 0, keep_top)
    out = pd.DataFrame({"id": ids, **cols})
    out["label_round"] = when
    out["label"] = np.nan
    out.loc[run.shown, "label"] = run.labels
    write_parquet(out, rounds)


def compact_rounds(
    scores: Sequence[np.ndarray], keep: np.ndarray, keep_top: int = KEEP_TOP
) -> dict[str, np.ndarray]:
    """``roundNN`` columns of ``rounds.parquet`` from the loop's scores (one (n,) array per
    round): round 0 and the last round whole (the viewed orders and Fig. 5 rank every object by
    them); each round between only for its ``keep_top`` highest scores and the rows in ``keep``
    (boolean (n,), the labelled objects: their order within a round needs the previous round's
    score), NaN elsewhere. Every reader ranks NaN last (:func:`astroanom.ordering.rank_order`),
    so a round's top ``keep_top`` (Fig. 7's top N, N <= ``keep_top``) is the same as with every
    score; the file shrinks from rounds x n floats to about 2 n (OGLE-III, 400k objects,
    51 rounds: 171 MB -> a few MB)."""
    last = len(scores) - 1
    keep = np.asarray(keep, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for r, score in enumerate(scores):
        score = np.asarray(score, dtype=np.float64)
        if 0 < r < last and score.size > keep_top:
            kept = keep.copy()
            kept[rank_order(score)[:keep_top]] = True
            score = np.where(kept, score, np.nan)
        out[f"round{r:02d}"] = score
    return out


def round_columns(frame: pd.DataFrame) -> list[str]:
    """The ``roundNN`` score columns of an incremental-loop table, in order."""
    return sorted(c for c in frame.columns if c.startswith("round") and c[5:].isdigit())


def labels_per_round(frame: pd.DataFrame) -> np.ndarray:
    """Number of labels used for the ranking of each ``roundNN`` column (round 0: none)."""
    lr = frame["label_round"].to_numpy()
    return np.array(
        [int(np.count_nonzero((lr >= 1) & (lr <= r))) for r in range(len(round_columns(frame)))]
    )
