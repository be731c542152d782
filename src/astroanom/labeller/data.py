"""What the labeller serves: one dataset directory, one user's labels, orders, plots, a map.

Everything here is plain Python (no Flask) so it can be tested and benchmarked directly.
Retraining refits the dataset's configured strategy (the paper's score by default) through
:func:`astroanom.active.loop.refit_strategy`, the code every round of the benchmark uses; for the
paper's score it answers once the top of the new order is certain
(:class:`astroanom.active.ranking.TopFirstRanking`) and ranks the rest in the background, ending
in the same values and order.
"""

from __future__ import annotations

import io
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from astroanom.active.loop import refit_strategy
from astroanom.active.ranking import CompleteRanking, TopFirstRanking
from astroanom.active.score import ActiveResult, nearest_labelled_distance
from astroanom.active.strategies import PaperScore, strategy_from_config
from astroanom.errors import AstroanomError, BadFeaturesError
from astroanom.evaluate.metrics import rank_order
from astroanom.store import dataset as ds
from astroanom.store.io import read_features
from astroanom.store.labels import LabelStore, label_arrays

log = logging.getLogger("astroanom.labeller")
PathLike = str | os.PathLike[str]
ORDERS = ("score", "retrained", "random")
MAX_SHOWN_FEATURES = 200


