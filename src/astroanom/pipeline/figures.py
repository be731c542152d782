"""Steps of ``workflow/rules/figures.smk``: the overview every dataset gets (ranked table, top
objects, score distributions, map) and the paper's figures for the two experiments."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.ordering import rank_order
from astroanom.pipeline.active import aligned
from astroanom.plots.style import save
from astroanom.store.io import read_features, write_people_csv

log = logging.getLogger("astroanom.figures")
PathLike = str | os.PathLike[str]


def _info(path: PathLike) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def ranked_step(objects: PathLike, active: PathLike, out: PathLike) -> None:
    """ranked.csv: every object by S^ (rank 1 = most anomalous) with S, U, d, its label and the
    source's metadata; text cells escaped against spreadsheet formulas (``write_people_csv``)."""
    act = pd.read_parquet(active)
    obj = pd.read_parquet(objects)
    aligned(act["id"].to_numpy(), ("objects", obj))
    order = rank_order(act["score"].to_numpy())
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(1, order.size + 1)
    table = act.rename(columns={"score": "S_hat"}).assign(rank=rank)
    table = table.merge(obj, on="id", how="left", suffixes=("", "_object"))
    table = table.sort_values("rank", kind="stable")
    cols = ["rank", "id", "S_hat", "S", "U", "d", "label"]
    for c in SCORE_COLUMNS:  # 6 significant digits, not 17 (OGLE-III: 63 MB -> see docs)
        if c in table:
            table[c] = significant(table[c].to_numpy(dtype=np.float64))
    write_people_csv(table[cols + [c for c in table.columns if c not in cols]], out)


#: Columns of ranked.csv written with :data:`SCORE_DIGITS` significant digits (the source's
#: metadata, e.g. coordinates, keep theirs).
SCORE_COLUMNS = ("S_hat", "S", "U", "d")
SCORE_DIGITS = 6


def significant(values: np.ndarray, digits: int = SCORE_DIGITS) -> np.ndarray:
    """Text (n,) of ``values`` with ``digits`` significant digits ("%g"); NaN -> empty."""
    text = np.char.mod(f"%.{digits}g", np.nan_to_num(values, nan=0.0))
    return np.where(np.isnan(values), "", text).astype(object)


def top_step(
    features: PathLike,
    objects: PathLike,
    active: PathLike,
    info: PathLike,
    png: PathLike,
    pdf: PathLike,
    n: int,
) -> None:
    """The top ``n`` objects by S^, drawn as their object kind draws them
    (:meth:`astroanom.kinds.base.ObjectKind.top_figure`: image tiles, curves, or the features'
    z-scores)."""
    from astroanom import kinds
    from astroanom.kinds.base import TopObjects

    act = pd.read_parquet(active)
    obj = pd.read_parquet(objects)
    aligned(act["id"].to_numpy(), ("objects", obj))
    meta = _info(info)
    rows = rank_order(act["score"].to_numpy())[:n]
    n_lab = int(act["label"].notna().sum())
    loaded: dict[str, Any] = {}

    def feats() -> tuple[pd.DataFrame, np.ndarray]:
        if not loaded:
            loaded["df"], loaded["X"] = read_features(features)
        return loaded["df"], loaded["X"]

    top = TopObjects(
        objects=obj,
        X=lambda: feats()[1],
        names=lambda: meta.get("extra", {}).get("feature_names") or list(feats()[0].columns[1:]),
        rows=rows,
        ids=act["id"].astype(str).to_numpy()[rows],
        scores=act["score"].to_numpy()[rows],
        title=f"{meta['name']}: top {rows.size} by Ŝ ({n_lab} labels)",
        info=meta,
    )
    save(kinds.get(meta["kind"]).top_figure(top), png, pdf)


def scores_step(active: PathLike, detector: str, png: PathLike, pdf: PathLike) -> None:
    """Distributions of S and S^."""
    from astroanom.plots import overview

    save(
        overview.score_histograms(pd.read_parquet(active), detector),
        png,
        pdf,
    )


def map_step(
    embedding: PathLike,
    active: PathLike,
    png: PathLike,
    pdf: PathLike,
    detector: str,
    dataset: str | None = None,
) -> None:
    """The 2-D map coloured by S and by S^, with the labelled objects marked (no labels yet:
    a note on how to label ``dataset`` instead of the S^ panel)."""
    from astroanom.pipeline.embedding import map_points
    from astroanom.plots.galaxies import tsne_map

    n_labels = int(pd.read_parquet(active, columns=["label"])["label"].notna().sum())
    points = map_points(embedding, active)
    tsne_map(points, png, pdf, detector=detector, n_labels=n_labels, dataset=dataset)


# -- the simulation experiment (paper Figs. 1, 6-9) ---------------------------------------------


def _relevance(oracle: Mapping[str, Any]) -> dict[Any, int]:
    """class -> U; integer classes as ints, text labels (category truth) as they are."""
    out: dict[Any, int] = {}
    for k, v in oracle["relevance"].items():
        try:
            out[int(k)] = int(v)
        except (TypeError, ValueError):
            out[str(k)] = int(v)
    return out


