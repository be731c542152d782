"""Step of ``workflow/rules/embedding.smk``: the 2-D map of a dataset run.

The map depends on the features and the detector's score only, never on labels, so labelling
does not rerun it: the subset is a seeded random sample plus the ``include_top`` objects with
the highest S (the ones a user labels first). Colouring it by S^ is a separate, cheap step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from astroanom.evaluate.embedding import choose_subset, embed
from astroanom.ordering import rank_order
from astroanom.store.io import read_features, write_parquet

log = logging.getLogger("astroanom.embedding")
PathLike = str | os.PathLike[str]


def embedding_step(
    features: PathLike,
    scores: PathLike,
    embedding: PathLike,
    n_objects: int,
    perplexity: float,
    include_top: int,
    seed: int,
    threads: int = 1,
    method: str = "tsne",
    params: Mapping[str, Any] | None = None,
) -> None:
    """The map (:func:`astroanom.evaluate.embedding.embed`: ``tsne``, ``opentsne`` or
    ``umap``) of a seeded subset plus the top ``include_top`` by S; writes id, x, y."""
    df, X = read_features(features)
    S = pd.read_parquet(scores, columns=["S"])["S"].to_numpy()
    top = rank_order(S)[:include_top]
    rows = choose_subset(len(df), n_objects, seed, always=top)
    log.info("%s map of %d objects (%d of the highest S)", method, rows.size, top.size)
    extra = {} if method == "umap" else {"perplexity": perplexity}  # UMAP has no perplexity
    xy = embed(X[rows], method, seed=seed, n_jobs=threads, **extra, **dict(params or {}))
    ids = df["id"].to_numpy()[rows]
    write_parquet(pd.DataFrame({"id": ids, "x": xy[:, 0], "y": xy[:, 1]}), embedding)


def map_points(embedding: PathLike, active: PathLike) -> pd.DataFrame:
    """The map's points with S, S^ (``score``) and label of each (id, x, y, S, score, label)."""
    emb = pd.read_parquet(embedding)
    act = pd.read_parquet(active, columns=["id", "S", "score", "label"])
    emb["key"] = emb["id"].astype(str)
    act["key"] = act["id"].astype(str)
    out = emb.merge(act.drop(columns="id"), on="key", how="left").drop(columns="key")
    missing = out["S"].isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} map points have no score: rerun the embedding")
    return out
