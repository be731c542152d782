"""Workflow steps specific to the five-class simulation: evaluation, aggregation over seeds,
Figures 1 and 6-9, the timing table and the reproduction report."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.embedding import choose_subset, tsne_map
from astroanom.evaluation import class_curves, class_metrics, round_metrics, summarise
from astroanom.io import read_features, write_csv, write_parquet, write_text
from astroanom.steps import labels_per_round, round_columns


class _LazyModule:
    """A module imported on first attribute access (plotting pulls in matplotlib and seaborn,
    which the non-figure jobs importing this module never use)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


figs = _LazyModule("astroanom.plots.simulation")


def save(*args: Any, **kwargs: Any) -> None:
    """:func:`astroanom.plots.style.save`, imported when a figure is saved."""
    from astroanom.plots.style import save as _save

    _save(*args, **kwargs)


log = logging.getLogger("astroanom.simulation")
PathLike = str | os.PathLike[str]


def evaluate_step(
    objects: PathLike,
    active: PathLike,
    rounds: PathLike,
    metrics_csv: PathLike,
    rounds_csv: PathLike,
    curves: PathLike,
    class_ids: Sequence[int],
    ns: Sequence[int],
    top: int,
    curve_max_n: int,
) -> None:
    """Per-class RWS/recall before and after (CSV), per-round shares (CSV), curves (Parquet)."""
    obj = pd.read_parquet(objects)
    act = pd.read_parquet(active)
    rnd = pd.read_parquet(rounds)
    classes = obj["class"].to_numpy()
    stages = {"before": act["S"].to_numpy(), "after": act["score"].to_numpy()}
    write_csv(class_metrics(classes, stages, class_ids, ns), metrics_csv)
    cols = round_columns(rnd)
    table = round_metrics(classes, rnd[cols].to_numpy().T, labels_per_round(rnd), class_ids, top)
    write_csv(table, rounds_csv)
    write_parquet(class_curves(classes, stages, class_ids, min(curve_max_n, len(obj))), curves)


def aggregate_step(
    seeds: Sequence[int],
    metrics: Sequence[PathLike],
    rounds: Sequence[PathLike],
    curves: Sequence[PathLike],
    out_metrics_by_seed: PathLike,
    out_metrics: PathLike,
    out_rounds: PathLike,
    out_curves: PathLike,
) -> None:
    """Stack per-seed tables (adding ``seed``) and summarise metrics as mean/sd/min/max."""

    def stack(paths: Sequence[PathLike], reader) -> pd.DataFrame:
        parts = [reader(p).assign(seed=int(s)) for s, p in zip(seeds, paths, strict=True)]
        t = pd.concat(parts, ignore_index=True)
        return t[["seed", *[c for c in t.columns if c != "seed"]]]

    m = stack(metrics, pd.read_csv)
    write_csv(m, out_metrics_by_seed)
    write_csv(summarise(m, ["stage", "class", "N"], ["rws", "recall"]), out_metrics)
    write_csv(stack(rounds, pd.read_csv), out_rounds)
    write_parquet(stack(curves, pd.read_parquet), out_curves)


def embedding_step(
    features: PathLike,
    active: PathLike,
    embedding: PathLike,
    n_objects: int,
    perplexity: float,
    seed: int,
    threads: int = 1,
    method: str = "tsne",
    params: Mapping[str, Any] | None = None,
) -> None:
    """2-D map (:func:`astroanom.embedding.embed`; default scikit-learn t-SNE) of a seeded subset
    plus every labelled object; writes id, x, y."""
    df, X = read_features(features)
    act = pd.read_parquet(active)
    labelled = np.flatnonzero(act["label"].notna().to_numpy())
    rows = choose_subset(len(df), n_objects, seed, always=labelled)
    log.info("%s map of %d objects (%d labelled)", method, rows.size, labelled.size)
    if method == "tsne":
        xy = tsne_map(X[rows], seed=seed, perplexity=perplexity, n_jobs=threads)
    else:
        from astroanom.embedding import embed

        kwargs = {"perplexity": perplexity} if method == "opentsne" else {}
        xy = embed(X[rows], method, seed=seed, n_jobs=threads, **{**kwargs, **dict(params or {})})
    write_parquet(
        pd.DataFrame({"id": df["id"].to_numpy()[rows], "x": xy[:, 0], "y": xy[:, 1]}), embedding
    )


