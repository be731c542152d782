"""The active-learning score of the paper (section 2, equations 1-3) and its relevance learner.

Shapes: n objects, m features. S (n,) anomaly score on 0..5 (5 most anomalous); U (n,) relevance
on 0..U_max; d (n,) Euclidean distance in (scaled) feature space to the nearest labelled object.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from astroanom.errors import LabelsError

#: labelled rows from which the relevance forest is fitted on ``n_jobs`` threads (below: one)
FIT_THREADS_FROM = 5000
EPSILON1 = 0.1
EPSILON2 = 0.85
U_MAX = 5.0


def normalised_relevance(
    U: np.ndarray | float, u_max: float = U_MAX, eps1: float = EPSILON1, eps2: float = EPSILON2
) -> np.ndarray:
    """Equation 2: U~ = eps1 + eps2 * U / U_max (U = 5 gives 0.95, U = 0 gives 0.1)."""
    return eps1 + eps2 * (np.asarray(U, dtype=np.float64) / u_max)


def distance_penalty(d: np.ndarray, d0: float, alpha: float) -> np.ndarray:
    """Equation 3: delta = exp(alpha * d / d0). With d0 = 0 (every object labelled) delta = 1."""
    d = np.asarray(d, dtype=np.float64)
    if d0 <= 0:
        return np.ones_like(d)
    return np.exp(alpha * d / d0)


def active_score(
    S: np.ndarray,
    U: np.ndarray,
    d: np.ndarray,
    alpha: float,
    d0: float | None = None,
    u_max: float = U_MAX,
) -> np.ndarray:
    """Equation 1: S^ = S * tanh(delta - 1 + arctanh(U~)), vectorised over objects.

    ``d0`` defaults to the mean of ``d`` over all objects, as in the paper. At d = 0 the result
    is S * U~; far from every label (delta >> 1) it tends to S.
    """
    S = np.asarray(S, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    if d0 is None:
        d0 = float(d.mean())
    u_tilde = normalised_relevance(U, u_max=u_max)
    delta = distance_penalty(d, d0, alpha)
    return S * np.tanh(delta - 1.0 + np.arctanh(u_tilde))


def nearest_labelled_distance(
    X: np.ndarray, labelled: np.ndarray, block_rows: int = 2048, n_jobs: int = 1
) -> np.ndarray:
    """Distance (n,) from every row of ``X`` (n, m) to its nearest row among ``X[labelled]``;
    labelled rows get exactly 0. Each squared distance is computed in one fixed order of
    operations (:mod:`astroanom.active._distance_numba`), so the result does not depend on the
    blocking, the threads or on which labels were added first: the labeller updates it one
    label at a time and ends where this function ends. Memory is O(n) beside ``X``.
    ``block_rows`` is kept for callers of the former blocked matrix-product version."""
    labelled = np.asarray(labelled, dtype=np.int64)
    if labelled.size == 0:
        raise LabelsError("at least one labelled object is needed to compute distances")
    out = nearest_distance(X, X[labelled], block_rows, n_jobs)
    out[labelled] = 0.0
    return out


def nearest_distance(
    X: np.ndarray, Y: np.ndarray, block_rows: int = 2048, n_jobs: int = 1
) -> np.ndarray:
    """Distance (n,) from every row of ``X`` (n, m) to its nearest row of ``Y`` (k, m), as
    :func:`nearest_labelled_distance` computes it: ``sqrt(max(0, min_j (|x|^2 + |y_j|^2) -
    2 x.y_j))`` in float64, each entry the same whatever the rows around it (a row gets the
    same distance in any batch). Rows run on ``n_jobs`` threads."""
    from astroanom.active._distance_numba import distance_from_squared, min_squared_distance

    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    t = min_squared_distance(X, np.asarray(Y, dtype=np.float64), n_jobs=n_jobs)
    return distance_from_squared(t)


def predict_in_row_blocks(
    model: object, X: np.ndarray, n_jobs: int = 1, min_rows: int = 65536
) -> np.ndarray:
    """``model.predict(X)`` (n,) for a fitted forest, with the rows split over ``n_jobs``
    threads, equal bit for bit to ``predict`` with ``n_jobs=1`` whatever ``n_jobs`` (every
    row's trees summed in tree order). A single-output scikit-learn forest on finite rows is
    walked by the compiled kernel of :mod:`astroanom.active._forest_numba` (packed once per
    model and kept on it); anything else by scikit-learn, row blocks on threads."""
    packed = packed_forest(model)
    if packed is not None and X.dtype == np.float32 and np.isfinite(X).all():
        return packed.predict(X, n_jobs=n_jobs, min_rows=min_rows)
    model.set_params(n_jobs=1)  # type: ignore[attr-defined]
    n = X.shape[0]
    n_jobs = max(1, min(int(n_jobs), n // max(1, min_rows)))
    if n_jobs == 1:
        return model.predict(X)  # type: ignore[attr-defined]
    from concurrent.futures import ThreadPoolExecutor

    bounds = np.linspace(0, n, n_jobs + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        blocks = zip(bounds[:-1], bounds[1:], strict=True)
        parts = pool.map(lambda ab: model.predict(X[ab[0] : ab[1]]), blocks)  # type: ignore[attr-defined]
        return np.concatenate(list(parts))


_PACKED: weakref.WeakKeyDictionary[object, object] = weakref.WeakKeyDictionary()


def packed_forest(model: object) -> object | None:
    """The compiled-kernel form of a fitted ``RandomForestRegressor`` (made once per model and
    remembered beside it, not on it: a saved model stays as scikit-learn made it), or None for
    any other model."""
    from sklearn.ensemble import RandomForestRegressor

    if not isinstance(model, RandomForestRegressor) or not hasattr(model, "estimators_"):
        return None
    packed = _PACKED.get(model)
    if packed is None:
        from astroanom.active._forest_numba import PackedForest

        packed = PackedForest.from_forest(model)
        _PACKED[model] = packed if packed is not None else False
    return packed or None


@dataclass(frozen=True)
class ActiveResult:
    """Outcome of one retrain: U (n,), d (n,), d0 and the active-learning score S^ (n,)."""

    U: np.ndarray
    d: np.ndarray
    d0: float
    score: np.ndarray


def check_labels(labels: np.ndarray, u_max: float = U_MAX) -> np.ndarray:
    """Validate human relevance labels: finite numbers in 0..u_max. Returns them as float64."""
    lab = np.asarray(labels, dtype=np.float64)
    bad = ~np.isfinite(lab) | (lab < 0) | (lab > u_max)
    if bad.any():
        raise LabelsError(
            f"relevance labels must lie in 0..{u_max:g}; got {lab[bad][:5].tolist()} "
            f"at positions {np.flatnonzero(bad)[:5].tolist()}"
        )
    return lab


class RelevanceModel:
    """A fitted relevance learner: U for any rows, the human label where one exists.

    ``forest`` is the fitted random forest, or None when every label is the same value
    (U is then that value everywhere). Predictions are clipped to [0, u_max]; each row's U does
    not depend on which other rows are predicted with it (trees summed in tree order per row).
    """

    def __init__(
        self,
        forest: object | None,
        labelled: np.ndarray,
        labels: np.ndarray,
        u_max: float = U_MAX,
        n_jobs: int = 1,
    ) -> None:
        self.forest = forest
        self.labelled = np.asarray(labelled, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.float64)
        self.u_max = u_max
        self.n_jobs = n_jobs
        order = np.argsort(self.labelled)
        self._sorted_rows = self.labelled[order]
        self._sorted_labels = self.labels[order]

    def predict(self, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """U for ``rows`` (r,) of ``X`` (n, m), or for every row when ``rows`` is None."""
        part = X if rows is None else X[np.asarray(rows, dtype=np.int64)]
        if self.forest is None:
            U = np.full(part.shape[0], self.labels[0], dtype=np.float64)
        else:
            U = np.clip(predict_in_row_blocks(self.forest, part, self.n_jobs), 0.0, self.u_max)
        if rows is None:
            U[self.labelled] = self.labels
            return U
        rows = np.asarray(rows, dtype=np.int64)
        at = np.searchsorted(self._sorted_rows, rows)
        at = np.minimum(at, self._sorted_rows.size - 1)
        hit = self._sorted_rows[at] == rows
        U[hit] = self._sorted_labels[at[hit]]
        return U


class RelevanceLearner:
    """Random-forest regressor that predicts relevance U from features (paper section 2.3).

    ``n_estimators`` trees (the config's ``active_learning.n_estimators``; 100 in the paper),
    seeded, fitted on the labelled rows only.

    The prediction over all objects runs on ``n_jobs`` threads in row blocks
    (:func:`predict_in_row_blocks`), bit-identical to a single-threaded prediction.
    """

    def __init__(self, n_estimators: int, seed: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(
        self, X: np.ndarray, labelled: np.ndarray, labels: np.ndarray, u_max: float = U_MAX
    ) -> RelevanceModel:
        """Check the labels and fit the forest on ``X[labelled]`` (no forest if all agree)."""
        labelled = np.asarray(labelled, dtype=np.int64)
        lab = check_labels(labels, u_max)
        if labelled.size != lab.size:
            raise LabelsError(f"{labelled.size} labelled indices but {lab.size} labels")
        if labelled.size == 0:
            raise LabelsError("at least one label is needed to fit the relevance learner")
        if np.unique(labelled).size != labelled.size:
            raise LabelsError("an object is labelled more than once; keep one label per object")
        forest = None
        if np.unique(lab).size > 1:
            from sklearn.ensemble import RandomForestRegressor  # here: jobs without it start faster

            # the trees are the same on any thread count (each is seeded before it is fitted);
            # on a few thousand labels, threads cost more in hand-offs than they save, and on a
            # busy machine every hand-off waits for a core
            fit_jobs = self.n_jobs if labelled.size >= FIT_THREADS_FROM else 1
            forest = RandomForestRegressor(
                n_estimators=self.n_estimators, random_state=self.seed, n_jobs=fit_jobs
            )
            forest.fit(X[labelled], lab)
        return RelevanceModel(forest, labelled, lab, u_max=u_max, n_jobs=self.n_jobs)

    def _distances(self, X: np.ndarray, labelled: np.ndarray) -> np.ndarray:
        """:func:`nearest_labelled_distance` (n,) of ``labelled`` (k,), reusing the previous
        retrain's distances when its labelled rows are the first of these (the labelling loop
        appends a batch per round): their minimum with the distances to the new rows only.
        The values are the same bit for bit, since each entry is computed the same way
        whatever the other labelled rows and the minimum and square root commute
        (tests/test_loop_speed.py); the loop's distance work drops from O(n k^2 / batch) to
        O(n k) (OGLE-III: 400k objects, 50 rounds)."""
        prev = getattr(self, "_last_distances", None)
        if prev is not None:
            X_prev, rows_prev, d_prev = prev
            k = rows_prev.size
            if X_prev is X and labelled.size >= k and np.array_equal(labelled[:k], rows_prev):
                new = labelled[k:]
                d = d_prev.copy()
                if new.size:
                    np.minimum(d, nearest_distance(X, X[new], n_jobs=self.n_jobs), out=d)
                    d[new] = 0.0
                self._last_distances = (X, labelled.copy(), d.copy())
                return d
        d = nearest_labelled_distance(X, labelled, n_jobs=self.n_jobs)
        self._last_distances = (X, labelled.copy(), d.copy())
        return d

    def predict_relevance(
        self, X: np.ndarray, labelled: np.ndarray, labels: np.ndarray, u_max: float = U_MAX
    ) -> np.ndarray:
        """U (n,): the human label where one exists, else the RF prediction clipped to [0, u_max]."""
        return self.fit(X, labelled, labels, u_max).predict(X)

    def retrain(
        self,
        X: np.ndarray,
        S: np.ndarray,
        labelled: np.ndarray,
        labels: np.ndarray,
        alpha: float,
        u_max: float = U_MAX,
    ) -> ActiveResult:
        """Fit on the labels and return U, d, d0 and S^ for every object; the fitted
        :class:`RelevanceModel` stays in ``model_`` (what a bundle saves)."""
        self.model_ = self.fit(X, labelled, labels, u_max)
        U = self.model_.predict(X)
        d = self._distances(X, np.asarray(labelled, dtype=np.int64))
        d0 = float(d.mean())
        return ActiveResult(U=U, d=d, d0=d0, score=active_score(S, U, d, alpha, d0, u_max))
