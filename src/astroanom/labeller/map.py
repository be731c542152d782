"""The labeller's 2-D map: ``embedding.parquet`` when the workflow made one, else a seeded t-SNE
(the workflow's :func:`astroanom.evaluate.embedding.tsne_map`) computed once per server."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from astroanom.labeller.columns import IdIndex
from astroanom.store import dataset as ds

log = logging.getLogger("astroanom.labeller")


class ObjectMap:
    """Points (id, x, y, row) of a dataset's map, loaded or computed on first use.

    ``labelled_rows`` gives the rows labelled now: a computed map always includes them."""

    def __init__(
        self,
        directory: Path,
        X: np.ndarray,
        ids: np.ndarray,
        index: IdIndex,
        *,
        max_objects: int,
        seed: int,
        threads: int,
        labelled_rows: Callable[[], np.ndarray],
    ) -> None:
        self.dir, self.X, self.ids, self.index = directory, X, ids, index
        self.max_objects, self.seed, self.threads = max_objects, seed, threads
        self._labelled_rows = labelled_rows
        self._points: pd.DataFrame | None = None
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        """Where the points come from, as the page says it."""
        return "embedding.parquet" if (self.dir / ds.EMBEDDING).is_file() else "t-SNE (computed)"

    def points(self) -> pd.DataFrame:
        """The map (id, x, y, row), cached in memory after the first call."""
        with self._lock:
            if self._points is None:
                self._points = self._load() if (self.dir / ds.EMBEDDING).is_file() else self._tsne()
            return self._points

    def _load(self) -> pd.DataFrame:
        emb = pd.read_parquet(self.dir / ds.EMBEDDING, columns=["id", "x", "y"])
        emb["id"] = emb["id"].astype(str)
        rows = self.index.rows(emb["id"].to_numpy(dtype=str))
        emb = emb[rows >= 0].reset_index(drop=True)
        emb["row"] = rows[rows >= 0]
        return emb

    def _tsne(self) -> pd.DataFrame:
        """A seeded t-SNE of ``max_objects`` random objects plus the labelled ones."""
        from astroanom.evaluate.embedding import choose_subset, tsne_map

        n = self.ids.size
        rows = choose_subset(n, self.max_objects, self.seed, always=self._labelled_rows())
        t0 = time.perf_counter()
        # OpenMP threads spin-wait; on a shared machine more threads than free cores is very slow.
        with threadpool_limits(limits=self.threads):
            xy = tsne_map(self.X[rows], seed=self.seed, perplexity=30.0, n_jobs=self.threads)
        log.info(
            "t-SNE of %d objects in %.1f s (no %s)",
            rows.size,
            time.perf_counter() - t0,
            ds.EMBEDDING,
        )
        return pd.DataFrame({"id": self.ids[rows], "x": xy[:, 0], "y": xy[:, 1], "row": rows})

    def json(
        self, S: np.ndarray, scores_of: Callable[[np.ndarray], np.ndarray], labels: dict[str, int]
    ) -> dict[str, Any]:
        """The map with S (n,), the current S^ (``scores_of(rows)``) and labels per point."""
        emb = self.points()
        rows = emb["row"].to_numpy()
        return {
            "id": emb["id"].tolist(),
            "x": np.round(emb["x"].to_numpy(dtype=np.float64), 4).tolist(),
            "y": np.round(emb["y"].to_numpy(dtype=np.float64), 4).tolist(),
            "S": np.round(S[rows], 4).tolist(),
            "score": np.round(scores_of(rows), 4).tolist(),
            "label": [labels.get(o) for o in emb["id"]],
            "source": self.source,
        }
