"""Distances to the nearest labelled object, kept up to date while the user labels.

A retrain needs d (n,) for every object, and at millions of objects computing it afresh is the
slowest part of the answer. :class:`LabelDistances` keeps the squared distance t (n,) to the
nearest labelled row and which labelled row that is, and updates them when the set of labelled
rows changes: a new label is one pass over the rows (``t = min(t, t_new)``); a removed one
recomputes only the rows whose nearest it was, against the remaining labels. Every entry is
computed in one fixed order of operations (:mod:`astroanom.active._distance_numba`) and a
minimum is exact, so the result is bit for bit
:func:`astroanom.active.score.nearest_labelled_distance` of the same rows, whatever the order
labels came and went in. Updates run in a background thread after each label change, so a
retrain usually finds them done.

Memory: t, the nearest label's row and |x|^2, 24 bytes per object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from astroanom.active._distance_numba import (
    distance_from_squared,
    min_squared_distance,
    squared_norms,
)

log = logging.getLogger("astroanom.labeller")


class LabelDistances:
    """t and the nearest labelled row for ``X`` (n, m), for the labelled rows last synced."""

    def __init__(self, X: np.ndarray, n_jobs: int = 1) -> None:
        self.X, self.n_jobs = X, max(1, int(n_jobs))
        self._x2: np.ndarray | None = None
        self._t: np.ndarray | None = None
        self._near: np.ndarray | None = None
        self._rows = np.empty(0, dtype=np.int64)  # sorted labelled rows reflected in _t
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._source: Callable[[], np.ndarray] | None = None
        self._worker: threading.Thread | None = None
        self._busy = False  # the worker is bringing t up to date
        self._after: Callable[[], None] | None = None

    def distances(self, rows: np.ndarray) -> np.ndarray:
        """d (n,) float64 to the nearest of the labelled ``rows`` (k >= 1; 0 on them), equal to
        ``nearest_labelled_distance(X, rows)``."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        with self._lock:
            self._sync(rows)
            assert self._t is not None
            d = distance_from_squared(self._t)
        d[rows] = 0.0
        return d

    def _sync(self, rows: np.ndarray) -> None:
        """Bring t and the nearest rows to the labelled set ``rows`` (sorted, unique)."""
        n = self.X.shape[0]
        if self._x2 is None:
            self._x2 = squared_norms(self.X)
        if self._t is None or rows.size == 0:
            self._t, self._near = np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
            self._rows = np.empty(0, dtype=np.int64)
        gone = np.setdiff1d(self._rows, rows, assume_unique=True)
        new = np.setdiff1d(rows, self._rows, assume_unique=True)
        t, near = self._t, self._near
        assert near is not None
        if gone.size:
            lost = np.flatnonzero(np.isin(near, gone))
            keep = np.setdiff1d(self._rows, gone, assume_unique=True)
            sub_t = np.full(lost.size, np.inf)
            sub_near = np.full(lost.size, -1, dtype=np.int64)
            if keep.size and lost.size:
                min_squared_distance(
                    self.X[lost],
                    self.X[keep],
                    out=sub_t,
                    x2=self._x2[lost],
                    n_jobs=self.n_jobs,
                    tags=keep,
                    arg=sub_near,
                )
            t[lost], near[lost] = sub_t, sub_near
        if new.size:
            min_squared_distance(
                self.X, self.X[new], out=t, x2=self._x2, n_jobs=self.n_jobs, tags=new, arg=near
            )
        self._rows = rows

    # -- background updates -----------------------------------------------------------------
    def follow(
        self, source: Callable[[], np.ndarray], after: Callable[[], None] | None = None
    ) -> None:
        """Keep up with ``source()`` (the labelled rows now) in a daemon thread, woken by
        :meth:`changed`; ``after()`` runs in that thread once it has caught up and no newer
        change waits (the labeller fits the relevance forest there)."""
        self._source = source
        self._after = after
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="astroanom-dist", daemon=True)
            self._worker.start()
        self._wake.set()

    def changed(self) -> None:
        """The labelled rows may have changed: update in the background."""
        if self._source is not None:
            self._wake.set()

    def pending(self) -> bool:
        """Whether a label change is not reflected yet (in the distances, or in what ``after``
        prepares): a retrain now would wait for it, or do that work itself."""
        return self._source is not None and (self._wake.is_set() or self._busy)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._busy = True  # before the wake-up is cleared: pending() never misses work
            self._wake.clear()
            try:
                assert self._source is not None
                rows = np.unique(np.asarray(self._source(), dtype=np.int64))
                if rows.size:
                    with self._lock:
                        self._sync(rows)
                if self._after is not None and not self._wake.is_set():
                    self._after()
            except Exception:  # noqa: BLE001 -- a retrain computes them again and reports it
                log.exception("updating the distances to the labelled objects failed")
            finally:
                self._busy = False
