"""PCA as an optional step after scaling: keep ``n_components`` components, or as many as explain
a given fraction of the variance. Seeded (the randomised solver is used for large inputs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import PCA

from astroanom.errors import ConfigError


@dataclass(frozen=True)
class PCAReport:
    """What the reduction kept: n_components, per-component and cumulative explained-variance
    ratios (k,), and the total fraction of variance kept."""

    n_components: int
    explained_variance_ratio: list[float] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)
    kept_fraction: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "n_components": self.n_components,
            "explained_variance_ratio": self.explained_variance_ratio,
            "cumulative": self.cumulative,
            "kept_fraction": self.kept_fraction,
        }


def check_n_components(n_components: int | float, n_features: int) -> None:
    """An int in 1..n_features, or a variance fraction float strictly inside (0, 1)."""
    if isinstance(n_components, bool):
        raise ConfigError("pca.n_components must be an int or a float in (0, 1), not a bool")
    if isinstance(n_components, int | np.integer):
        if not 1 <= int(n_components) <= n_features:
            raise ConfigError(
                f"pca.n_components={n_components} must lie in 1..{n_features} (the feature count)"
            )
    elif isinstance(n_components, float):
        if not 0.0 < n_components < 1.0:
            raise ConfigError(
                f"pca.n_components={n_components} as a variance fraction must lie in (0, 1)"
            )
    else:
        raise ConfigError(f"pca.n_components must be an int or a float, got {n_components!r}")


def reduce(X: np.ndarray, n_components: int | float, seed: int = 0) -> tuple[np.ndarray, PCAReport]:
    """Project scaled features ``X`` (n, m) onto their first principal components.

    ``n_components``: an int k (keep k components) or a float f in (0, 1) (keep the fewest
    components whose cumulative explained-variance ratio reaches f). Returns float32 (n, k) and
    a :class:`PCAReport`. Deterministic for a given ``seed``; the sign of each component is fixed
    so that its largest-magnitude loading is positive.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ConfigError(f"PCA needs a 2-D array with at least 2 rows, got shape {X.shape}")
    check_n_components(n_components, X.shape[1])
    pca = PCA(n_components=n_components, svd_solver="full", random_state=seed)
    if (
        isinstance(n_components, int | np.integer)
        and X.shape[0] > 20000
        and n_components < 0.8 * min(X.shape)
    ):
        pca = PCA(n_components=int(n_components), svd_solver="randomized", random_state=seed)
    Z = pca.fit_transform(X)
    comps = pca.components_
    flip = np.sign(comps[np.arange(comps.shape[0]), np.abs(comps).argmax(axis=1)])
    flip[flip == 0] = 1.0
    Z *= flip
    ratio = pca.explained_variance_ratio_
    report = PCAReport(
        n_components=int(Z.shape[1]),
        explained_variance_ratio=[float(r) for r in ratio],
        cumulative=[float(c) for c in np.cumsum(ratio)],
        kept_fraction=float(ratio.sum()),
    )
    return Z.astype(np.float32), report
