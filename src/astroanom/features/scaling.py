"""Feature scaling before detection: zero mean, unit variance per feature (as scikit-learn's
StandardScaler, without its float64 copies of the whole matrix)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class ScalerParams:
    """Per-feature statistics of :func:`standardise`, named as StandardScaler's attributes:
    ``mean_``, ``var_`` and ``scale_`` (m,) float64 and ``n_samples_seen_`` (rows used)."""

    mean_: np.ndarray
    var_: np.ndarray
    scale_: np.ndarray
    n_samples_seen_: int | np.ndarray


def _column_stats(c: np.ndarray) -> tuple[float, float, int]:
    """Mean, variance and count of the non-NaN values of one float64 column (n,), with the
    formulas StandardScaler uses (mean = sum / n; var = (sum(t^2) - sum(t)^2 / n) / n, t = c - mean)."""
    nan = np.isnan(c)
    if nan.any():
        c = c[~nan]
    n = c.size
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = c.sum() / n
    t = c - mean
    correction = t.sum()
    np.square(t, out=t)
    return float(mean), float((t.sum() - correction**2 / n) / n), n


def standardise(X: np.ndarray, block_rows: int = 65536) -> tuple[np.ndarray, ScalerParams]:
    """Scale ``X`` (n, m) to zero mean and unit variance per column; return float32 (n, m) and
    the statistics. Constant columns are centred and left unscaled; NaN stays NaN and is
    ignored by the statistics, as in StandardScaler, whose results this equals to float64
    rounding (the statistics are summed per column instead of per row).

    Working memory beyond the output is one float64 column for the statistics and one float64
    block of ``block_rows`` rows for the transform.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"standardise expects a 2-D array (n, m), got shape {X.shape}")
    n, m = X.shape
    mean, var = np.empty(m), np.empty(m)
    count = np.empty(m, dtype=np.int64)
    for j in range(m):
        mean[j], var[j], count[j] = _column_stats(np.array(X[:, j], dtype=np.float64))
    # StandardScaler's near-constant test on the raw variance (sklearn _is_constant_feature)
    constant = var <= count * _EPS * var + (count * mean * _EPS) ** 2
    scale = np.sqrt(var)
    scale[constant] = 1.0
    out = np.empty((n, m), dtype=np.float32)
    for s in range(0, n, block_rows):
        b = np.array(X[s : s + block_rows], dtype=np.float64)
        b -= mean
        b /= scale
        out[s : s + b.shape[0]] = b
    seen: int | np.ndarray = int(count[0]) if m and (count == count[0]).all() else count
    return out, ScalerParams(mean_=mean, var_=var, scale_=scale, n_samples_seen_=seen)
