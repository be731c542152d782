"""Steps of ``workflow/rules/active.smk``: detection, the single retrain and the incremental loop.

Simulated oracle (the paper's experiments, a dataset with truth): label the top ``budget`` by S
and retrain once; and the incremental loop (``batch`` labels per round). Human oracle (the
default): retrain the dataset's strategy on the user's label file; with no labels yet the
ranking stays by S and the log says how to start labelling.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.store.io import read_features, write_parquet

log = logging.getLogger("astroanom.active")
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


def detect_step(
    features: PathLike, scores: PathLike, detector: Mapping[str, Any], seed: int, threads: int = 1
) -> None:
    """Run the configured detector on a feature table; write id, raw (native score), S (0..5)."""
    from astroanom.detect.detectors import anomaly_scores, detector_from_config

    df, X = read_features(features)
    det = detector_from_config(dict(detector), seed=seed, n_jobs=threads)
    t0 = time.perf_counter()
    raw, S = anomaly_scores(det, X)
    log.info("%s on %d x %d features in %.2f s", det.name, *X.shape, time.perf_counter() - t0)
    write_parquet(pd.DataFrame({"id": df["id"].to_numpy(), "raw": raw, "S": S}), scores)


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
    """The single retrain; writes id, S, U, d, score (= S^ or the strategy's score), label.

    Simulated oracle: label the top ``oracle.budget`` by S, retrain the paper's learner once.
    Human oracle: the labels in ``labels_file`` (all of them), the configured ``strategy``.
    ``shared``: the ``active_learning`` section (alpha, n_estimators).
    """
    from astroanom.active.score import RelevanceLearner

    df, X, S = read_inputs(features, scores)
    ids = df["id"].to_numpy()
    t0 = time.perf_counter()
    nan = np.full(S.size, np.nan)
    if oracle["mode"] == "simulated":
        from astroanom.active.loop import single_retrain

        learner = RelevanceLearner(n_estimators=shared["n_estimators"], seed=seed, n_jobs=threads)
        orc = _oracle(ids, truth, truth_spec, oracle)
        labelled, labels, res = single_retrain(
            X, S, orc, learner, oracle["budget"], shared["alpha"]
        )
        _write_active(ids, S, labelled, labels, res.U, res.d, res.score, active)
        log.info(
            "retrained on %d simulated labels in %.3f s", labelled.size, time.perf_counter() - t0
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
        _write_active(ids, S, labelled, labels, nan, nan.copy(), S.copy(), active)
        return
    from astroanom.active.loop import refit_strategy
    from astroanom.active.strategies import strategy_from_config

    strat = strategy_from_config(strategy, seed=seed, n_jobs=threads, shared=shared)
    score = refit_strategy(strat, X, S, labelled, labels)
    res = getattr(strat, "result", None)
    U, d = (res.U, res.d) if res is not None else (nan, nan.copy())
    _write_active(ids, S, labelled, labels, U, d, score, active)
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
    shared: Mapping[str, Any],
    seed: int,
    threads: int = 1,
) -> None:
    """The incremental loop with the simulated oracle; writes per-object scores after each round
    (``round00``..), ``label_round`` (round an object was labelled in, -1 if never) and
    ``label``."""
    from astroanom.active.loop import incremental_loop
    from astroanom.active.score import RelevanceLearner

    df, X, S = read_inputs(features, scores)
    ids = df["id"].to_numpy()
    orc = _oracle(ids, truth, truth_spec, oracle)
    batch, budget = int(oracle["batch"]), int(oracle["budget"])
    learner = RelevanceLearner(n_estimators=shared["n_estimators"], seed=seed, n_jobs=threads)
    t0 = time.perf_counter()
    res = incremental_loop(X, S, orc, learner, batch, budget, shared["alpha"])
    log.info(
        "%d rounds, %d labels in %.2f s",
        len(res.n_labels) - 1,
        res.labelled.size,
        time.perf_counter() - t0,
    )
    cols = {f"round{r:02d}": res.scores[r] for r in range(len(res.n_labels))}
    out = pd.DataFrame({"id": ids, **cols})
    when = np.full(X.shape[0], -1, dtype=np.int64)
    when[res.labelled] = np.arange(res.labelled.size) // batch + 1
    out["label_round"] = when
    out["label"] = np.nan
    out.loc[res.labelled, "label"] = res.labels
    write_parquet(out, rounds)


def round_columns(frame: pd.DataFrame) -> list[str]:
    """The ``roundNN`` score columns of an incremental-loop table, in order."""
    return sorted(c for c in frame.columns if c.startswith("round") and c[5:].isdigit())


def labels_per_round(frame: pd.DataFrame) -> np.ndarray:
    """Number of labels used for the ranking of each ``roundNN`` column (round 0: none)."""
    lr = frame["label_round"].to_numpy()
    return np.array(
        [int(np.count_nonzero((lr >= 1) & (lr <= r))) for r in range(len(round_columns(frame)))]
    )
