"""Feature scaling before detection: zero mean, unit variance per feature (StandardScaler)."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from astroanom.store.io import feature_columns, read_features, write_parquet, write_text


def standardise(X: np.ndarray) -> tuple[np.ndarray, StandardScaler]:
    """Scale ``X`` (n, m) to zero mean and unit variance per column (constant columns are
    centred and left unscaled); return float32 (n, m) and the fitted scaler."""
    scaler = StandardScaler().fit(X.astype(np.float64))
    return scaler.transform(X.astype(np.float64)).astype(np.float32), scaler


def scale_step(
    features_in: str | os.PathLike[str],
    features_out: str | os.PathLike[str],
    params_json: str | os.PathLike[str],
) -> None:
    """Standardise a feature table; write the scaled table and the per-feature mean and scale."""
    df, X = read_features(features_in)
    cols = feature_columns(df)
    Xs, scaler = standardise(X)
    out = pd.DataFrame({"id": df["id"].to_numpy()})
    for j, c in enumerate(cols):
        out[c] = Xs[:, j]
    write_parquet(out, features_out)
    params = {"columns": cols, "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}
    write_text(json.dumps(params, indent=2) + "\n", params_json)
