"""The paper's S^ ranking computed most promising first, exact at every step.

S^ = S tanh(delta - 1 + arctanh(U~)) and |tanh| <= 1, so S^ <= |S| for every object. Objects
are scored (U predicted by the forest, then S^) in decreasing order of |S|. Once the first
``done`` of them are scored, every scored object whose S^ exceeds the largest |S| not yet
scored is ranked exactly: nothing unscored can overtake it. The costly part of a retrain, the
forest's prediction of U over all n objects, is therefore needed only for the top of the |S|
order before the first objects a user looks at are known for certain; the rest can follow in
the background and ends in exactly the order (and the values) of a full retrain, ties by row
as :func:`astroanom.ordering.rank_order` breaks them.

Shapes: n objects; rows are int64 indices into them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from astroanom.active.score import U_MAX, ActiveResult, RelevanceModel, active_score
from astroanom.ordering import rank_order

log = logging.getLogger("astroanom.active")


def rank_order_threads(score: np.ndarray, n_jobs: int = 1, min_rows: int = 1 << 20) -> np.ndarray:
    """:func:`astroanom.ordering.rank_order` of ``score`` (n,), the same indices: with
    ``n_jobs`` >= 2 and at least ``min_rows`` objects the two halves of the rows are sorted in
    two threads and merged (stable, NaN last; 2.3 -> 1.4 s at 10M on 2 cores)."""
    n = np.size(score)
    if n_jobs < 2 or n < max(2, min_rows):
        return rank_order(score)
    from concurrent.futures import ThreadPoolExecutor

    from astroanom.active._merge_numba import merge_runs

    v = -np.asarray(score, dtype=np.float64)
    half = n // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.map(
            lambda part: np.argsort(v[part], kind="stable"), (slice(0, half), slice(half, n))
        )
    b += half
    out = np.empty(n, dtype=np.int64)
    merge_runs(v, a, b, out)
    return out


def _by_score_then_row(rows: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``rows`` sorted by decreasing ``score[rows]``, ties by increasing row."""
    rows = np.sort(rows)
    return rows[np.argsort(-score[rows], kind="stable")]


