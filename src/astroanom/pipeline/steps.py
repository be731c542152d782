"""Workflow steps as plain functions from input paths to output paths.

Each function is one Snakemake rule's work; the scripts in ``workflow/scripts`` only unpack the
``snakemake`` object and call these. They log progress and write atomically.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.active.oracle import ClassOracle, FractionOracle, incremental_loop, single_retrain
from astroanom.active.score import RelevanceLearner
from astroanom.detect.detectors import anomaly_scores, detector_from_config
from astroanom.errors import ConfigError
from astroanom.sources.simulation import simulate
from astroanom.store import dataset as ds
from astroanom.store.io import read_features, write_csv, write_parquet

log = logging.getLogger("astroanom.pipeline.steps")
PathLike = str | os.PathLike[str]


def simulate_step(
    outdir: PathLike,
    classes: Mapping[int, Mapping[str, Any]],
    counts: Mapping[int, int],
    seed: int,
    n_x: int,
    noise_sd: float,
    name: str,
) -> None:
    """Draw the five-class simulation; write features, objects and dataset.json in ``outdir``."""
    t0 = time.perf_counter()
    counts = {int(k): int(v) for k, v in counts.items()}
    classes = {int(k): v for k, v in classes.items()}
    data = simulate(classes, counts, seed=seed, n_x=n_x, noise_sd=noise_sd)
    out = Path(outdir)
    frame = data.to_frame()
    write_parquet(frame.drop(columns="class"), out / ds.FEATURES)
    write_parquet(data.params, out / ds.OBJECTS)
    ds.DatasetInfo(
        name=name,
        kind="curve",
        description=f"five-class simulation, {len(frame)} curves of {n_x} points",
        seed=seed,
        x_label="x",
        y_label="y",
        extra={"x": np.linspace(0, 1, n_x).tolist()},
    ).write(out)
    log.info("simulated %d objects (%s) in %.2f s", len(frame), counts, time.perf_counter() - t0)


def detect_step(
    features: PathLike, scores: PathLike, detector: Mapping[str, Any], seed: int, threads: int = 1
) -> None:
    """Run the configured detector (see :func:`astroanom.detect.detectors.detector_from_config`) on a
    feature table; write id, raw (native score) and S (0..5)."""
    df, X = read_features(features)
    det = detector_from_config(dict(detector), seed=seed, n_jobs=threads)
    t0 = time.perf_counter()
    raw, S = anomaly_scores(det, X)
    log.info("%s on %d x %d features in %.2f s", det.name, *X.shape, time.perf_counter() - t0)
    write_parquet(pd.DataFrame({"id": df["id"].to_numpy(), "raw": raw, "S": S}), scores)


def make_oracle(objects: pd.DataFrame, oracle: Mapping[str, Any]) -> ClassOracle | FractionOracle:
    """Simulated labeller from config: ``relevance`` by class, or ``fraction_column`` votes."""
    if "relevance" in oracle:
        return ClassOracle(
            objects["class"].to_numpy(), {int(k): int(v) for k, v in oracle["relevance"].items()}
        )
    if "fraction_column" in oracle:
        return FractionOracle(objects[oracle["fraction_column"]].to_numpy())
    raise ConfigError("an oracle needs either 'relevance' (class -> U) or 'fraction_column'")


def _aligned(features: PathLike, scores: PathLike, objects: PathLike):
    df, X = read_features(features)
    sc = pd.read_parquet(scores)
    obj = pd.read_parquet(objects)
    for name, other in (("scores", sc), ("objects", obj)):
        if not np.array_equal(other["id"].to_numpy(), df["id"].to_numpy()):
            raise ConfigError(f"{name} table ids do not match the feature table's ids, row for row")
    return df, X, sc["S"].to_numpy(dtype=np.float64), obj


def retrain_step(
    features: PathLike,
    scores: PathLike,
    objects: PathLike,
    active: PathLike,
    oracle: Mapping[str, Any],
    n_labels: int,
    alpha: float,
    n_estimators: int,
    seed: int,
    threads: int = 1,
    labels_file: PathLike | None = None,
) -> None:
    """Label the top ``n_labels`` by S with the simulated oracle, retrain once, write active.parquet.

    With ``oracle["mode"] == "human"`` the labels come from ``labels_file`` (the labeller's
    labels.csv) instead, all of them; ``n_labels`` is then unused.
    """
    df, X, S, obj = _aligned(features, scores, objects)
    learner = RelevanceLearner(n_estimators=n_estimators, seed=seed, n_jobs=threads)
    t0 = time.perf_counter()
    if oracle.get("mode", "simulated") == "human":
        from astroanom.store.labels import human_retrain

        labelled, labels, res = human_retrain(
            X, S, df["id"].to_numpy(), labels_file, learner, alpha
        )
    else:
        labelled, labels, res = single_retrain(
            X, S, make_oracle(obj, oracle), learner, n_labels, alpha
        )
    log.info("retrained on %d labels in %.3f s", labelled.size, time.perf_counter() - t0)
    label_col = np.full(X.shape[0], np.nan)
    label_col[labelled] = labels
    out = pd.DataFrame(
        {
            "id": df["id"].to_numpy(),
            "S": S,
            "U": res.U,
            "d": res.d,
            "score": res.score,
            "label": label_col,
        }
    )
    write_parquet(out, active)


def incremental_step(
    features: PathLike,
    scores: PathLike,
    objects: PathLike,
    rounds: PathLike,
    oracle: Mapping[str, Any],
    batch: int,
    budget: int,
    alpha: float,
    n_estimators: int,
    seed: int,
    threads: int = 1,
) -> None:
    """Incremental loop; write per-object scores after each round (columns ``round00``..) and
    the labelling order (``label_order``: round in which each object was labelled, -1 if never)."""
    df, X, S, obj = _aligned(features, scores, objects)
    learner = RelevanceLearner(n_estimators=n_estimators, seed=seed, n_jobs=threads)
    t0 = time.perf_counter()
    res = incremental_loop(X, S, make_oracle(obj, oracle), learner, batch, budget, alpha)
    log.info(
        "%d rounds, %d labels in %.2f s",
        len(res.n_labels) - 1,
        res.labelled.size,
        time.perf_counter() - t0,
    )
    cols = {f"round{r:02d}": res.scores[r] for r in range(len(res.n_labels))}
    out = pd.DataFrame({"id": df["id"].to_numpy(), **cols})
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


def concat_tables(
    paths: Sequence[PathLike], keys: Mapping[str, Sequence[Any]], out: PathLike
) -> None:
    """Concatenate CSV tables, adding one column per key (e.g. seed) with the given values."""
    parts = []
    for i, p in enumerate(paths):
        t = pd.read_csv(p)
        for k, vals in keys.items():
            t.insert(0, k, vals[i])
        parts.append(t)
    write_csv(pd.concat(parts, ignore_index=True), out)
