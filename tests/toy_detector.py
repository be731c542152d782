"""A toy plug-in detector for the tests: a class with the scikit-learn outlier API only.

Score: Euclidean distance of each object to the feature-wise median (higher is weirder), so a
config uses it as ``{name: toy_detector.DistanceFromMedian, lower_is_weirder: false}``.
"""

from __future__ import annotations

import numpy as np

from astroanom.params import Param, Params, declared


class DistanceFromMedian:
    def __init__(self, power: float = 1.0) -> None:
        self.power = power

    def fit(self, X: np.ndarray) -> DistanceFromMedian:
        self.median_ = np.median(np.asarray(X, dtype=np.float64), axis=0)
        return self

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        d = np.linalg.norm(np.asarray(X, dtype=np.float64) - self.median_, axis=1)
        return d**self.power


class NoScore:
    """Wrong interface: it can fit but offers no score method."""

    def fit(self, X: np.ndarray) -> NoScore:
        return self


class ConstantScore(DistanceFromMedian):
    """Returns the same score for every object (must be rejected, naming the detector)."""

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        return np.ones(len(X))


class NaNScore(DistanceFromMedian):
    """Returns NaN for one object (must be rejected, naming the detector)."""

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        out = super().score_samples(X)
        out[3] = np.nan
        return out


@declared
class DeclaredDistance(DistanceFromMedian):
    """A third-party detector that declares its parameters: `astroanom check` checks them."""

    PARAMS = Params(power=Param(float, 1.0, "exponent of the distance", exclusive_minimum=0))

    def __init__(self, power: float) -> None:
        super().__init__(power)


@declared
class AlphaStrategy:
    """A third-party strategy that declares the shared ``alpha`` (and so receives it)."""

    name = "alpha-toy"
    PARAMS = Params(alpha=Param(float, description="the shared alpha", shared=True))

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def fit(self, X: np.ndarray, S: np.ndarray, labelled: np.ndarray, labels: np.ndarray):
        self.S_ = np.asarray(S, dtype=np.float64)
        return self

    def score(self) -> np.ndarray:
        return self.alpha * self.S_