class TopFirstRanking:
    """S^ for n objects, scored in decreasing |S| and ranked exactly as far as scored.

    ``model`` predicts U (a fitted :class:`RelevanceModel`); ``d`` (n,) and ``d0`` are the
    distances to the nearest labelled object and their mean, as in a full retrain (they are
    cheap next to the forest). ``bound_order`` may pass ``rank_order(|S|)`` when the caller
    has it. Thread-safe: :meth:`finish` may run in one thread while others read.
    """

    def __init__(
        self,
        model: RelevanceModel,
        X: np.ndarray,
        S: np.ndarray,
        d: np.ndarray,
        d0: float,
        alpha: float,
        u_max: float = U_MAX,
        bound_order: np.ndarray | None = None,
        first_chunk: int = 8192,
        chunk: int = 1 << 20,
    ) -> None:
        self.model, self.X = model, X
        self.S = np.asarray(S, dtype=np.float64)
        self.d, self.d0, self.alpha, self.u_max = d, float(d0), alpha, u_max
        self.n = self.S.size
        # rows by decreasing |S| as given (int32 or int64, possibly memory-mapped): no copy
        self._by_bound = (
            rank_order(np.abs(self.S)) if bound_order is None else np.asarray(bound_order)
        )
        self.first_chunk, self.chunk = max(1, first_chunk), max(1, chunk)
        # zeroed (calloc: the pages come as they are written, mostly in the background ranking,
        # instead of 2 x 8 bytes per object before the first answer; 0.5 s at 10M)
        self.U = np.zeros(self.n)
        self.score = np.zeros(self.n)
        self._scored = np.zeros(self.n, dtype=bool)
        self.done = 0  # objects of the |S| order scored so far
        self._exact = np.empty(0, dtype=np.int64)  # ranked for certain, in order
        self._pool = np.empty(0, dtype=np.int64)  # scored, not yet certain
        self._state = threading.Lock()  # guards the arrays above
        self._work = threading.Lock()  # one extension at a time
        self._complete = threading.Event()
        self.error: BaseException | None = None
        self.result: ActiveResult | None = None
        self.seconds_to_complete: float | None = None
        self._t0 = time.perf_counter()

    # -- state ----------------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """True once every object is scored and ranked."""
        return self._complete.is_set()

    @property
    def n_exact(self) -> int:
        """How many objects at the top of the order are ranked for certain."""
        return self._exact.size

    def _score_rows(self, rows: np.ndarray) -> None:
        """U and S^ for ``rows`` not scored yet (values as a full retrain gives them)."""
        need = rows[~self._scored[rows]]
        if need.size == 0:
            return
        U = self.model.predict(self.X, need)
        s = active_score(self.S[need], U, self.d[need], self.alpha, self.d0, self.u_max)
        with self._state:
            self.U[need] = U
            self.score[need] = s
            self._scored[need] = True

    def _extend(self, stop: int) -> None:
        """Score the |S| order up to ``stop`` and move what became certain into the order."""
        stop = min(stop, self.n)
        if stop <= self.done:
            return
        new = self._by_bound[self.done : stop]
        self._score_rows(new)
        bound = abs(float(self.S[self._by_bound[stop]])) if stop < self.n else -np.inf
        pool = np.concatenate([self._pool, new])
        sure = self.score[pool] > bound
        ranked = _by_score_then_row(pool[sure], self.score)
        with self._state:
            self._exact = np.concatenate([self._exact, ranked])
            self._pool = pool[~sure]
            self.done = stop
        if stop == self.n:
            self._finalise()

    def _finalise(self) -> None:
        self.result = ActiveResult(U=self.U, d=self.d, d0=self.d0, score=self.score)
        self.seconds_to_complete = time.perf_counter() - self._t0
        self._complete.set()

    # -- work -----------------------------------------------------------------------------------
    def ensure_exact(self, k: int) -> int:
        """Score down the |S| order (chunks doubling from ``first_chunk``) until the top
        ``min(k, n)`` objects are ranked for certain; returns how many are."""
        k = min(int(k), self.n)
        with self._work:
            while self.n_exact < k and self.done < self.n:
                self._extend(self.done + max(self.first_chunk, self.done))
        return self.n_exact

    def finish(self, cancel: threading.Event | None = None) -> None:
        """Score every object not scored yet, ``chunk`` rows at a time in row order (stops
        early when ``cancel`` is set), then rank them all at once: the order is
        :func:`astroanom.ordering.rank_order` of S^, whose head is the exact top already shown.
        Errors are kept in :attr:`error` and raised again by :meth:`wait`."""
        try:
            step = max(self.chunk, self.first_chunk)
            for start in range(0, self.n, step):
                if cancel is not None and cancel.is_set():
                    return
                rows = start + np.flatnonzero(~self._scored[start : start + step])
                self._score_rows(rows)
            if cancel is not None and cancel.is_set():
                return
            order = rank_order_threads(self.score, self.model.n_jobs)
            with self._work, self._state:
                self._exact = order
                self._pool = np.empty(0, dtype=np.int64)
                self.done = self.n
            self._finalise()
        except BaseException as err:  # noqa: BLE001 -- re-raised to whoever waits
            self.error = err
            self._complete.set()
            log.exception("ranking the remaining objects failed")

    def start(self, cancel: threading.Event, on_done: Callable[[], None] | None = None) -> None:
        """:meth:`finish` in a daemon thread; ``on_done`` runs after it completes."""

        def run() -> None:
            self.finish(cancel)
            if on_done is not None and self.complete and self.error is None:
                on_done()

        threading.Thread(target=run, name="astroanom-rank", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until complete (True) or ``timeout`` seconds passed (False)."""
        ok = self._complete.wait(timeout)
        if self.error is not None:
            raise self.error
        return ok

    # -- reading --------------------------------------------------------------------------------
    def rows(self) -> tuple[np.ndarray, int]:
        """Every row (n,) in display order and how many at the top are certain: the exact
        ranking first, then the objects not yet certain in decreasing |S| (their bound); int32
        while incomplete when n allows (what the labeller sends), int64 once complete."""
        with self._state:
            exact, done = self._exact, self.done
        if exact.size == self.n:
            return exact, self.n
        # the certain rows are among the first ``done`` of the |S| order: only those are sifted
        head = self._by_bound[:done]
        out = np.empty(self.n, dtype=np.int32 if self.n < 2**31 else np.int64)  # as served
        out[: exact.size] = exact
        rest = head[~np.isin(head, exact, assume_unique=True)]
        out[exact.size : exact.size + rest.size] = rest
        out[exact.size + rest.size :] = self._by_bound[done:]
        return out, exact.size

    def values(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(U, d, S^) of ``rows``, scoring any not scored yet."""
        rows = np.asarray(rows, dtype=np.int64)
        self._score_rows(rows)
        with self._state:
            return self.U[rows].copy(), self.d[rows].copy(), self.score[rows].copy()


class CompleteRanking:
    """A retrain already scored everywhere (any strategy), read like :class:`TopFirstRanking`.
    A strategy without the paper's U and d (e.g. gp) has them NaN."""

    complete = True
    error = None
    seconds_to_complete = 0.0

    def __init__(self, result: ActiveResult) -> None:
        self.result = result
        self.n = result.score.size
        self.n_exact = self.n
        self._rows = rank_order(result.score)

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def rows(self) -> tuple[np.ndarray, int]:
        return self._rows, self.n

    def values(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = self.result
        return r.U[rows], r.d[rows], r.score[rows]


def rank_for_labeller(
    strategy: Any,
    X: np.ndarray,
    S: np.ndarray,
    labelled: np.ndarray,
    labels: np.ndarray,
    *,
    bound_order: np.ndarray,
    exact_first: int,
    n_jobs: int,
    d: np.ndarray | None = None,
    model: Any = None,
) -> TopFirstRanking | CompleteRanking:
    """The labeller's retrain of ``strategy`` on rows ``labelled`` (k,) with ``labels`` (k,).

    A strategy that offers ``top_first`` (the paper's score) answers with the top
    ``exact_first`` objects of its order certain (a :class:`TopFirstRanking`, ``bound_order``
    = rows by decreasing |S|; the caller ranks the rest, e.g. with :meth:`TopFirstRanking.start`);
    any other is refitted and scored everywhere through
    :func:`astroanom.active.loop.refit_strategy` (a :class:`CompleteRanking`). ``d`` (n,) may
    pass the distances to the nearest of ``labelled`` when the caller keeps them (the
    ``top_first`` strategies then skip computing them); ``model`` the relevance model the
    strategy's learner fits on them, when the caller fitted it beforehand."""
    top_first = getattr(strategy, "top_first", None)
    if callable(top_first):
        extra = {} if model is None else {"model": model}
        return top_first(
            X,
            S,
            labelled,
            labels,
            bound_order=bound_order,
            exact_first=exact_first,
            n_jobs=n_jobs,
            d=d,
            **extra,
        )
    from astroanom.active.loop import refit_strategy

    score = refit_strategy(strategy, X, S, labelled, labels)
    res = getattr(strategy, "result", None)
    if res is None:  # no U and d of the paper's kind: show the strategy's score
        nan = np.full(score.size, np.nan)
        res = ActiveResult(U=nan, d=nan.copy(), d0=float("nan"), score=score)
    return CompleteRanking(res)