class UnknownIdError(AstroanomError, KeyError):
    """An id that is not an object of the dataset."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown id"


@dataclass(kw_only=True)
class LabellerSettings:
    """Retraining settings, taken from the validated workflow config (see
    :func:`astroanom.cli` ``label``): the dataset's strategy, the ``active_learning`` section
    (alpha, n_estimators) and the run's seed; plus serving limits. ``exact_first``: how many
    objects at the top of the new order a retrain ranks for certain before it answers (the
    rest follows in the background)."""

    alpha: float
    n_estimators: int
    seed: int
    strategy: dict[str, Any]
    threads: int = 1
    show_truth: bool = False
    embedding_max: int = 2000
    cache_size: int = 512
    exact_first: int = 1000


def _finite(value: Any) -> Any:
    """A JSON-safe scalar: NaN/inf become None, numpy scalars become Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _PngCache:
    """A small thread-safe LRU cache of rendered PNG bytes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[object, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        png = make()
        with self._lock:
            self._data[key] = png
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return png


class LabellerData:
    """A dataset directory, the user's label store and the current retrained scores.

    Rows follow ``features.parquet``; ``scores.parquet`` and ``objects.parquet`` are aligned to
    it by id. Ids are handled as strings everywhere (image ids are file stems).
    """

    def __init__(
        self,
        dataset_dir: PathLike,
        labels_path: PathLike,
        user: str,
        settings: LabellerSettings,
    ) -> None:
        self.dir = Path(dataset_dir)
        self.settings = settings
        self.info = ds.DatasetInfo.read(self.dir)
        t0 = time.perf_counter()
        feats, self.X = read_features(self.dir / ds.FEATURES)
        self.feature_names = [c for c in feats.columns if c != "id"]
        names = self.info.extra.get("feature_names") if isinstance(self.info.extra, dict) else None
        if isinstance(names, list) and len(names) == len(self.feature_names):
            self.feature_names = [str(n) for n in names]
        self.ids = feats["id"].astype(str).to_numpy()
        if len(set(self.ids)) != self.ids.size:
            raise BadFeaturesError(f"{self.dir / ds.FEATURES}: ids are not unique")
        self.index = {oid: i for i, oid in enumerate(self.ids)}
        self.n = self.ids.size
        self.S = self._aligned_column(ds.SCORES, "S")
        self.objects = self._aligned_objects()
        self.store = LabelStore(labels_path, user, valid_ids=self.index.keys())
        self.user = self.store.user
        self._lock = threading.Lock()
        self.ranking: TopFirstRanking | CompleteRanking | None = None
        self._cancel = threading.Event()  # stops the background ranking of a superseded retrain
        self._bound_order: np.ndarray | None = None
        self.retrained_with = 0
        self._random = np.random.default_rng(self.settings.seed).permutation(self.n)
        self._png = _PngCache(self.settings.cache_size)
        self._population: Any = None
        self._render_lock = threading.Lock()
        self._curve: tuple[Any, Any, Any] | None = None
        self._embedding: pd.DataFrame | None = None
        self._embedding_lock = threading.Lock()
        self._x_values = self._curve_x()
        self._orders: dict[str, np.ndarray] = {}  # "score" / "random" -> rows (int32)
        self._ids_json: bytes | None = None
        log.info(
            "loaded %s: %d objects x %d features in %.2f s",
            self.dir,
            self.n,
            self.X.shape[1],
            time.perf_counter() - t0,
        )
        # Before serving, not beside the first requests: the forest code's import (~0.5 s) and
        # the |S| order, which every retrain needs; then the retrain of labels found on disk.
        import sklearn.ensemble  # noqa: F401

        self.bound_order()
        if len(self.store):
            self.retrain()

    # -- loading --------------------------------------------------------------------------------
    def _aligned_column(self, name: str, column: str) -> np.ndarray:
        table = pd.read_parquet(self.dir / name, columns=["id", column])
        table["id"] = table["id"].astype(str)
        if len(table) != self.n or not np.array_equal(table["id"].to_numpy(), self.ids):
            table = table.set_index("id").reindex(self.ids)
            if table[column].isna().any():
                raise BadFeaturesError(
                    f"{self.dir / name}: ids do not cover the feature table's ids"
                )
            return table[column].to_numpy(dtype=np.float64)
        return table[column].to_numpy(dtype=np.float64)

    def _aligned_objects(self) -> pd.DataFrame:
        """The source's metadata per object; the truth (``truth.parquet``) only with
        ``show_truth``, its columns prefixed ``truth_`` so they are never mistaken for data."""
        path = self.dir / ds.OBJECTS
        if not path.is_file():
            obj = pd.DataFrame(index=pd.Index(self.ids, name="id"))
        else:
            obj = pd.read_parquet(path)
            obj["id"] = obj["id"].astype(str)
            obj = obj.set_index("id").reindex(self.ids)
        truth = self.dir / ds.TRUTH
        if self.settings.show_truth and truth.is_file():
            t = pd.read_parquet(truth)
            t["id"] = t["id"].astype(str)
            t = t.set_index("id").reindex(self.ids)
            if t["known"].fillna(False).astype(bool).any():
                obj = obj.join(t.add_prefix("truth_"))
        return obj

    def _curve_x(self) -> np.ndarray | None:
        if self.info.kind != "curve":
            return None
        x = self.info.extra.get("x") if isinstance(self.info.extra, dict) else None
        if isinstance(x, list) and len(x) == self.X.shape[1]:
            return np.asarray(x, dtype=np.float64)
        return np.arange(self.X.shape[1], dtype=np.float64)

    # -- lookup ---------------------------------------------------------------------------------
    def row(self, oid: object) -> int:
        """Row of an id given by the client; raises :class:`UnknownIdError` if it is not ours."""
        if not isinstance(oid, (str, int)) or isinstance(oid, bool):
            raise UnknownIdError(f"an id must be a string, got {oid!r}")
        try:
            return self.index[str(oid)]
        except KeyError:
            raise UnknownIdError(
                f"unknown id {str(oid)[:100]!r}: not an object of this dataset"
            ) from None

    def curve_axis(self) -> dict[str, Any] | None:
        """The x-values and axis labels of a curve dataset (None for images)."""
        if self._x_values is None:
            return None
        return {
            "x": self._x_values.tolist(),
            "x_label": self.info.x_label,
            "y_label": self.info.y_label,
        }

    def scores_of(self, rows: np.ndarray) -> np.ndarray:
        """S^ of ``rows`` after the last retrain (computed now where not yet), or S if none."""
        ranking = self.ranking
        return self.S[rows] if ranking is None else ranking.values(rows)[2]

    # -- retraining -----------------------------------------------------------------------------
    def retrain(self) -> dict[str, Any]:
        """Recompute U, d and S^ from the current labels with the workflow's learner.

        Returns once the top ``exact_first`` objects of the new order are certain; for the
        paper's score the rest is ranked in a background thread (``complete`` says whether it
        already is)."""
        labels = self.store.current()
        t0 = time.perf_counter()
        if not labels:
            with self._lock:
                self._cancel.set()
                self.ranking, self.retrained_with = None, 0
            return {"n_labels": 0, "seconds": 0.0, "message": "no labels yet: the order stays by S"}
        idx, lab = label_arrays(labels, self.index)
        s = self.settings
        strategy = strategy_from_config(
            s.strategy,
            seed=s.seed,
            n_jobs=s.threads,
            shared={"alpha": s.alpha, "n_estimators": s.n_estimators},
        )
        with threadpool_limits(limits=s.threads):
            if isinstance(strategy, PaperScore):
                ranking: TopFirstRanking | CompleteRanking = self._top_first(strategy, idx, lab)
            else:
                ranking = self._complete(strategy, idx, lab)
        seconds = time.perf_counter() - t0
        with self._lock:
            self._cancel.set()
            self._cancel = threading.Event()
            self.ranking, self.retrained_with = ranking, idx.size
            cancel = self._cancel
        if isinstance(ranking, TopFirstRanking) and not ranking.complete:
            ranking.start(cancel, on_done=lambda: self._log_complete(ranking, idx.size))
        log.info(
            "retrained on %d labels of %d objects in %.3f s (top %d certain%s)",
            idx.size,
            self.n,
            seconds,
            ranking.n_exact,
            "" if ranking.complete else "; ranking the rest in the background",
        )
        return {
            "n_labels": int(idx.size),
            "seconds": round(seconds, 4),
            "exact": int(ranking.n_exact),
            "complete": bool(ranking.complete),
        }

    def _top_first(self, strategy: PaperScore, idx: np.ndarray, lab: np.ndarray) -> TopFirstRanking:
        """The paper's score: forest fitted, distances for all, S^ for the top of |S| first."""
        model = strategy.learner.fit(self.X, idx, lab)
        d = nearest_labelled_distance(self.X, idx, n_jobs=self.settings.threads)
        ranking = TopFirstRanking(
            model,
            self.X,
            self.S,
            d,
            float(d.mean()),
            strategy.alpha,
            bound_order=self.bound_order(),
            first_chunk=max(256, 8 * self.settings.exact_first),
        )
        ranking.ensure_exact(self.settings.exact_first)
        return ranking

    def bound_order(self) -> np.ndarray:
        """Rows by decreasing |S| (the order :class:`TopFirstRanking` scores in), made once."""
        with self._lock:
            if self._bound_order is None:
                self._bound_order = rank_order(np.abs(self.S))
            return self._bound_order

    def _complete(self, strategy: Any, idx: np.ndarray, lab: np.ndarray) -> CompleteRanking:
        """Any other strategy: refit and score every object now."""
        score = refit_strategy(strategy, self.X, self.S, idx, lab)
        res = getattr(strategy, "result", None)
        if res is None:  # a strategy without the paper's U and d (e.g. gp): show its score
            nan = np.full(self.n, np.nan)
            res = ActiveResult(U=nan, d=nan.copy(), d0=float("nan"), score=score)
        return CompleteRanking(res)

    def _log_complete(self, ranking: TopFirstRanking, n_labels: int) -> None:
        log.info(
            "full S^ order of %d objects (%d labels) ready %.2f s after the retrain began",
            self.n,
            n_labels,
            ranking.seconds_to_complete or 0.0,
        )

    # -- ordering -------------------------------------------------------------------------------
    def order_state(
        self, by: str = "score", unlabelled_first: bool = False, wait: bool = True
    ) -> tuple[np.ndarray, int]:
        """Rows (n,) int32 in display order and how many at the top are certain: by S, by S^
        (S before any retrain) or randomly (seeded, stable); with ``unlabelled_first`` the
        labelled objects move to the end. Right after a retrain only the top of the S^ order
        may be certain (the rest follows in decreasing S until the background ranking ends);
        ``wait`` waits for the complete order instead."""
        if by not in ORDERS:
            raise ValueError(f"unknown order {by!r}; use one of {', '.join(ORDERS)}")
        ranking = self.ranking if by == "retrained" else None
        while wait and ranking is not None and not ranking.wait(0.25):
            ranking = self.ranking  # a newer retrain may have superseded the one awaited
        if ranking is not None:
            rows, exact = ranking.rows()
            rows = rows.astype(np.int32)
        else:
            rows, exact = self._fixed_order("score" if by == "retrained" else by), self.n
        if unlabelled_first:
            done = np.zeros(self.n, dtype=bool)
            done[[self.index[k] for k in self.store.current()]] = True
            at_end = done[rows]
            exact = int(np.count_nonzero(~at_end[:exact])) if exact < self.n else self.n
            rows = np.concatenate([rows[~at_end], rows[at_end]])
        return rows, exact

    def _fixed_order(self, by: str) -> np.ndarray:
        """The S order or the seeded random order, computed once."""
        with self._lock:
            rows = self._orders.get(by)
        if rows is None:
            src = self._random if by == "random" else rank_order(self.S)
            rows = src.astype(np.int32)
            with self._lock:
                rows = self._orders.setdefault(by, rows)
        return rows

    def order_rows(self, by: str = "score", unlabelled_first: bool = False) -> np.ndarray:
        """Rows (n,) int32 in the complete display order (see :meth:`order_state`)."""
        return self.order_state(by, unlabelled_first)[0]

    def order(self, by: str = "score", unlabelled_first: bool = False) -> list[str]:
        """Ids ordered by S, by S^ (S before any retrain) or randomly (seeded, stable)."""
        return self.ids[self.order_rows(by, unlabelled_first)].tolist()

    def ids_json(self) -> bytes:
        """``{"ids": [...]}``, every id in row order, JSON-encoded once (the client maps the rows
        of :meth:`order_rows` onto these)."""
        if self._ids_json is None:
            import json

            self._ids_json = json.dumps({"ids": self.ids.tolist()}).encode()
        return self._ids_json

    # -- one object -----------------------------------------------------------------------------
    def describe(self, oid: object) -> dict[str, Any]:
        """Scores, label, metadata and features of one object, JSON-ready."""
        i = self.row(oid)
        key = self.ids[i]
        U = d = score = None
        if self.ranking is not None:
            u, dd, sc = self.ranking.values(np.array([i]))
            U, d, score = float(u[0]), float(dd[0]), float(sc[0])
        meta: dict[str, Any] = {}
        if len(self.objects.columns):
            for k, v in self.objects.iloc[i].items():
                if k == "image_path":
                    v = Path(str(v)).name
                v = _finite(v)
                if isinstance(v, str) and not v.strip():
                    continue  # e.g. "imputed" of an object with nothing imputed
                if v is not None and not (isinstance(v, float) and math.isnan(v)):
                    meta[str(k)] = v
        feats = self.X[i, :MAX_SHOWN_FEATURES].astype(np.float64)
        return {
            "id": key,
            "row": i,
            "S": _finite(float(self.S[i])),
            "U": None if U is None else _finite(U),
            "d": None if d is None else _finite(d),
            "score": None if score is None else _finite(score),
            "label": self.store.current().get(key),
            "metadata": meta,
            "features": [
                [n, _finite(float(v))] for n, v in zip(self.feature_names, feats, strict=False)
            ],
            "n_features": len(self.feature_names),
            "plot": f"/api/plot?id={key}",
            "links": self._links(i),
            # curves are drawn in the page from these values (no image round trip)
            "curve": None if self.info.kind != "curve" else [_finite(float(v)) for v in self.X[i]],
        }

    def _links(self, i: int) -> dict[str, str] | None:
        """Follow-up links (Simbad, Aladin Lite, Legacy Survey viewer) where RA/Dec are known."""
        cols = self.objects.columns
        if "ra" not in cols or "dec" not in cols:
            return None
        from astroanom.links import links_for

        try:
            return links_for(self.objects.iloc[i])
        except (ValueError, AstroanomError):
            return None

    # -- rendering ------------------------------------------------------------------------------
    def png(self, oid: object, display: dict[str, Any] | None = None) -> bytes:
        """The object as a PNG, rendered once per display choice and cached: an image (with
        ``display``: stretch, percentile limits, band or colour composite, see
        :func:`astroanom.labeller.views.image.parse_display`), a light curve per band, a
        spectrum, a table object's features against the population, or a curve."""
        i = self.row(oid)
        key = (i, tuple(sorted((display or {}).items())))
        return self._png.get(key, lambda: self._render(i, display or {}))

    def _render(self, i: int, display: dict[str, Any]) -> bytes:
        with self._render_lock:  # matplotlib's text and font caches are not thread-safe
            cols = self.objects.columns
            if self.info.kind == "image":
                return self._render_image(i, display)
            if "lc_path" in cols:
                from astroanom.labeller.views.light_curve import light_curve_png

                time_label = self.info.x_label if self.info.x_label != "x" else "time"
                return light_curve_png(self._object_row(i), time_label=time_label)
            if "spectrum_path" in cols:
                from astroanom.labeller.views.spectrum import spectrum_png

                return spectrum_png(self._object_row(i))
            if self.info.kind == "table":
                return self._render_table(i)
            return self._render_curve(i)

    def _object_row(self, i: int) -> pd.Series:
        row = self.objects.iloc[i].astype(object)
        row["id"] = self.ids[i]
        return row

    def _render_table(self, i: int) -> bytes:
        """The object's feature values beside the population's distribution: the source's own
        columns when the objects table holds them (a table source), else the features."""
        from astroanom.labeller.views.table import PopulationView, imputed_columns

        if self._population is None:
            names = [n for n in self.feature_names if n in self.objects.columns]
            if names:
                pop = self.objects[names]
            else:
                pop = pd.DataFrame(self.X, columns=self.feature_names, index=self.objects.index)
            self._population = PopulationView(pop)
        row = self._object_row(i)
        names = list(self._population.columns)
        if set(names) <= set(row.index):
            values = row[names]
        else:
            values = pd.Series(self.X[i], index=self.feature_names)
        return self._population.png(values, str(self.ids[i]), imputed_columns(row))

    def _image_file(self, i: int) -> Path:
        if "image_path" not in self.objects.columns:
            raise AstroanomError(f"{self.dir / ds.OBJECTS} has no image_path column")
        p = Path(str(self.objects["image_path"].iloc[i]))
        if p.is_absolute():
            return p
        for base in (self.dir, Path.cwd()):
            if (base / p).is_file():
                return base / p
        return self.dir / p

    def _render_image(self, i: int, display: dict[str, Any] | None = None) -> bytes:
        """The cutout as PNG, read like the feature pipeline reads it. With display choices
        (stretch, limits, band, composite) through :mod:`astroanom.labeller.views.image`;
        without, 8-bit images as they are and other data (FITS, 16-bit PNG) stretched from the
        0.5 to the 99.5 percentile."""
        import cv2

        from astroanom.sources.imageio import load_image

        path = self._image_file(i)
        if display:
            from astroanom.labeller.views.image import render_file

            try:
                return render_file(path, **display)
            except Exception as err:
                raise AstroanomError(
                    f"cannot render image {path} of object {self.ids[i]}: {err}"
                ) from err
        try:
            img = load_image(path)
        except Exception as err:  # ImageReadError and decoder errors alike
            raise AstroanomError(
                f"cannot read image {path} of object {self.ids[i]}: {err}"
            ) from err
        if img.dtype != np.uint8:
            a = np.nan_to_num(np.asarray(img, dtype=np.float64))
            lo, hi = np.percentile(a, [0.5, 99.5])
            img = np.clip((a - lo) / (hi - lo if hi > lo else 1.0) * 255, 0, 255).astype(np.uint8)
        if img.ndim == 3 and img.shape[2] >= 3:
            img = np.ascontiguousarray(img[:, :, 2::-1])  # RGB(A) -> BGR for OpenCV
        ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise AstroanomError(f"cannot encode image of object {self.ids[i]} as PNG")
        return buf.tobytes()

    def _render_curve(self, i: int) -> bytes:
        """Plot the curve on one reused figure (only the line data and limits change)."""
        if self._curve is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=(9, 5), dpi=100)
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.11)
            x = self._x_values if self._x_values is not None else np.arange(self.X.shape[1])
            (line,) = ax.plot(x, self.X[i], color="#1f4e8c", lw=1.6)
            ax.set_xlabel(self.info.x_label)
            ax.set_ylabel(self.info.y_label)
            ax.grid(alpha=0.3)
            self._curve = (fig, ax, line)
        fig, ax, line = self._curve
        line.set_ydata(self.X[i])
        ax.relim()
        ax.autoscale_view()
        ax.set_title(f"object {self.ids[i]}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        return buf.getvalue()

    def warm(self, k: int = 8) -> None:
        """Render the ``k`` most anomalous objects (fills the cache and imports the plotting code)."""
        for row in self.order_state("retrained", wait=False)[0][:k]:
            try:
                self.png(self.ids[row])
            except AstroanomError as err:
                log.warning("cannot render object %s: %s", self.ids[row], err)

    # -- map ------------------------------------------------------------------------------------
    def embedding(self) -> pd.DataFrame:
        """The 2-D map (id, x, y, row): embedding.parquet if present, else a seeded t-SNE (the
        workflow's :func:`astroanom.evaluate.embedding.tsne_map`) of ``embedding_max`` random objects plus
        the labelled ones, computed once and cached in memory."""
        with self._embedding_lock:
            if self._embedding is None:
                self._embedding = self._load_or_compute_embedding()
            return self._embedding

    def _load_or_compute_embedding(self) -> pd.DataFrame:
        path = self.dir / ds.EMBEDDING
        if path.is_file():
            emb = pd.read_parquet(path, columns=["id", "x", "y"])
            emb["id"] = emb["id"].astype(str)
            emb = emb[emb["id"].isin(self.index)].reset_index(drop=True)
            emb["row"] = emb["id"].map(self.index).astype(np.int64)
            return emb
        from astroanom.evaluate.embedding import choose_subset, tsne_map

        labelled = np.fromiter((self.index[o] for o in self.store.current()), dtype=np.int64)
        rows = choose_subset(
            self.n, self.settings.embedding_max, self.settings.seed, always=labelled
        )
        t0 = time.perf_counter()
        # OpenMP threads spin-wait; on a shared machine more threads than free cores is very slow.
        with threadpool_limits(limits=self.settings.threads):
            xy = tsne_map(
                self.X[rows], seed=self.settings.seed, perplexity=30.0, n_jobs=self.settings.threads
            )
        log.info(
            "t-SNE of %d objects in %.1f s (no %s)",
            rows.size,
            time.perf_counter() - t0,
            ds.EMBEDDING,
        )
        return pd.DataFrame({"id": self.ids[rows], "x": xy[:, 0], "y": xy[:, 1], "row": rows})

    def map_points(self) -> dict[str, Any]:
        """The map with current S, S^ and labels per point, JSON-ready."""
        emb = self.embedding()
        rows = emb["row"].to_numpy()
        labels = self.store.current()
        return {
            "id": emb["id"].tolist(),
            "x": np.round(emb["x"].to_numpy(dtype=np.float64), 4).tolist(),
            "y": np.round(emb["y"].to_numpy(dtype=np.float64), 4).tolist(),
            "S": np.round(self.S[rows], 4).tolist(),
            "score": np.round(self.scores_of(rows), 4).tolist(),
            "label": [labels.get(o) for o in emb["id"]],
            "source": "embedding.parquet"
            if (self.dir / ds.EMBEDDING).is_file()
            else "t-SNE (computed)",
        }