def fig1_step(
    embedding: PathLike,
    active: PathLike,
    png: PathLike,
    pdf: PathLike,
    seed: int | None = None,
    detector: str = "LOF",
) -> None:
    """Fig. 1 of one run (the first seed, said in the figure)."""
    from astroanom.plots import simulation as figs

    emb = pd.read_parquet(embedding)
    full = pd.read_parquet(active)
    n_lab = int(full["label"].notna().sum())
    act = full.set_index("id").loc[emb["id"]]
    xy = emb[["x", "y"]].to_numpy()
    lab = act["label"].to_numpy()
    has = ~np.isnan(lab)
    note = f"One run (seed {seed}); " if seed is not None else ""
    note += f"retrained on {n_lab} labels, {int(has.sum())} of them on the map."
    fig = figs.fig1_heatmaps(
        xy, act["S"].to_numpy(), act["score"].to_numpy(), xy[has], lab[has], detector, note
    )
    save(fig, png, pdf)


def fig6_step(
    features: PathLike,
    truth: PathLike,
    active: PathLike,
    info: PathLike,
    png: PathLike,
    pdf: PathLike,
    seed: int,
) -> None:
    from astroanom.plots import simulation as figs

    df, X = read_features(features)
    t = pd.read_parquet(truth)
    act = pd.read_parquet(active)
    aligned(df["id"].to_numpy(), ("truth", t), ("active", act))
    x = np.asarray(_info(info)["extra"]["x"])
    fig = figs.fig6_examples(
        x,
        X,
        t["value"].to_numpy().astype(np.int64),
        df["id"].to_numpy(),
        act["score"].to_numpy(),
        act["S"].to_numpy(),
        seed,
        labelled=act["label"].notna().to_numpy(),
    )
    save(fig, png, pdf)


def fig7_step(
    rounds: PathLike,
    png: PathLike,
    pdf: PathLike,
    class_ids: Sequence[int],
    top: int,
    oracle: Mapping[str, Any],
) -> None:
    from astroanom.plots import simulation as figs

    save(figs.fig7_incremental(pd.read_csv(rounds), class_ids, top, _relevance(oracle)), png, pdf)


def fig8_step(
    curves: PathLike,
    png: PathLike,
    pdf: PathLike,
    class_ids: Sequence[int],
    oracle: Mapping[str, Any],
    n_class: int,
) -> None:
    from astroanom.plots import simulation as figs

    save(figs.fig8_rws(pd.read_parquet(curves), class_ids, _relevance(oracle), n_class), png, pdf)


def fig9_step(
    curves: PathLike,
    png: PathLike,
    pdf: PathLike,
    class_ids: Sequence[int],
    oracle: Mapping[str, Any],
) -> None:
    from astroanom.plots import simulation as figs

    save(figs.fig9_recall(pd.read_parquet(curves), class_ids, _relevance(oracle)), png, pdf)


# -- the galaxy experiment (paper Figs. 4 and 5) -------------------------------------------------


def fig4_step(
    objects: PathLike,
    truth: PathLike,
    active: PathLike,
    png: PathLike,
    pdf: PathLike,
    truth_spec: Mapping[str, Any],
    detector: str,
    n: int,
    seed: int,
) -> None:
    """Fig. 4: image grids (top after learning, top unlabelled, top by the detector, random);
    tiles name the truth column; artefacts (where the truth knows them) get red borders."""
    from astroanom.plots import galaxies as gp

    obj = pd.read_parquet(objects)
    t = pd.read_parquet(truth)
    act = pd.read_parquet(active)
    aligned(obj["id"].to_numpy(), ("truth", t), ("active", act))
    col = truth_spec["column"]
    shown = obj.assign(**{col: t["value"].to_numpy()})
    for extra in ("kind", "artefact"):
        if extra in t:
            shown[extra] = t[extra].to_numpy()
    gp.fig4_grids(
        shown,
        act,
        png,
        pdf,
        n=n,
        seed=seed,
        truth_column=col,
        threshold=truth_spec["anomaly_above"],
        detector=detector,
    )


def fig5_step(
    curves: PathLike,
    truth: PathLike,
    png: PathLike,
    pdf: PathLike,
    truth_spec: Mapping[str, Any],
    detector: str,
    n_labels: int,
    seed: int | None = None,
) -> None:
    """Fig. 5: wanted objects found and RWS against N, full rankings and viewed orders (one
    run: ``seed`` is said in the figure)."""
    from astroanom.plots import galaxies as gp
    from astroanom.sources.truth import wanted

    n_wanted = int(wanted(pd.read_parquet(truth), truth_spec).sum())
    if truth_spec["kind"] == "fraction":
        col = truth_spec["column"]
        words = gp.TRUTH_WORDS.get(col, col)
        what = f"anomalies ({words} > {truth_spec['anomaly_above']:g})"
    else:
        classes = truth_spec.get("wanted_classes") or truth_spec["anomaly_classes"]
        kind = "type" if truth_spec["kind"] == "category" else "class"
        what = f"wanted objects ({kind} {', '.join(map(str, classes))})"
    note = f"one run, seed {seed} (no band)" if seed is not None else ""
    gp.fig5_recall_rws(
        pd.read_parquet(curves),
        png,
        pdf,
        n_wanted,
        n_labels,
        detector=detector,
        wanted=what,
        note=note,
    )
