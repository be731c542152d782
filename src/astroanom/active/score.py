"""The active-learning score of the paper (section 2, equations 1-3) and its relevance learner.

Shapes: n objects, m features. S (n,) anomaly score on 0..5 (5 most anomalous); U (n,) relevance
on 0..U_max; d (n,) Euclidean distance in (scaled) feature space to the nearest labelled object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroanom.errors import LabelsError

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
    """Distance (n,) from every row of ``X`` (n, m) to its nearest row among ``X[labelled]``.

    Computed blockwise with one matrix product per block (||x||^2 + ||y||^2 - 2 x.y in float64,
    each entry rounded the same way whatever the blocking); labelled rows get exactly 0.
    Blocks run on ``n_jobs`` threads, BLAS with one thread each (small products lose more to
    BLAS threading than they gain). Memory is O(block_rows * n_labelled) per thread.
    """
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
    :func:`nearest_labelled_distance` computes it (each entry rounded the same way whatever
    the rows around it, so a row gets the same distance in any batch)."""
    from threadpoolctl import threadpool_limits

    Y = np.asarray(Y, dtype=np.float64)
    y2 = np.einsum("ij,ij->i", Y, Y)
    YT = np.ascontiguousarray(Y.T)
    n, m = X.shape
    out = np.empty(n, dtype=np.float64)
    starts = range(0, n, block_rows)
    n_jobs = max(1, min(int(n_jobs), len(starts)))
    chunks = [starts[i::n_jobs] for i in range(n_jobs)]

    def work(chunk: range) -> None:
        B = np.empty((block_rows, m))
        G = np.empty((block_rows, Y.shape[0]))
        T = np.empty_like(G)
        for start in chunk:
            r = min(block_rows, n - start)
            b, g, t = B[:r], G[:r], T[:r]
            b[...] = X[start : start + r]
            np.matmul(b, YT, out=g)
            g *= 2.0
            np.add(np.einsum("ij,ij->i", b, b)[:, None], y2[None, :], out=t)
            t -= g  # (||x||^2 + ||y||^2) - 2 x.y
            np.min(t, axis=1, out=out[start : start + r])

    with threadpool_limits(limits=1, user_api="blas"):
        if n_jobs == 1:
            work(chunks[0])
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                list(pool.map(work, chunks))
    np.maximum(out, 0.0, out=out)
    np.sqrt(out, out=out)
    return out


def predict_in_row_blocks(
    model: object, X: np.ndarray, n_jobs: int = 1, min_rows: int = 65536
) -> np.ndarray:
    """``model.predict(X)`` (n,) for a fitted forest, with the rows split over ``n_jobs``
    threads (scikit-learn's tree code releases the GIL), each thread predicting its rows
    single-threaded. Every row's trees are summed in tree order as a single-threaded predict
    does, so the result equals ``predict`` with ``n_jobs=1`` bit for bit whatever ``n_jobs``
    (scikit-learn's own threading adds whole trees in completion order instead)."""
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

            forest = RandomForestRegressor(
                n_estimators=self.n_estimators, random_state=self.seed, n_jobs=self.n_jobs
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
