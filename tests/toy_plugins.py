"""A toy plug-in of each kind, from a test module (tests/test_toy_plugins.py uses them by dotted
path): one class each, with its parameters declared beside it (``PARAMS``) and nothing
registered anywhere else. The source declares the kind of its objects (table rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from astroanom.params import Param, Params, declared


@declared
class BlobSource:
    """``n`` objects with two Normal features; the last ``n_odd`` sit 6 sd away (class 1)."""

    object_kind = "table"
    truth_columns = ("class",)
    PARAMS = Params(
        n=Param(int, 60, "objects", minimum=10),
        n_odd=Param(int, 4, "objects far from the rest", minimum=1),
    )

    def __init__(self, n: int, n_odd: int) -> None:
        self.n, self.n_odd = n, n_odd

    def manifest(self, workdir, seed):
        rng = np.random.default_rng(seed)
        xy = rng.normal(size=(self.n, 2))
        xy[-self.n_odd :] += 6.0
        cls = np.r_[np.zeros(self.n - self.n_odd, int), np.ones(self.n_odd, int)]
        objects = pd.DataFrame({"id": [f"b{i:03d}" for i in range(self.n)], "x": xy[:, 0]})
        objects["y"], objects["class"] = xy[:, 1], cls
        return objects, pd.DataFrame(columns=["id", "stage", "reason"])


@declared
class ScaledColumns:
    """Features: the manifest's x and y times ``factor``."""

    PARAMS = Params(factor=Param(float, 1.0, "multiplier", exclusive_minimum=0))
    SHARD_SIZE = 1000

    def __init__(self, factor: float, n_jobs: int = 1) -> None:
        self.factor = factor

    def names(self) -> list[str]:
        return ["x", "y"]

    def extract(self, objects: pd.DataFrame):
        X = objects[["x", "y"]].to_numpy(np.float64) * self.factor
        return X, [None] * len(objects)


@declared
class PreferS:
    """A strategy: S plus ``bonus`` for every object within ``radius`` of an object labelled
    above 2 (in feature units), highest first."""

    PARAMS = Params(
        bonus=Param(float, 10.0, "added near a wanted label"),
        radius=Param(float, 3.0, "feature-space radius", exclusive_minimum=0),
    )

    def __init__(self, bonus: float, radius: float, seed: int = 0, n_jobs: int = 1) -> None:
        self.bonus, self.radius = bonus, radius

    def fit(self, X, S, labelled, labels):
        self.X_, self.S_ = np.asarray(X, np.float64), np.asarray(S, np.float64)
        self.wanted_ = np.asarray(labelled)[np.asarray(labels) > 2]
        return self

    def score(self) -> np.ndarray:
        out = self.S_.copy()
        for i in self.wanted_:
            out[np.linalg.norm(self.X_ - self.X_[i], axis=1) < self.radius] += self.bonus
        return out
