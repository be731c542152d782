"""Active-learning strategies behind one interface: fit on the labels so far, score every object.

Shapes: n objects, m features. ``X`` (n, m) features; ``S`` (n,) detector score on 0..5 (5 most
anomalous); ``labelled`` (k,) row indices of labelled objects; ``labels`` (k,) their relevance
U in 0..5. ``score()`` returns (n,) with the object to show next having the highest value.

Built-in strategies (registered in :mod:`astroanom.plugins`):

- ``paper``       the Astronomaly score S^ (eqs. 1-3) with the random-forest relevance learner;
- ``gp``          a Gaussian-process relevance model (Matern + white noise) ranked by expected
                  improvement, as in Protege (Lochner & Rudnick 2025), xi = 0.5;
- ``coniferest``  PineForest or AADForest from the optional ``coniferest`` package;
- ``ucb``         ours: the relevance forest's mean + kappa * its spread across trees + the
                  paper's S^ (a predicted-wanted object ranks high wherever it lies);
- ``none``        no learning: rank by the detector score S;
- ``random``      a seeded random order.

Another package can register more under the ``astroanom.strategies`` entry-point group, and a
config may give the dotted path of any class with ``fit(X, S, labelled, labels)`` and ``score()``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from astroanom.errors import AstroanomError, LabelsError
from astroanom.params import UNSET, Param, Params, declaration, declared

log = logging.getLogger("astroanom.active.strategies")


@runtime_checkable
class Strategy(Protocol):
    """What the labelling loop needs from an active-learning strategy."""

    name: str

    def fit(
        self, X: np.ndarray, S: np.ndarray, labelled: np.ndarray, labels: np.ndarray
    ) -> Strategy:
        """Learn from the labels given so far (``labelled`` may be empty)."""
        ...

    def score(self) -> np.ndarray:
        """Ranking score (n,) of every object of the fitted ``X``; higher is shown first."""
        ...


def _check(
    X: np.ndarray, S: np.ndarray, labelled: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate and convert the common inputs of ``fit``."""
    from astroanom.active.score import check_labels

    X = np.asarray(X)
    S = np.asarray(S, dtype=np.float64)
    labelled = np.asarray(labelled, dtype=np.int64).ravel()
    lab = check_labels(np.asarray(labels, dtype=np.float64).ravel())
    if X.ndim != 2 or S.shape != (X.shape[0],):
        raise AstroanomError(f"need X (n, m) and S (n,); got {X.shape} and {S.shape}")
    if labelled.size != lab.size:
        raise LabelsError(f"{labelled.size} labelled indices but {lab.size} labels")
    if labelled.size and (labelled.min() < 0 or labelled.max() >= X.shape[0]):
        raise LabelsError(f"labelled indices must lie in 0..{X.shape[0] - 1}")
    if np.unique(labelled).size != labelled.size:
        raise LabelsError("an object is labelled more than once; keep one label per object")
    return X, S, labelled, lab


