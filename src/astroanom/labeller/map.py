"""The labeller's 2-D map: ``embedding.parquet`` when the workflow made one, else a seeded t-SNE
(the workflow's :func:`astroanom.evaluate.embedding.tsne_map`) of a seeded sample of the objects,
computed once per feature table: it is kept in the dataset's labeller cache
(``.labeller-cache/map-*.npy``, named by the feature file's size and time, the seed and the
sample size) and read back by later servers. A labelled object outside the sample is drawn at
the place of its nearest sampled object (nearest in feature space), so every label is on the
map without a new t-SNE per label."""

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
        cache_dir: Path | None = None,
    ) -> None:
        self.dir, self.X, self.ids, self.index = directory, X, ids, index
        self.cache_dir = cache_dir
        self._sample: pd.DataFrame | None = None
        self.max_objects, self.seed, self.threads = max_objects, seed, threads
        self._labelled_rows = labelled_rows
        self._points: pd.DataFrame | None = None
        self._lock = threading.Lock()

    @property
    def source(self) -> str:
        """Where the points come from, as the page says it."""
        return "embedding.parquet" if (self.dir / ds.EMBEDDING).is_file() else "t-SNE (computed)"

    def points(self) -> pd.DataFrame:
        """The map (id, x, y, row): ``embedding.parquet``'s points, or the cached t-SNE of the
        sample with the labelled objects outside it at their nearest sampled object."""
        with self._lock:
            if self._points is None and (self.dir / ds.EMBEDDING).is_file():
                self._points = self._load()
            if self._points is not None:
                return self._points
            if self._sample is None:
                self._sample = self._tsne()
            return self._with_labelled(self._sample)

    def _with_labelled(self, sample: pd.DataFrame) -> pd.DataFrame:
        """``sample`` plus the labelled rows it lacks, each at its nearest sampled object."""
        from astroanom.active._distance_numba import min_squared_distance

        rows = sample["row"].to_numpy()
        extra = np.setdiff1d(np.asarray(self._labelled_rows(), dtype=np.int64), rows)
        if extra.size == 0:
            return sample
        near = np.zeros(extra.size, dtype=np.int64)
        min_squared_distance(self.X[extra], self.X[rows], tags=np.arange(rows.size), arg=near)
        add = pd.DataFrame(
            {
                "id": self.ids[extra].astype(str),
                "x": sample["x"].to_numpy()[near],
                "y": sample["y"].to_numpy()[near],
                "row": extra,
            }
        )
        return pd.concat([sample, add], ignore_index=True)

    def _cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        st = (self.dir / ds.FEATURES).stat()
        name = f"map-{st.st_size}-{st.st_mtime_ns}-{self.seed}-{self.max_objects}.npy"
        return self.cache_dir / name

    def _load(self) -> pd.DataFrame:
        emb = pd.read_parquet(self.dir / ds.EMBEDDING, columns=["id", "x", "y"])
        emb["id"] = emb["id"].astype(str)
        rows = self.index.rows(emb["id"].to_numpy(dtype=str))
        emb = emb[rows >= 0].reset_index(drop=True)
        emb["row"] = rows[rows >= 0]
        return emb

    def _tsne(self) -> pd.DataFrame:
        """A seeded t-SNE of ``max_objects`` random objects, from the cache when there."""
        from astroanom.evaluate.embedding import choose_subset, tsne_map
        from astroanom.store.io import atomic_path

        cache = self._cache_file()
        if cache is not None and cache.is_file():
            try:
                table = np.load(cache, allow_pickle=False)
                rows = table[:, 0].astype(np.int64)
                return pd.DataFrame(
                    {
                        "id": self.ids[rows].astype(str),
                        "x": table[:, 1],
                        "y": table[:, 2],
                        "row": rows,
                    }
                )
            except (OSError, ValueError, IndexError) as err:
                log.warning("map cache %s not used: %s", cache, err)
        rows = choose_subset(self.ids.size, self.max_objects, self.seed)
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
        if cache is not None:
            try:
                cache.parent.mkdir(exist_ok=True)
                with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
                    np.save(fh, np.column_stack([rows, xy[:, 0], xy[:, 1]]), allow_pickle=False)
            except OSError as err:
                log.info("map not cached (%s)", err)
        return pd.DataFrame(
            {"id": self.ids[rows].astype(str), "x": xy[:, 0], "y": xy[:, 1], "row": rows}
        )

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
