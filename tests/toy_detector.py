"""A toy plug-in detector for the tests: a class with the scikit-learn outlier API only.

Score: Euclidean distance of each object to the feature-wise median (higher is weirder), so a
config uses it as ``{name: toy_detector.DistanceFromMedian, lower_is_weirder: false}``.
"""

from __future__ import annotations

import numpy as np


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