class _Base:
    """Stores the inputs of ``fit``; subclasses implement ``_score``."""

    name = "base"

    def fit(self, X: np.ndarray, S: np.ndarray, labelled: np.ndarray, labels: np.ndarray):
        self.X_, self.S_, self.labelled_, self.labels_ = _check(X, S, labelled, labels)
        return self

    def score(self) -> np.ndarray:
        if not hasattr(self, "S_"):
            raise AstroanomError(f"strategy {self.name!r}: call fit() before score()")
        return self._score()

    def _score(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


#: The config's shared ``active_learning`` section; a strategy receives a value of it only if it
#: declares the key (as :class:`PaperScore` does).
ACTIVE_LEARNING = Params(
    alpha=Param(
        float, 1.0, "alpha of the distance penalty delta = exp(alpha d / d0)", exclusive_minimum=0
    ),
    n_estimators=Param(int, 100, "trees of the random-forest relevance regressor", minimum=1),
)


@declared
class NoLearning(_Base):
    """Rank by the detector score S alone; labels are ignored."""

    name = "none"
    PARAMS = Params()

    def __init__(self, seed: int = 0, n_jobs: int = 1) -> None:
        del seed, n_jobs

    def _score(self) -> np.ndarray:
        return self.S_.copy()


@declared
class RandomOrder(_Base):
    """A random order fixed by ``seed``: the same permutation in every round."""

    name = "random"
    PARAMS = Params()

    def __init__(self, seed: int = 0, n_jobs: int = 1) -> None:
        del n_jobs
        self.seed = seed

    def _score(self) -> np.ndarray:
        return np.random.default_rng(self.seed).random(self.S_.size)


@declared
class PaperScore(_Base):
    """The paper's active-learning score S^ (eqs. 1-3) with :class:`RelevanceLearner`.

    With no labels yet it returns S. ``alpha`` and ``n_estimators`` come from the config's
    ``active_learning`` section unless the strategy entry gives them.
    """

    name = "paper"
    PARAMS = Params(
        alpha=ACTIVE_LEARNING["alpha"].as_shared(),
        n_estimators=ACTIVE_LEARNING["n_estimators"].as_shared(),
    )

    def __init__(self, alpha: float, n_estimators: int, seed: int = 0, n_jobs: int = 1) -> None:
        from astroanom.active.score import RelevanceLearner

        self.learner = RelevanceLearner(n_estimators=n_estimators, seed=seed, n_jobs=n_jobs)
        self.alpha = alpha

    def _score(self) -> np.ndarray:
        if self.labelled_.size == 0:
            self.result = None
            return self.S_.copy()
        res = self.learner.retrain(self.X_, self.S_, self.labelled_, self.labels_, alpha=self.alpha)
        self.result = res  # U, d, d0 of the last retrain (shown by the labeller)
        return res.score

    def top_first(
        self,
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
    ) -> Any:
        """The refit's S^ ranked most promising first (a capability the labeller asks for):
        the forest fitted on ``labelled`` (k,) rows with ``labels`` (k,), the distances d (n,)
        to the nearest labelled object for all (``d`` when the caller kept them up to date:
        :func:`astroanom.active.score.nearest_labelled_distance` of the same rows), then S^
        down ``bound_order`` (rows by decreasing |S|) until the top ``exact_first`` objects
        are certain. Returns an :class:`astroanom.active.ranking.TopFirstRanking` whose end is
        this strategy's :meth:`score` bit for bit. ``model`` may pass what
        ``self.learner.fit(X, labelled, labels)`` returns when the caller fitted it already (the
        labeller does, in the background, after each label change)."""
        from astroanom.active.ranking import TopFirstRanking
        from astroanom.active.score import nearest_labelled_distance

        labels = np.asarray(labels, dtype=np.float64)
        if model is None:
            model = self.learner.fit(X, labelled, labels)
        if d is None:
            d = nearest_labelled_distance(X, labelled, n_jobs=n_jobs)
        ranking = TopFirstRanking(
            model,
            X,
            S,
            d,
            float(d.mean()),
            self.alpha,
            bound_order=bound_order,
            first_chunk=max(256, 8 * exact_first),
        )
        ranking.ensure_exact(exact_first)
        return ranking


def pca_spread_first(X: np.ndarray, S: np.ndarray, n_first: int) -> np.ndarray:
    """Protege's first selection as a ranking score (n,): ``n_first`` objects equally spaced in
    rank along the first principal component of ``X`` (n, m) come first (in order along it),
    then every other object by S (n,). Scores of the first ones lie above 5 (S's maximum)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    k = min(n_first, n)
    centred = X - X.mean(axis=0)
    if n > 1 and np.any(centred):
        _, _, vt = np.linalg.svd(centred[:: max(1, n // 20000)], full_matrices=False)
        axis = vt[0] * np.sign(vt[0][np.argmax(np.abs(vt[0]))])  # a fixed sign: its largest
        pc1 = centred @ axis  # loading positive, so the order along it is reproducible
    else:
        pc1 = np.zeros(n)
    along = np.argsort(pc1, kind="stable")
    picks = along[np.unique(np.round(np.linspace(0, n - 1, k)).astype(np.int64))]
    score = np.asarray(S, dtype=np.float64).copy()
    score[picks] = 5.0 + np.arange(picks.size, 0, -1)  # above every S (<= 5), in PC1 order
    return score


@declared
class RelevanceUCB(_Base):
    """Rank by what the user wants, with an exploration bonus, over the paper's score (ours).

    score = mu + kappa * sigma + detector_weight * S^. mu (n,) and sigma (n,) are the mean and
    the spread (sd) across the trees of a random-forest relevance regressor (relevance units
    0..5) fitted on the labels plus ``n_background`` unlabelled objects drawn by the seed as
    relevance 0 (in a search for rare objects a random object is almost surely not wanted: with
    this background, wanted labels alone, e.g. known examples, already say where to look); S^
    (n,) is the paper's score with this mu as U. Unlike S^ alone, a predicted-wanted object
    ranks high wherever it lies (S^ -> S far from labels and S^ <= S, so a wanted object the
    detector finds ordinary stays buried); while only boring labels exist (mu, sigma ~ 0) the
    order is the paper's, so boring labels still push their neighbours down. No labels: S.
    """

    name = "ucb"
    PARAMS = Params(
        kappa=Param(float, 1.0, "weight of the trees' spread sigma (exploration)", minimum=0),
        detector_weight=Param(
            float,
            1.0,
            "weight of the paper's score S^ (0: rank by the relevance model alone)",
            minimum=0,
        ),
        n_background=Param(
            int, 200, "unlabelled objects fitted as relevance 0 (seeded; 0: none)", minimum=0
        ),
        alpha=ACTIVE_LEARNING["alpha"].as_shared(),
        n_estimators=ACTIVE_LEARNING["n_estimators"].as_shared(),
    )

    def __init__(
        self,
        kappa: float,
        detector_weight: float,
        n_background: int,
        alpha: float,
        n_estimators: int,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        if kappa < 0 or detector_weight < 0 or n_background < 0:
            raise AstroanomError(
                "ucb needs kappa, detector_weight and n_background >= 0; got "
                f"{kappa}, {detector_weight}, {n_background}"
            )
        self.kappa, self.detector_weight, self.alpha = kappa, detector_weight, alpha
        self.n_background, self.n_estimators = n_background, n_estimators
        self.seed, self.n_jobs = seed, n_jobs

    def training_set(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and relevance of the forest's fit: the labels, then the background (the first
        ``n_background`` unlabelled rows of a permutation fixed by the seed) at 0."""
        taken = np.zeros(self.S_.size, dtype=bool)
        taken[self.labelled_] = True
        perm = np.random.default_rng(self.seed).permutation(self.S_.size)
        back = perm[~taken[perm]][: self.n_background]
        rows = np.concatenate([self.labelled_, back])
        return rows, np.concatenate([self.labels_, np.zeros(back.size)])

    def _score(self) -> np.ndarray:
        from sklearn.ensemble import RandomForestRegressor

        from astroanom.active.score import U_MAX, active_score, nearest_labelled_distance

        if self.labelled_.size == 0:
            return self.S_.copy()
        rows, y = self.training_set()
        forest = None
        if np.unique(y).size > 1:
            forest = RandomForestRegressor(
                n_estimators=self.n_estimators, random_state=self.seed, n_jobs=self.n_jobs
            ).fit(self.X_[rows], y)
        mu, sigma = tree_mean_and_spread(forest, self.X_, float(y[0]))
        mu = np.clip(mu, 0.0, U_MAX)
        mu[self.labelled_], sigma[self.labelled_] = self.labels_, 0.0
        d = nearest_labelled_distance(self.X_, self.labelled_, n_jobs=self.n_jobs)
        s_hat = active_score(self.S_, mu, d, self.alpha, float(d.mean()))
        return mu + self.kappa * sigma + self.detector_weight * s_hat


def tree_mean_and_spread(
    forest: Any, X: np.ndarray, constant: float, block: int = 32768
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd (n,) over the trees of a fitted forest of ``X`` (n, m) rows, in row blocks
    (memory trees x block); ``forest`` None (all labels equal): (constant, 0) everywhere."""
    n = X.shape[0]
    if forest is None:
        return np.full(n, constant), np.zeros(n)
    mu, sd = np.empty(n), np.empty(n)
    for start in range(0, n, block):
        part = np.asarray(X[start : start + block], dtype=np.float32)
        per_tree = np.stack([t.predict(part) for t in forest.estimators_])
        mu[start : start + part.shape[0]] = per_tree.mean(axis=0)
        sd[start : start + part.shape[0]] = per_tree.std(axis=0)
    return mu, sd


def expected_improvement(
    mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.5
) -> np.ndarray:
    """EI (n,) of a Gaussian posterior N(mu, sigma^2) over the best label so far ``best``.

    EI = (mu - best - xi) Phi(z) + sigma phi(z), z = (mu - best - xi) / sigma; where sigma = 0
    it is max(mu - best - xi, 0). Units are those of the relevance labels (0..5).
    """
    from scipy.stats import norm

    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    gain = mu - best - xi
    out = np.maximum(gain, 0.0)
    pos = sigma > 0
    z = gain[pos] / sigma[pos]
    out[pos] = gain[pos] * norm.cdf(z) + sigma[pos] * norm.pdf(z)
    return out


@declared
class GaussianProcessEI(_Base):
    """Protege-style relevance model (Lochner & Rudnick 2025).

    A Gaussian-process regressor with a Matern (nu = ``nu``) + white-noise kernel is fitted to
    the labelled objects' features -> relevance (kernel hyperparameters by maximum likelihood);
    every object is ranked by expected improvement with trade-off ``xi`` over the best relevance
    seen. The GP's prior mean is the detector score S (0..5, the same scale as relevance): it
    models the residual U - S, so the posterior mean is S where no label is near and is pulled
    towards the labels where they are (``prior_mean="zero"`` gives a plain zero-mean GP).
    The fit uses at most ``max_train`` labelled objects (a seeded subsample beyond that), so the
    cost is O(max_train^3 + n * max_train). Ties in EI are broken by S. With no labels: S, or
    with ``first="pca_spread"`` Protege's first selection (:func:`pca_spread_first`: ``n_first``
    objects equally spaced along the first principal component, then S). One label (e.g. one
    known example) is fitted with the kernel fixed at its start (nothing to optimise on).
    """

    name = "gp"
    PARAMS = Params(
        xi=Param(float, 0.5, "trade-off of expected improvement (relevance units)", minimum=0),
        nu=Param(float, 2.5, "smoothness of the Matern kernel", exclusive_minimum=0),
        length_scale=Param(
            float,
            None,
            "initial kernel length scale (null: median distance of the labels)",
            exclusive_minimum=0,
            nullable=True,
        ),
        noise_level=Param(float, 0.1, "initial white-noise level", exclusive_minimum=0),
        max_train=Param(int, 1000, "most labelled objects the GP is fitted on", minimum=2),
        n_restarts=Param(int, 0, "restarts of the kernel optimiser", minimum=0),
        prior_mean=Param(
            str,
            "detector",
            "the GP's prior mean: the detector score S, or zero",
            enum=("detector", "zero"),
        ),
        first=Param(
            str,
            "detector",
            "the first objects to show before any label: the detector's top (S), or Protege's "
            "n_first objects equally spaced along the first principal component",
            enum=("detector", "pca_spread"),
        ),
        n_first=Param(int, 10, "pca_spread: how many spread objects come first", minimum=1),
    )

    def __init__(
        self,
        xi: float,
        nu: float,
        length_scale: float | None,
        noise_level: float,
        max_train: int,
        n_restarts: int,
        prior_mean: str,
        first: str,
        n_first: int,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        del n_jobs
        if prior_mean not in ("detector", "zero"):
            raise AstroanomError(f"gp prior_mean must be 'detector' or 'zero'; got {prior_mean!r}")
        if first not in ("detector", "pca_spread") or n_first < 1:
            raise AstroanomError(
                f"gp first must be 'detector' or 'pca_spread' and n_first >= 1; got {first!r}, "
                f"{n_first}"
            )
        self.prior_mean = prior_mean
        self.first = first
        self.n_first = n_first
        if xi < 0 or max_train < 2:
            raise AstroanomError(
                f"gp strategy needs xi >= 0 and max_train >= 2; got {xi}, {max_train}"
            )
        self.seed = seed
        self.xi = xi
        self.nu = nu
        self.length_scale = length_scale
        self.noise_level = noise_level
        self.max_train = max_train
        self.n_restarts = n_restarts

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """GP posterior mean and sd of relevance (n,) for every object."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        idx, y = self.labelled_, self.labels_
        if idx.size > self.max_train:
            keep = np.random.default_rng(self.seed).choice(idx.size, self.max_train, replace=False)
            idx, y = idx[keep], y[keep]
        Xt = np.asarray(self.X_[idx], dtype=np.float64)
        ls = self.length_scale
        if ls is None:  # median distance between labelled objects: a scale-aware start
            d = np.sqrt(((Xt[:, None, :] - Xt[None, :, :]) ** 2).sum(-1))
            off = d[np.triu_indices(d.shape[0], 1)]
            ls = float(np.median(off[off > 0])) if (off > 0).any() else self._data_scale()
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=ls, length_scale_bounds=(ls * 1e-2, ls * 1e2), nu=self.nu
        ) + WhiteKernel(self.noise_level, (1e-3, 1e1))
        use_prior = self.prior_mean == "detector"
        target = y - self.S_[idx] if use_prior else y
        one_place = np.unique(Xt, axis=0).shape[0] < 2  # nothing to fit a kernel on: keep it
        gp = GaussianProcessRegressor(
            kernel=kernel,
            normalize_y=not use_prior and not one_place,
            n_restarts_optimizer=self.n_restarts,
            random_state=self.seed,
            optimizer=None if one_place else "fmin_l_bfgs_b",
        )
        with warnings.catch_warnings():  # hyperparameters at a bound are fine here
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(Xt, target)
        mu = np.empty(self.S_.size)
        sd = np.empty(self.S_.size)
        for start in range(0, mu.size, 8192):  # bounded memory: (block, max_train) kernels
            m, s = gp.predict(
                np.asarray(self.X_[start : start + 8192], dtype=np.float64), return_std=True
            )
            mu[start : start + m.size] = m + (self.S_[start : start + m.size] if use_prior else 0.0)
            sd[start : start + m.size] = s
        from astroanom.active.score import U_MAX

        return np.clip(mu, 0.0, U_MAX), sd

    def _data_scale(self) -> float:
        """Median distance between a seeded sample of 200 objects (the kernel's length scale
        when the labels are all in one place, e.g. one known example)."""
        rng = np.random.default_rng(self.seed)
        rows = rng.choice(self.S_.size, min(200, self.S_.size), replace=False)
        Xs = np.asarray(self.X_[rows], dtype=np.float64)
        d = np.sqrt(((Xs[:, None, :] - Xs[None, :, :]) ** 2).sum(-1))
        off = d[np.triu_indices(d.shape[0], 1)]
        return float(np.median(off[off > 0])) if (off > 0).any() else 1.0

    def _score(self) -> np.ndarray:
        if self.labelled_.size == 0:
            if self.first == "pca_spread":
                return pca_spread_first(self.X_, self.S_, self.n_first)
            return self.S_.copy()
        mu, sd = self.posterior()
        ei = expected_improvement(mu, sd, float(self.labels_.max()), self.xi)
        # Break ties (and near-ties at EI ~ 0) by S: add S scaled far below EI's resolution.
        span = float(ei.max() - ei.min())
        tiny = (span if span > 0 else 1.0) * 1e-6
        return ei + tiny * self.S_ / 5.0


