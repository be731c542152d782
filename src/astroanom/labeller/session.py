"""One labelling session: a dataset directory, one user's labels, the retrained scores and the
orders the page walks (plain Python, no Flask, so it can be tested and benchmarked directly).

Retraining refits the dataset's configured strategy on the current labels through
:func:`astroanom.active.ranking.rank_for_labeller`: a strategy offering ``top_first`` (the paper's
score) answers once the top of the new order is certain and the rest is ranked in the
background; any other through :func:`astroanom.active.loop.refit_strategy`. A retrain publishes
its result only if no newer one has, and never one whose labels were deleted meanwhile; deleting
labels withdraws a ranking made with them.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from astroanom.active.ranking import CompleteRanking, TopFirstRanking, rank_for_labeller
from astroanom.active.strategies import strategy_from_config
from astroanom.errors import AstroanomError
from astroanom.labeller.columns import CACHE_DIR, IdIndex, load_columns
from astroanom.labeller.distances import LabelDistances
from astroanom.labeller.map import ObjectMap
from astroanom.labeller.render import Renderer, view_for
from astroanom.ordering import rank_order
from astroanom.store import dataset as ds
from astroanom.store.labels import LabelStore, label_arrays

log = logging.getLogger("astroanom.labeller")
PathLike = str | os.PathLike[str]
ORDERS = ("score", "retrained", "random")
#: prefixes of the column orders: ``feature:<name>`` (a feature column), ``meta:<name>`` (a
#: column of ``objects.parquet``)
COLUMN_ORDERS = ("feature:", "meta:")
MAX_SHOWN_FEATURES = 200
Ranking = TopFirstRanking | CompleteRanking


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
    rest follows in the background). ``read_only``: browse without labelling (the label file
    is read, never written). ``known``: the dataset's known examples, id -> relevance
    (:mod:`astroanom.active.known`): every retrain fits them with the user's labels (a label the
    user gives a known object wins), and the first retrain runs at start-up when there are any;
    they are marked "known" in the page, not written to the label file."""

    alpha: float
    n_estimators: int
    seed: int
    strategy: dict[str, Any]
    threads: int = 1
    show_truth: bool = False
    embedding_max: int = 2000
    cache_size: int = 512
    exact_first: int = 1000
    read_only: bool = False
    known: dict[str, int] = field(default_factory=dict)


