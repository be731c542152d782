"""Anomaly detectors behind one interface, and the conversion of native scores onto 0..5.

A detector's ``fit_score(X)`` takes features (n, m) and returns its native score (n,); the
``lower_is_weirder`` attribute says which end is anomalous. :func:`to_anomaly_score` maps any
native score linearly onto S in 0..5 with 5 the most anomalous.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from astroanom import plugins
from astroanom.detect.knn import kneighbors
from astroanom.errors import AstroanomError
from astroanom.params import Param, Params, declared

S_MAX = 5.0


@runtime_checkable
class Detector(Protocol):
    """What the workflow needs from an anomaly detector."""

    name: str
    lower_is_weirder: bool

    def fit_score(self, X: np.ndarray) -> np.ndarray:
        """Fit on ``X`` (n, m) and return the native score of every row (n,)."""
        ...


def to_anomaly_score(raw: np.ndarray, lower_is_weirder: bool, name: str = "detector") -> np.ndarray:
    """Map native scores (n,) linearly onto 0..5, 5 the most anomalous.

    Raises :class:`AstroanomError` naming the detector for NaN/inf or constant scores, which
    would otherwise give a silent, meaningless ranking.
    """
    raw = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(raw).all():
        bad = np.flatnonzero(~np.isfinite(raw))
        raise AstroanomError(
            f"{name} returned NaN or inf scores for {bad.size} object(s) (rows {bad[:10].tolist()})"
        )
    lo, hi = float(raw.min()), float(raw.max())
    if hi == lo:
        raise AstroanomError(f"{name} returned the same score ({lo:g}) for every object")
    weird = (hi - raw) if lower_is_weirder else (raw - lo)
    return S_MAX * weird / (hi - lo)


@declared
class LocalOutlierFactor:
    """Local outlier factor (Breunig et al. 2000) on exact k-NN from :mod:`astroanom.detect.knn`.

    The native score is scikit-learn's ``negative_outlier_factor_`` (-LOF, lower is weirder),
    computed with the same definitions: reach-dist(a, b) = max(d(a, b), k-dist(b)),
    lrd(a) = 1 / (mean reach-dist + 1e-10), LOF(a) = mean lrd(neighbours) / lrd(a).

    Above ``approximate_above`` objects (default None: never) the neighbours come from
    :func:`astroanom.ann.approx_kneighbors` with ``approximate`` ("ivf", "hnsw" or
    "pynndescent"; parameters in ``approximate_params``), re-ranked with exact distances; below
    it, and by default, the neighbours are exact.
    """

    name = "lof"
    lower_is_weirder = True
    PARAMS = Params(
        n_neighbors=Param(int, 100, "neighbours k of each object", minimum=1),
        block_rows=Param(int, 1024, "rows per block of the exact k-NN search", minimum=1),
        approximate_above=Param(
            int,
            None,
            "approximate neighbours above this many objects (null: never)",
            minimum=1,
            nullable=True,
        ),
        approximate=Param(
            str, "ivf", "approximate neighbour method", enum=("ivf", "hnsw", "pynndescent")
        ),
        approximate_params=Param(
            dict,
            None,
            "further parameters of the approximate method (docs/scaling.md)",
            nullable=True,
        ),
    )

    def __init__(
        self,
        n_neighbors: int,
        block_rows: int,
        approximate_above: int | None,
        approximate: str,
        approximate_params: dict[str, object] | None,
        n_jobs: int = 1,
        seed: int = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.block_rows = block_rows
        self.n_jobs = n_jobs
        self.approximate_above = approximate_above
        self.approximate = approximate
        self.approximate_params = dict(approximate_params or {})
        self.seed = seed

    def fit_score(self, X: np.ndarray) -> np.ndarray:
        k = min(self.n_neighbors, X.shape[0] - 1)
        if self.approximate_above is not None and X.shape[0] > self.approximate_above:
            from astroanom.detect.ann import approx_kneighbors

            dist, idx = approx_kneighbors(
                X,
                k,
                method=self.approximate,
                seed=self.seed,
                n_jobs=self.n_jobs,
                **self.approximate_params,  # type: ignore[arg-type]
            )
        else:
            dist, idx = kneighbors(X, k, block_rows=self.block_rows, n_jobs=self.n_jobs)
        return negative_outlier_factor(dist, idx)


def negative_outlier_factor(dist: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """-LOF (n,) from sorted neighbour distances and indices, both (n, k)."""
    k_distance = dist[:, -1]
    reach = np.maximum(dist, k_distance[idx])
    lrd = 1.0 / (reach.mean(axis=1) + 1e-10)
    return -(lrd[idx].mean(axis=1) / lrd)


@declared
class IsolationForestDetector:
    """Isolation forest (Liu et al. 2008); native score ``score_samples`` (lower is weirder).

    ``backend="sklearn"`` (default) is scikit-learn's ``IsolationForest``; ``"coniferest"`` is
    coniferest's Rust forest (the optional extra ``astroanom[coniferest]``): the same
    algorithm (256-point subsamples, score -2^(-E[h]/c(256))) with its own random trees, so its
    scores differ in detail from scikit-learn's; it scores on ``n_jobs`` threads, seeded and
    deterministic. ``max_samples``, ``max_features`` and ``bootstrap`` go to scikit-learn's
    class when given (coniferest's takes none of them).
    """

    name = "iforest"
    lower_is_weirder = True
    BACKENDS = ("sklearn", "coniferest")
    PARAMS = Params(
        n_estimators=Param(int, 100, "trees of the forest", minimum=1),
        backend=Param(str, "sklearn", "the forest's implementation", enum=BACKENDS),
        max_samples=Param(
            (str, int, float),
            None,
            "sklearn: points per tree ('auto' = min(256, n), an integer or a fraction)",
            nullable=True,
        ),
        max_features=Param(
            (int, float),
            None,
            "sklearn: features per tree (an integer or a fraction)",
            exclusive_minimum=0,
            nullable=True,
        ),
        bootstrap=Param(bool, None, "sklearn: draw points with replacement", nullable=True),
    )

    def __init__(
        self,
        n_estimators: int,
        backend: str,
        max_samples: str | int | float | None,
        max_features: int | float | None,
        bootstrap: bool | None,
        seed: int = 0,
        n_jobs: int = 1,
    ):
        given = {"max_samples": max_samples, "max_features": max_features, "bootstrap": bootstrap}
        kwargs = {k: v for k, v in given.items() if v is not None}
        if backend not in self.BACKENDS:
            raise AstroanomError(
                f"unknown isolation-forest backend {backend!r}; use one of {', '.join(self.BACKENDS)}"
            )
        self.backend = backend
        if backend == "sklearn":
            from sklearn.ensemble import IsolationForest

            self.model = IsolationForest(
                n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs, **kwargs
            )
        else:
            cls = plugins.import_object("coniferest.isoforest.IsolationForest", "isolation forest")
            self.model = cls(  # type: ignore[operator]
                n_trees=n_estimators, random_seed=seed, n_jobs=max(1, int(n_jobs)), **kwargs
            )

    def fit_score(self, X: np.ndarray) -> np.ndarray:
        self.model.fit(X)
        return np.asarray(self.model.score_samples(X), dtype=np.float64)


#: Config keys of a detector entry that are not constructor parameters.
RESERVED_KEYS = frozenset({"name", "params", "lower_is_weirder", "score_method", "label"})

#: Where the fitted score is looked up, in order, when ``score_method`` is not given.
SCORE_METHODS = ("score_samples", "decision_function")
#: Fitted attributes holding training-set scores, for estimators without a score method on X
#: (scikit-learn's LocalOutlierFactor with novelty=False; pyod's ``decision_scores_``).
SCORE_ATTRIBUTES = ("negative_outlier_factor_", "decision_scores_")


class EstimatorDetector:
    """Adapter from any estimator with the scikit-learn outlier API to :class:`Detector`.

    ``fit_score(X)`` calls ``estimator.fit(X)`` and returns ``score_method(X)`` (n,), by default
    the first of ``score_samples`` and ``decision_function`` the fitted estimator offers, else a
    fitted training-score attribute (``negative_outlier_factor_``, ``decision_scores_``).
    """

    def __init__(
        self,
        estimator: object,
        name: str,
        lower_is_weirder: bool,
        score_method: str | None = None,
    ) -> None:
        if not callable(getattr(estimator, "fit", None)):
            raise AstroanomError(
                f"detector {name!r} ({type(estimator).__module__}.{type(estimator).__qualname__}) "
                "has no fit method; a detector class needs fit(X) and score_samples(X) or "
                "decision_function(X)"
            )
        if score_method is not None and not hasattr(type(estimator), score_method):
            raise AstroanomError(f"detector {name!r} has no method {score_method!r}")
        if score_method is None and not any(
            hasattr(type(estimator), m) for m in (*SCORE_METHODS, "fit_predict")
        ):
            raise AstroanomError(
                f"detector {name!r} ({type(estimator).__module__}.{type(estimator).__qualname__}) "
                "has neither score_samples nor decision_function; set score_method in the config "
                "to the method that returns one score per object"
            )
        self.estimator = estimator
        self.name = name
        self.lower_is_weirder = lower_is_weirder
        self.score_method = score_method

    def fit_score(self, X: np.ndarray) -> np.ndarray:
        est = self.estimator
        try:
            est.fit(X)  # type: ignore[attr-defined]
        except Exception as exc:
            raise AstroanomError(f"detector {self.name!r} failed in fit: {exc}") from exc
        methods = (self.score_method,) if self.score_method else SCORE_METHODS
        for m in methods:
            if hasattr(est, m):  # available_if-guarded methods are absent when unusable
                raw = np.asarray(getattr(est, m)(X), dtype=np.float64)
                break
        else:
            attr = next((a for a in SCORE_ATTRIBUTES if hasattr(est, a)), None)
            if attr is None:
                raise AstroanomError(
                    f"detector {self.name!r}: after fit, none of {', '.join(methods)} is usable "
                    "and no training-score attribute was found"
                )
            raw = np.asarray(getattr(est, attr), dtype=np.float64)
        if raw.shape != (X.shape[0],):
            raise AstroanomError(
                f"detector {self.name!r} returned scores of shape {raw.shape}; expected "
                f"({X.shape[0]},), one per object"
            )
        return raw


def _build(factory: object, name: str, seed: int, n_jobs: int, params: dict[str, object]) -> object:
    """Call ``factory(**params)``, adding seed/random_state and n_jobs where it accepts them."""
    seed_key = next(
        (k for k in ("seed", "random_state", "random_seed") if plugins.accepts(factory, k)), None
    )
    injected: dict[str, object] = {"n_jobs": n_jobs}
    if seed_key:
        injected[seed_key] = seed
    return plugins.call(factory, f"detector {name!r}", params, **injected)


def _wrap(
    obj: object,
    name: str,
    lower_is_weirder: bool | None,
    score_method: str | None,
    module: str,
) -> Detector:
    """Turn a built object into a :class:`Detector` (native ones pass through)."""
    if callable(getattr(obj, "fit_score", None)) and hasattr(obj, "lower_is_weirder"):
        if lower_is_weirder is not None:
            obj.lower_is_weirder = bool(lower_is_weirder)  # type: ignore[attr-defined]
        if not getattr(obj, "name", None):
            obj.name = name  # type: ignore[attr-defined]
        return obj  # type: ignore[return-value]
    if lower_is_weirder is None:
        # scikit-learn: "the lower, the more abnormal"; pyod: "outliers get higher scores".
        lower_is_weirder = not module.startswith("pyod")
    return EstimatorDetector(obj, name, bool(lower_is_weirder), score_method)


def make_detector(
    name: str,
    seed: int = 0,
    n_jobs: int = 1,
    lower_is_weirder: bool | None = None,
    score_method: str | None = None,
    label: str | None = None,
    params: dict[str, object] | None = None,
    **extra: object,
) -> Detector:
    """Build a detector from a config entry.

    ``name`` is a built-in short name ("lof", "iforest"), a name registered under the
    ``astroanom.detectors`` entry-point group, or the dotted path of any class with ``fit`` and
    ``score_samples``/``decision_function`` (e.g. ``sklearn.svm.OneClassSVM``,
    ``pyod.models.knn.KNN``). Parameters come from ``params`` and any extra keywords.
    ``lower_is_weirder`` states the native score's direction (default: True for scikit-learn
    style classes, False for pyod). ``random_state`` and ``n_jobs`` are filled from ``seed`` and
    ``n_jobs`` when the class accepts them and they are not given.
    """
    kwargs = {**(params or {}), **extra}
    shown = label or name
    factory = plugins.resolve("detector", name)
    if not callable(factory):
        raise AstroanomError(f"detector {name!r} is not a class or factory: {factory!r}")
    module = getattr(factory, "__module__", "") or name
    det = _wrap(
        _build(factory, shown, seed, n_jobs, kwargs), shown, lower_is_weirder, score_method, module
    )
    if label:
        det.name = label
    return det


def detector_from_config(entry: dict[str, object], seed: int = 0, n_jobs: int = 1) -> Detector:
    """Build a detector from a config mapping ``{name, params?, lower_is_weirder?, ...}``.

    Keys other than ``name``, ``params``, ``lower_is_weirder``, ``score_method`` and ``label``
    are constructor parameters too (so ``{name: lof, n_neighbors: 100}`` works).
    """
    if "name" not in entry:
        raise AstroanomError(f"a detector entry needs a 'name'; got {dict(entry)}")
    params = dict(entry.get("params") or {})  # type: ignore[call-overload]
    params.update({k: v for k, v in entry.items() if k not in RESERVED_KEYS})
    return make_detector(
        str(entry["name"]),
        seed=seed,
        n_jobs=n_jobs,
        lower_is_weirder=entry.get("lower_is_weirder"),  # type: ignore[arg-type]
        score_method=entry.get("score_method"),  # type: ignore[arg-type]
        label=entry.get("label"),  # type: ignore[arg-type]
        params=params,
    )


def anomaly_scores(detector: Detector, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run ``detector`` on ``X`` (n, m); return (native scores (n,), S on 0..5 (n,))."""
    raw = np.asarray(detector.fit_score(X), dtype=np.float64)
    return raw, to_anomaly_score(raw, detector.lower_is_weirder, detector.name)