@declared
class ConiferestForest(_Base):
    """PineForest or AADForest from ``coniferest`` (Korolev et al.; Ishida et al. 2021).

    Relevance labels map to coniferest labels: U >= ``anomaly_min_relevance`` is ANOMALY, lower
    is REGULAR. The forest is rebuilt with the same seed every round, so results are
    deterministic. Ranking: -score_samples (coniferest's native score is lower for anomalies).
    Labels are ignored until at least one is given (then it is a plain isolation forest).
    The forest's own parameters (``n_trees``, ...) are passed on only when given.
    """

    name = "coniferest"
    PARAMS = Params(
        model=Param(str, "pineforest", "coniferest's forest", enum=("pineforest", "aadforest")),
        anomaly_min_relevance=Param(
            float, 4.0, "relevance U from which a label is ANOMALY", minimum=0, maximum=5
        ),
        n_trees=Param(int, UNSET, "trees of the forest (coniferest's default)", minimum=1),
        n_subsamples=Param(int, UNSET, "points per tree", minimum=2),
        max_depth=Param(
            int, UNSET, "depth of a tree (null: coniferest's)", minimum=1, nullable=True
        ),
        sampletrees_per_batch=Param(int, UNSET, "trees sampled per batch", minimum=1),
        n_spare_trees=Param(int, UNSET, "pineforest: trees grown to choose from", minimum=0),
        regenerate_trees=Param(bool, UNSET, "pineforest: regrow the spare trees every fit"),
        weight_ratio=Param(float, UNSET, "pineforest: weight of anomalies against regulars"),
        budget=Param((float, str), UNSET, "aadforest: the anomaly budget ('auto' or a fraction)"),
        C_a=Param(float, UNSET, "aadforest: weight of the anomaly loss", minimum=0),
        C_n=Param(float, UNSET, "aadforest: weight of the regular loss", minimum=0),
        prior_influence=Param(float, UNSET, "aadforest: influence of the prior weights"),
        map_value=Param(
            str, UNSET, "aadforest: leaf value map (coniferest's names)", nullable=True
        ),
    )

    def __init__(
        self,
        model: str,
        anomaly_min_relevance: float,
        seed: int = 0,
        n_jobs: int = 1,
        **params: Any,
    ) -> None:
        try:
            from coniferest.aadforest import AADForest
            from coniferest.pineforest import PineForest
        except ImportError as exc:
            raise AstroanomError(
                "the coniferest strategy needs the optional coniferest package: "
                "pip install 'astroanom[coniferest]'"
            ) from exc
        classes = {"pineforest": PineForest, "aadforest": AADForest}
        if model not in classes:
            raise AstroanomError(
                f"coniferest model must be one of {sorted(classes)}; got {model!r}"
            )
        self.factory = classes[model]
        self.params = {"random_seed": seed, "n_jobs": n_jobs, **params}
        self.threshold = anomaly_min_relevance
        self.name = f"coniferest-{model}"

    def _score(self) -> np.ndarray:
        from coniferest.label import Label

        X = np.asarray(self.X_, dtype=np.float64)
        try:
            forest = self.factory(**self.params)
        except TypeError as exc:
            raise AstroanomError(
                f"{self.name}: bad parameters {sorted(self.params)}: {exc}"
            ) from exc
        if self.labelled_.size:
            known = np.where(self.labels_ >= self.threshold, Label.ANOMALY, Label.REGULAR)
            forest.fit_known(X, X[self.labelled_], known)
        else:
            forest.fit(X)
        return -np.asarray(forest.score_samples(X), dtype=np.float64)