def _finite(value: Any) -> Any:
    """A JSON-safe scalar: NaN/inf become None, numpy scalars become Python ones."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _text_or_none(value: Any) -> str | None:
    """A metadata value as text for sorting (None for a missing one)."""
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # list-like values
        pass
    return str(value)


@dataclass(frozen=True)
class Published:
    """A retrain's ranking with the labels it was made from and its place in the sequence."""

    ranking: Ranking
    labels: dict[str, int]
    generation: int


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
        cols = load_columns(self.dir, ds.FEATURES, ds.SCORES)
        self.X, self.ids, self.S = cols.X, cols.ids, cols.S
        self.feature_names = cols.names
        names = self.info.extra.get("feature_names") if isinstance(self.info.extra, dict) else None
        if isinstance(names, list) and len(names) == len(self.feature_names):
            self.feature_names = [str(n) for n in names]
        self.index = IdIndex(self.ids, cols.order)
        self.n = self.ids.size
        self.objects = self._aligned_objects()
        self.store = LabelStore(
            labels_path, user, valid_ids=self.index, read_only=settings.read_only
        )
        self.user = self.store.user
        self.known = self._checked_known(settings.known)
        self.read_only = settings.read_only
        self._lock = threading.Lock()
        self._published: Published | None = None
        self._started = 0  # retrains begun (their generations are 1, 2, ...)
        self._shown = 0  # generation of the last retrain that took effect
        self._cancel = threading.Event()  # stops the background ranking of a superseded retrain
        # the relevance model fitted in the background on the labels of the last change:
        # (rows and labels as bytes, model); a retrain on exactly those uses it
        self._prefit: tuple[bytes, Any] | None = None
        self._bound_order: np.ndarray | None = cols.by_abs_S
        self._random = (
            np.random.default_rng(self.settings.seed).permutation(self.n).astype(np.int32)
        )
        self.distances = LabelDistances(self.X, settings.threads)
        self.view = view_for(self)
        self._renderer = Renderer(self.view, self.settings.cache_size)
        self.map = ObjectMap(
            self.dir,
            self.X,
            self.ids,
            self.index,
            max_objects=settings.embedding_max,
            seed=settings.seed,
            threads=settings.threads,
            labelled_rows=self.labelled_rows,
            cache_dir=self.dir / CACHE_DIR if cols.mapped else None,
        )
        # "score" / "random" / column orders -> rows (int32); the S order comes with the columns
        self._orders: dict[str, np.ndarray] = {"score": cols.by_S}
        self._ids_text_ok: bool | None = None
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
        if len(self.store) or self.known:
            self.retrain()
        self.distances.follow(self.training_rows, after=self.prefit)

    # -- loading --------------------------------------------------------------------------------
    def _aligned_objects(self) -> pd.DataFrame:
        """The source's metadata per object; the truth (``truth.parquet``) only with
        ``show_truth``, its columns prefixed ``truth_`` so they are never mistaken for data."""
        path = self.dir / ds.OBJECTS
        if not path.is_file():
            obj = pd.DataFrame(index=pd.RangeIndex(self.n))  # no metadata: no index of ids
        else:
            obj = pd.read_parquet(path)
            obj["id"] = obj["id"].astype(str)
            obj = obj.set_index("id").reindex(self.ids)
        truth = self.dir / ds.TRUTH
        if self.settings.show_truth and truth.is_file():
            t = pd.read_parquet(truth)
            t["id"] = t["id"].astype(str)
            t = t.set_index("id").reindex(self.ids)
            t.index = obj.index
            if t["known"].fillna(False).astype(bool).any():
                obj = obj.join(t.add_prefix("truth_"))
        return obj

    def _checked_known(self, known: dict[str, int]) -> dict[str, int]:
        """The known examples as id -> relevance; an id not of this dataset is an error
        (looked up in the id index: no dict of every id)."""
        from astroanom.active.known import unknown_ids_error

        known = {str(k): int(v) for k, v in known.items()}
        if known:
            rows = self.index.rows(np.array(list(known), dtype=str))
            missing = [k for k, row in zip(known, rows, strict=True) if row < 0]
            if missing:
                raise UnknownIdError(str(unknown_ids_error(missing)))
        return known

    def training_rows(self) -> np.ndarray:
        """Rows (k,) int64 a retrain fits: the known examples' and the user's labelled rows."""
        return np.fromiter((self.index[o] for o in self.training_labels()), dtype=np.int64)

    def labels_changed(self) -> None:
        """A label was added, changed or removed: bring the distances to the labelled objects
        up to date in the background, so the next retrain finds them ready."""
        self.distances.changed()

    def training_labels(self) -> dict[str, int]:
        """What a retrain fits: the known examples and the user's labels (the label wins)."""
        from astroanom.active.known import merge_labels

        return merge_labels(self.known, self.store.current())

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
        """The x-values and axis labels of a dataset drawn in the page (None otherwise)."""
        return self.view.axis()

    def labelled_rows(self) -> np.ndarray:
        """Rows (k,) int64 of the objects labelled now."""
        return np.fromiter((self.index[o] for o in self.store.current()), dtype=np.int64)

    # -- the published ranking --------------------------------------------------------------------
    @property
    def ranking(self) -> Ranking | None:
        """The ranking of the last retrain still valid (None: none yet, or withdrawn)."""
        pub = self._published
        return None if pub is None else pub.ranking

    @property
    def retrained_with(self) -> int:
        """How many labels the ranking shown was made from (0: none, S^ = S)."""
        pub = self._published
        return 0 if pub is None else len(pub.labels)

    def stale(self) -> bool:
        """Whether the labels changed since the ranking shown was made (retrain to update)."""
        pub = self._published
        current = self.store.current()
        return bool(current) if pub is None else current != pub.labels

    def scores_of(self, rows: np.ndarray) -> np.ndarray:
        """S^ of ``rows`` after the last retrain (computed now where not yet), or S if none."""
        ranking = self.ranking
        return self.S[rows] if ranking is None else ranking.values(rows)[2]

    # -- labels -----------------------------------------------------------------------------------
    def unlabel(self, oid: object) -> bool:
        """Remove one label; a ranking made with it is withdrawn (S^ = S until a retrain)."""
        removed = self.store.delete(oid)
        if removed:
            self._withdraw_if_deleted()
            self.labels_changed()
        return removed

    def clear(self) -> int:
        """Remove every label of the user (the log keeps them); the order returns to S."""
        removed = self.store.clear()
        self._withdraw_if_deleted()
        self.labels_changed()
        return removed

    def _withdraw_if_deleted(self) -> None:
        current = self.store.current()
        with self._lock:
            pub = self._published
            if pub is not None and any(k not in current for k in pub.labels):
                self._cancel.set()
                self._published = None
                log.info("labels of the last retrain were deleted: the order is by S again")

    # -- retraining -----------------------------------------------------------------------------
    def retrain(self) -> dict[str, Any]:
        """Recompute U, d and S^ from the current labels with the workflow's strategy.

        Returns once the top ``exact_first`` objects of the new order are certain (for a
        strategy offering ``top_first``; the rest is ranked in a background thread, ``complete``
        says whether it already is). A retrain that ends after a newer one, or after a label it
        used was deleted, is discarded (``discarded``: true) and the shown ranking stays."""
        with self._lock:
            self._started += 1
            generation = self._started
        labels = self.store.current()
        t0 = time.perf_counter()
        fit_on = self.training_labels()
        if not fit_on:
            with self._lock:
                if generation > self._shown:
                    self._cancel.set()
                    self._published, self._shown = None, generation
            return {"n_labels": 0, "seconds": 0.0, "message": "no labels yet: the order stays by S"}
        idx, lab = label_arrays(fit_on, self.index)
        s = self.settings
        strategy = self._strategy()
        model = self._prefitted(idx, lab)
        # the paper's score needs d for every object: kept up to date as labels change
        d = (
            self.distances.distances(idx)
            if callable(getattr(strategy, "top_first", None))
            else None
        )
        with threadpool_limits(limits=s.threads):
            ranking = rank_for_labeller(
                strategy,
                self.X,
                self.S,
                idx,
                lab,
                bound_order=self.bound_order(),
                exact_first=s.exact_first,
                n_jobs=s.threads,
                d=d,
                model=model,
            )
        seconds = time.perf_counter() - t0
        answer = {
            "n_labels": len(labels),
            "n_known": len(fit_on) - len(labels),
            "seconds": round(seconds, 4),
            "exact": int(ranking.n_exact),
            "complete": bool(ranking.complete),
            "prefitted": model is not None,
        }
        reason = self._publish(Published(ranking, labels, generation))
        if reason:
            log.info("retrain on %d labels discarded: %s", idx.size, reason)
            return {**answer, "discarded": True, "message": f"retrain discarded: {reason}"}
        log.info(
            "retrained on %d labels of %d objects in %.3f s (top %d certain%s)",
            idx.size,
            self.n,
            seconds,
            ranking.n_exact,
            "" if ranking.complete else "; ranking the rest in the background",
        )
        return answer

    def _strategy(self) -> Any:
        """The dataset's strategy, built from the settings as every retrain builds it."""
        s = self.settings
        return strategy_from_config(
            s.strategy,
            seed=s.seed,
            n_jobs=s.threads,
            shared={"alpha": s.alpha, "n_estimators": s.n_estimators},
        )

    @staticmethod
    def _fit_key(idx: np.ndarray, lab: np.ndarray) -> bytes:
        return np.asarray(idx, np.int64).tobytes() + b"|" + np.asarray(lab, np.float64).tobytes()

    def prefit(self) -> None:
        """Fit the strategy's relevance model on the current labels (in the distance worker,
        after a label change), so that a retrain on the same labels starts from it: the same
        learner on the same rows and labels in the same order gives the same forest."""
        fit_on = self.training_labels()
        if not fit_on:
            return
        idx, lab = label_arrays(fit_on, self.index)
        key = self._fit_key(idx, lab)
        pre = self._prefit
        if pre is not None and pre[0] == key:
            return
        strategy = self._strategy()
        learner = getattr(strategy, "learner", None)
        if learner is None or not callable(getattr(strategy, "top_first", None)):
            return
        with threadpool_limits(limits=self.settings.threads):
            model = learner.fit(self.X, idx, lab)
        self._prefit = (key, model)

    def _prefitted(self, idx: np.ndarray, lab: np.ndarray) -> Any:
        """The model :meth:`prefit` made for exactly these rows and labels, or None."""
        pre = self._prefit
        return pre[1] if pre is not None and pre[0] == self._fit_key(idx, lab) else None

    def _publish(self, new: Published) -> str:
        """Show ``new`` unless a newer retrain is shown or one of its labels was deleted since;
        returns why it was not shown ("" when it is)."""
        current = self.store.current()
        with self._lock:
            if new.generation <= self._shown:
                return "a newer retrain finished first"
            gone = [k for k in new.labels if k not in current]
            if gone:
                return f"{len(gone)} of its labels were deleted while it ran (e.g. {gone[0]!r})"
            self._cancel.set()
            self._cancel = threading.Event()
            self._published, self._shown = new, new.generation
            cancel = self._cancel
        ranking = new.ranking
        if isinstance(ranking, TopFirstRanking) and not ranking.complete:
            n_labels = len(new.labels)
            ranking.start(cancel, on_done=lambda: self._log_complete(ranking, n_labels))
        return ""

    def bound_order(self) -> np.ndarray:
        """Rows by decreasing |S| (the order :class:`TopFirstRanking` scores in), made once."""
        with self._lock:
            if self._bound_order is None:
                self._bound_order = rank_order(np.abs(self.S))
            return self._bound_order

    def _log_complete(self, ranking: TopFirstRanking, n_labels: int) -> None:
        log.info(
            "full S^ order of %d objects (%d labels) ready %.2f s after the retrain began",
            self.n,
            n_labels,
            ranking.seconds_to_complete or 0.0,
        )

    # -- ordering -------------------------------------------------------------------------------
    def order_state(
        self,
        by: str = "score",
        unlabelled_first: bool = False,
        wait: bool = True,
        descending: bool = True,
    ) -> tuple[np.ndarray, int]:
        """Rows (n,) int32 in display order and how many at the top are certain: by S, by S^
        (S before any retrain), randomly (seeded, stable) or by a feature or metadata column
        (``feature:<name>``, ``meta:<name>``; missing values last either way); highest first
        unless ``descending`` is False; with ``unlabelled_first`` the labelled objects move to
        the end. Right after a retrain only the top of the S^ order may be certain (the rest
        follows in decreasing S until the background ranking ends); ``wait`` waits for the
        complete order instead (always, for the lowest S^ first)."""
        self.check_order(by)
        ranking = self.ranking if by == "retrained" else None
        wait = wait or not descending
        while wait and ranking is not None and not ranking.wait(0.25):
            ranking = self.ranking  # a newer retrain may have superseded the one awaited
        if ranking is not None:
            rows, exact = ranking.rows()
            rows = rows.astype(np.int32, copy=False)  # (read only here: no copy when int32)
            if not descending:
                rows, exact = rows[::-1].copy(), self.n
        elif by.startswith(COLUMN_ORDERS):
            rows, exact = self._column_order(by, descending), self.n
        else:
            rows, exact = self._fixed_order("score" if by == "retrained" else by), self.n
            if not descending:
                rows = rows[::-1].copy()
        if unlabelled_first:
            done = np.zeros(self.n, dtype=bool)
            done[self.labelled_rows()] = True
            at_end = done[rows]
            exact = int(np.count_nonzero(~at_end[:exact])) if exact < self.n else self.n
            rows = np.concatenate([rows[~at_end], rows[at_end]])
        return rows, exact

    def sort_columns(self) -> dict[str, list[str]]:
        """The columns an order can follow besides S, S^ and random: every feature and every
        metadata column but the internal paths (``*_path``) and the id."""
        meta = [str(c) for c in self.objects.columns if not str(c).endswith("_path")]
        return {"feature": list(self.feature_names), "meta": meta}

    def check_order(self, by: str) -> None:
        """Raise ValueError naming the choices unless ``by`` is an order of this dataset."""
        if by in ORDERS:
            return
        group, _, name = by.partition(":")
        if group in ("feature", "meta") and name in self.sort_columns()[group]:
            return
        raise ValueError(
            f"unknown order {by[:80]!r}; use one of {', '.join(ORDERS)}, feature:<name> or "
            "meta:<name> (the columns are in /api/info sort_columns)"
        )

    def _column_values(self, by: str) -> pd.Series:
        group, _, name = by.partition(":")
        if group == "feature":
            return pd.Series(self.X[:, self.feature_names.index(name)])
        return self.objects[name].reset_index(drop=True)

    def _column_order(self, by: str, descending: bool) -> np.ndarray:
        """Rows by one column (numbers numerically, anything else as text; ties keep the row
        order, missing values last), computed once per column and direction."""
        key = f"{by}\0{'desc' if descending else 'asc'}"
        with self._lock:
            rows = self._orders.get(key)
        if rows is None:
            values = self._column_values(by)
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                values = values.map(_text_or_none)
            order = values.sort_values(ascending=not descending, kind="stable", na_position="last")
            rows = order.index.to_numpy().astype(np.int32)
            with self._lock:
                rows = self._orders.setdefault(key, rows)
        return rows

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

    def order_rows(
        self, by: str = "score", unlabelled_first: bool = False, descending: bool = True
    ) -> np.ndarray:
        """Rows (n,) int32 in the complete display order (see :meth:`order_state`)."""
        return self.order_state(by, unlabelled_first, descending=descending)[0]

    def order(self, by: str = "score", unlabelled_first: bool = False) -> list[str]:
        """Ids ordered by S, by S^ (S before any retrain) or randomly (seeded, stable)."""
        return self.ids[self.order_rows(by, unlabelled_first)].tolist()

    def ids_page(self, offset: int = 0, limit: int | None = None) -> np.ndarray:
        """Ids (k,) of rows ``offset`` .. ``offset + limit`` in row order (the client maps the
        rows of :meth:`order_rows` onto these)."""
        stop = self.n if limit is None else min(self.n, offset + limit)
        return self.ids[offset:stop]

    def ids_text_ok(self) -> bool:
        """Whether every id can travel as one line of text (no line break in any), checked
        once."""
        if self._ids_text_ok is None:
            ok = True
            for start in range(0, self.n, 1 << 20):
                codes = np.ascontiguousarray(self.ids[start : start + (1 << 20)]).view(np.uint32)
                if np.isin(codes, (10, 13)).any():  # "\n", "\r"
                    ok = False
                    break
            self._ids_text_ok = ok
        return self._ids_text_ok

    # -- one object -----------------------------------------------------------------------------
    def describe(self, oid: object) -> dict[str, Any]:
        """Scores, label, metadata and features of one object, JSON-ready."""
        i = self.row(oid)
        key = self.ids[i]
        U = d = score = None
        ranking = self.ranking
        if ranking is not None:
            u, dd, sc = ranking.values(np.array([i]))
            U, d, score = float(u[0]), float(dd[0]), float(sc[0])
        meta: dict[str, Any] = {}
        if len(self.objects.columns):
            for k, v in self.objects.iloc[i].items():
                if str(k).endswith("_path") and isinstance(v, str):
                    v = Path(v).name  # internal paths: the file name only
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
            "known": self.known.get(key),
            "metadata": meta,
            "features": [
                [n, _finite(float(v))] for n, v in zip(self.feature_names, feats, strict=False)
            ],
            "n_features": len(self.feature_names),
            "plot": f"/api/plot?id={quote(key, safe='')}",
            "links": self._links(i),
            # curves are drawn in the page from these values (no image round trip)
            "curve": self.view.inline(i),
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
        """The object as a PNG, rendered once per display choice and cached (see
        :mod:`astroanom.labeller.render`)."""
        return self._renderer.png(self.row(oid), display)

    def warm(self, k: int = 8) -> None:
        """Render the ``k`` most anomalous objects (fills the cache and imports the plotting code)."""
        for row in self.order_state("retrained", wait=False)[0][:k]:
            try:
                self.png(self.ids[row])
            except AstroanomError as err:
                log.warning("cannot render object %s: %s", self.ids[row], err)

    # -- map ------------------------------------------------------------------------------------
    def embedding(self) -> pd.DataFrame:
        """The 2-D map (id, x, y, row), see :class:`astroanom.labeller.map.ObjectMap`."""
        return self.map.points()

    def map_points(self) -> dict[str, Any]:
        """The map with current S, S^ and labels per point, JSON-ready."""
        return self.map.json(self.S, self.scores_of, self.store.current())