def fig1_step(embedding: PathLike, active: PathLike, png: PathLike, pdf: PathLike) -> None:
    emb = pd.read_parquet(embedding)
    act = pd.read_parquet(active).set_index("id").loc[emb["id"]]
    xy = emb[["x", "y"]].to_numpy()
    lab = act["label"].to_numpy()
    has = ~np.isnan(lab)
    save(
        figs.fig1_heatmaps(xy, act["S"].to_numpy(), act["score"].to_numpy(), xy[has], lab[has]),
        png,
        pdf,
    )


def fig6_step(
    features: PathLike,
    objects: PathLike,
    active: PathLike,
    info: PathLike,
    png: PathLike,
    pdf: PathLike,
    seed: int,
) -> None:
    df, X = read_features(features)
    obj = pd.read_parquet(objects)
    act = pd.read_parquet(active)
    meta = json.loads(Path(info).read_text(encoding="utf-8"))
    x = np.asarray(meta["extra"]["x"])
    fig = figs.fig6_examples(
        x,
        X,
        obj["class"].to_numpy(),
        df["id"].to_numpy(),
        act["score"].to_numpy(),
        act["S"].to_numpy(),
        seed,
    )
    save(fig, png, pdf)


def _relevance(oracle: Mapping[str, Any]) -> dict[int, int]:
    return {int(k): int(v) for k, v in oracle["relevance"].items()}


def fig7_step(
    rounds: PathLike,
    png: PathLike,
    pdf: PathLike,
    class_ids: Sequence[int],
    top: int,
    oracle: Mapping[str, Any],
) -> None:
    save(figs.fig7_incremental(pd.read_csv(rounds), class_ids, top, _relevance(oracle)), png, pdf)


def fig8_step(
    curves: PathLike,
    png: PathLike,
    pdf: PathLike,
    class_ids: Sequence[int],
    oracle: Mapping[str, Any],
    n_class: int,
) -> None:
    save(figs.fig8_rws(pd.read_parquet(curves), class_ids, _relevance(oracle), n_class), png, pdf)


def fig9_step(
    curves: PathLike,
    png: PathLike,
    pdf: PathLike,
    class_ids: Sequence[int],
    oracle: Mapping[str, Any],
) -> None:
    save(figs.fig9_recall(pd.read_parquet(curves), class_ids, _relevance(oracle)), png, pdf)


def timing_step(
    detect: Sequence[PathLike],
    active: Sequence[PathLike],
    incremental: Sequence[PathLike],
    embedding: Sequence[PathLike],
    simulate: Sequence[PathLike],
    out_csv: PathLike,
    out_md: PathLike,
    detector: str,
    n_labels: int,
    n_embed: int,
) -> None:
    """Timing table like the paper's Table C.3, from the rules' benchmark files."""
    from astroanom.timing import TimedTask, timing_table, to_markdown

    tasks = [
        TimedTask("Data generation", "five-class simulation", simulate),
        TimedTask("Feature extraction", "raw data used as features", [], float("nan")),
        TimedTask(
            "Anomaly detection",
            f"{detector}",
            detect,
            199.91 if detector == "lof" else float("nan"),
        ),
        TimedTask(
            "Active learning", f"{n_labels} labelled objects used, one retrain", active, 4.31
        ),
        TimedTask("Active learning, incremental", f"rounds up to {n_labels} labels", incremental),
        TimedTask(
            "Visualisation (t-SNE)",
            f"subset of {n_embed} objects plus the labelled ones",
            embedding,
            40.61,
        ),
    ]
    table = timing_table([t for t in tasks if t.files])
    write_csv(table, out_csv)
    write_text(
        to_markdown(table, "Timing of the simulation experiment (cf. paper Table C.3)"), out_md
    )


def reproduction_step(
    presets: Sequence[str],
    metrics_by_seed: Sequence[PathLike],
    rounds: Sequence[PathLike],
    timing: PathLike,
    out_md: PathLike,
    seeds: Sequence[int],
    top: int,
    descriptions: Mapping[str, str],
) -> None:
    """Write reproduction.md: the paper's claims beside our numbers for every preset."""
    from astroanom.reproduction import render, simulation_claims, timing_claims

    per_preset = {
        p: simulation_claims(pd.read_csv(m), pd.read_csv(r), n=top)
        for p, m, r in zip(presets, metrics_by_seed, rounds, strict=True)
    }
    text = render(per_preset, timing_claims(pd.read_csv(timing)), descriptions, seeds)
    write_text(text, out_md)