def make_strategy(
    name: str,
    seed: int = 0,
    n_jobs: int = 1,
    shared: Mapping[str, Any] | None = None,
    **params: Any,
) -> Strategy:
    """Build a strategy by short name, registered name, or dotted path of a class.

    The class is called as ``cls(seed=seed, n_jobs=n_jobs, **shared, **params)``: seed and
    n_jobs where the class accepts them, each ``shared`` setting (the config's
    ``active_learning`` section: alpha, n_estimators) only where it declares it (see
    :func:`takes_shared`); ``params`` win. It must provide
    ``fit(X, S, labelled, labels)`` and ``score()``.
    """
    from astroanom import plugins

    factory = plugins.resolve("strategy", name)
    shared = {k: v for k, v in dict(shared or {}).items() if takes_shared(factory, k)}
    obj = plugins.call(factory, f"strategy {name!r}", params, seed=seed, n_jobs=n_jobs, **shared)
    if not (callable(getattr(obj, "fit", None)) and callable(getattr(obj, "score", None))):
        raise AstroanomError(
            f"strategy {name!r} ({type(obj).__module__}.{type(obj).__qualname__}) needs "
            "fit(X, S, labelled, labels) and score() methods"
        )
    if not getattr(obj, "name", None):
        obj.name = name
    return obj


def takes_shared(factory: Any, key: str) -> bool:
    """Whether a strategy receives the shared ``active_learning`` setting ``key``: a declared
    class only if its ``PARAMS`` names it; an undeclared one only if its signature names it
    (not through ``**kwargs``)."""
    import inspect

    decl = declaration(factory)
    if decl is not None:
        return key in decl
    try:
        return key in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def strategy_from_config(
    entry: Mapping[str, Any],
    seed: int = 0,
    n_jobs: int = 1,
    shared: Mapping[str, Any] | None = None,
) -> Strategy:
    """Build a strategy from ``{name, params?, ...}``; other keys are parameters too.
    ``shared``: the ``active_learning`` settings (see :func:`make_strategy`)."""
    if "name" not in entry:
        raise AstroanomError(f"a strategy entry needs a 'name'; got {dict(entry)}")
    params = dict(entry.get("params") or {})
    params.update(
        {k: v for k, v in entry.items() if k not in ("name", "params", "label", "optional")}
    )
    return make_strategy(str(entry["name"]), seed=seed, n_jobs=n_jobs, shared=shared, **params)
