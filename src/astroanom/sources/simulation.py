"""The five-class simulated data set of the paper (section 6, Table 1).

Each object is a curve y(x) sampled at ``n_x`` evenly spaced x in [0, 1] plus Gaussian noise;
the y-values are the features. Every class has a functional form and Normal(mean, sd)
parameter distributions, all taken from the configuration (see ``config/config.yaml``: the
``paper`` preset, and ``table1-as-printed``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.store.io import feature_frame

Curve = Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]


def _sine(x: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.sin(p["omega"][:, None] * x[None, :])


def _quadratic(x: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    return p["a"][:, None] * x**2 + p["b"][:, None] * x + p["c"][:, None]


def _step(x: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.where(x[None, :] <= p["x0"][:, None], p["h"][:, None], 0.0)


def _gaussian(x: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    z = (x[None, :] - p["mu"][:, None]) / p["w"][:, None]
    return p["A"][:, None] * np.exp(-(z**2))


def _sum_of_sines(x: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    omega = np.stack([p[f"omega{i}"] for i in range(1, 6)], axis=1)  # (n, 5)
    return 0.2 * np.sin(omega[:, :, None] * x[None, None, :]).sum(axis=1)


FORMS: dict[str, tuple[Curve, tuple[str, ...], str]] = {
    "sine": (_sine, ("omega",), "sin(omega x)"),
    "quadratic": (_quadratic, ("a", "b", "c"), "a x^2 + b x + c"),
    "step": (_step, ("h", "x0"), "h if x <= x0 else 0"),
    "gaussian": (_gaussian, ("A", "mu", "w"), "A exp(-((x - mu)/w)^2)"),
    "sum_of_sines": (
        _sum_of_sines,
        tuple(f"omega{i}" for i in range(1, 6)),
        "0.2 sum_{i=1..5} sin(omega_i x)",
    ),
}


@dataclass(frozen=True)
class SimulatedData:
    """features (n, n_x) float32, classes (n,) int, ids (n,), params: per-object draws."""

    features: np.ndarray
    classes: np.ndarray
    ids: np.ndarray
    params: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Feature table: id, class, f000..f{n_x-1}."""
        df = feature_frame(self.ids, self.features)
        df.insert(1, "class", self.classes)
        return df


def _expand_params(spec: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Parameter (mean, sd) pairs of one class; ``omega: [m, s]`` expands to omega1..5 for sums."""
    params = {k: (float(v[0]), float(v[1])) for k, v in spec["params"].items()}
    if spec["form"] == "sum_of_sines" and "omega" in params:
        om = params.pop("omega")
        params.update({f"omega{i}": om for i in range(1, 6)})
    return params


def simulate(
    classes: Mapping[int, Mapping[str, Any]],
    counts: Mapping[int, int],
    seed: int,
    n_x: int = 100,
    noise_sd: float = 0.1,
) -> SimulatedData:
    """Draw the simulated data set.

    ``classes`` maps class id -> {form, params: {name: [mean, sd]}} (one preset of the config);
    ``counts`` maps class id -> number of objects. Objects are shuffled; ids are 0..n-1.
    The same arguments give the same numbers.
    """
    missing = sorted(set(counts) - set(classes))
    if missing:
        raise ConfigError(
            f"simulation counts name class(es) {missing} that the preset does not define"
        )
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, n_x)
    curves, labels, param_rows = [], [], []
    for cid in sorted(counts):
        spec = classes[cid]
        if spec["form"] not in FORMS:
            raise ConfigError(f"class {cid}: unknown form {spec['form']!r}; known: {sorted(FORMS)}")
        func, names, _ = FORMS[spec["form"]]
        dists = _expand_params(spec)
        if set(dists) != set(names):
            raise ConfigError(
                f"class {cid} ({spec['form']}) needs parameters {sorted(names)}, got {sorted(dists)}"
            )
        n = int(counts[cid])
        draws = {name: rng.normal(dists[name][0], dists[name][1], size=n) for name in names}
        y = func(x, draws) + rng.normal(0.0, noise_sd, size=(n, n_x))
        curves.append(y)
        labels.append(np.full(n, cid, dtype=np.int64))
        param_rows.append(pd.DataFrame({"class": cid, **draws}))
    order = rng.permutation(sum(int(c) for c in counts.values()))
    features = np.concatenate(curves).astype(np.float32)[order]
    params = pd.concat(param_rows, ignore_index=True).iloc[order].reset_index(drop=True)
    ids = np.arange(order.size, dtype=np.int64)
    params.insert(0, "id", ids)
    return SimulatedData(features, np.concatenate(labels)[order], ids, params)


@declared
class SimulationSource:
    """``source.kind: simulation``: the paper's five-class curves (section 6, Table 1).

    The curves are the features: :meth:`write_values` writes them (the workflow's
    ``source_values`` step, to ``<workdir>/source/values.parquet``) and the ``values`` extractor
    reads them back. They are a function of the configuration and the seed only, so the
    workflow keeps them as a temporary file and makes them again if a later step needs them.
    Class and drawn parameters are truth.
    """

    object_kind = "curve"  # astroanom.kinds: what its objects are

    truth_columns = "*"  # the class and every drawn parameter give the answer away
    PARAMS = Params(
        preset=Param(str, description="a name under simulation_presets"),
        n_x=Param(int, 100, "x-values evenly spaced on [0, 1]", minimum=2),
        noise_sd=Param(float, 0.1, "sd of the Gaussian noise added to every curve", minimum=0),
        counts=Param(
            dict,
            {0: 25000, 1: 24500, 2: 150, 3: 150, 4: 150},
            "class -> number of objects",
            extra={"additionalProperties": {"type": "integer", "minimum": 1}, "minProperties": 1},
        ),
    )

    def __init__(
        self,
        classes: Mapping[int, Mapping[str, Any]],
        counts: Mapping[int, int],
        n_x: int,
        noise_sd: float,
        preset: str,
    ) -> None:
        self.classes = {int(k): v for k, v in classes.items()}
        self.counts = {int(k): int(v) for k, v in counts.items()}
        self.n_x, self.noise_sd, self.preset = int(n_x), float(noise_sd), preset

    def _simulate(self, seed: int) -> SimulatedData:
        return simulate(self.classes, self.counts, seed=seed, n_x=self.n_x, noise_sd=self.noise_sd)

    def manifest(self, workdir: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """objects (id, class, drawn parameters) and no failures (the curves: write_values)."""
        return self._simulate(seed).params, pd.DataFrame(columns=["id", "stage", "reason"])

    def write_values(self, path: str | os.PathLike[str], seed: int) -> None:
        """Write the curves of ``seed`` (id, f000.. float32; the manifest's rows) to ``path``."""
        from astroanom.store.io import write_parquet

        write_parquet(self._simulate(seed).to_frame().drop(columns="class"), path)

    def describe(self) -> dict[str, Any]:
        """What ``dataset.json`` records about the objects (curve x-values and axis labels)."""
        return {
            "description": f"five-class simulation ({self.preset}), curves of {self.n_x} points",
            "x_label": "x",
            "y_label": "y",
            "extra": {"x": np.linspace(0, 1, self.n_x).tolist()},
        }


def values_path(workdir: str | os.PathLike[str]) -> str:
    """Where a source that supplies its own feature values writes them."""
    return os.path.join(workdir, "source", "values.parquet")
