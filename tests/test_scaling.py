"""standardise equals scikit-learn's StandardScaler (to float64 rounding) without its copies."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from astroanom.features.scaling import standardise
from astroanom.pipeline.features import scale_step
from astroanom.store.io import feature_frame, write_parquet


def _reference(X: np.ndarray) -> tuple[np.ndarray, StandardScaler]:
    sc = StandardScaler().fit(X.astype(np.float64))
    return sc.transform(X.astype(np.float64)).astype(np.float32), sc


def test_standardise_matches_standard_scaler():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 7)) * [1, 10, 1e-3, 1e4, 1, 1, 2] + [0, 5, -3, 1e5, 0, 0, 0]
    X = X.astype(np.float32)
    X[:, 4] = 2.5  # constant column: centred, scale 1
    X[:, 5] = np.arange(5000) % 2  # 0/1 column: mean 0.5, sd 0.5 exactly
    Xs, p = standardise(X, block_rows=999)  # blocks that do not divide n
    ref, sc = _reference(X)
    np.testing.assert_allclose(p.mean_, sc.mean_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.var_, sc.var_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p.scale_, sc.scale_, rtol=1e-10)
    assert Xs.dtype == np.float32 and Xs.shape == X.shape
    np.testing.assert_allclose(Xs, ref, rtol=1e-6, atol=1e-6)
    assert p.scale_[4] == 1.0 and np.all(Xs[:, 4] == 0.0)
    assert p.mean_[5] == 0.5 and p.scale_[5] == 0.5
    assert set(np.unique(Xs[:, 5])) == {-1.0, 1.0}
    assert p.n_samples_seen_ == 5000


def test_standardise_ignores_nan_like_standard_scaler():
    X = np.array([[1.0, 0.0], [np.nan, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
    Xs, p = standardise(X)
    # column 0 from 1, 3, 5: mean 3, var 8/3
    assert p.mean_[0] == 3.0 and np.isclose(p.var_[0], 8.0 / 3.0)
    assert np.isnan(Xs[1, 0]) and np.isclose(Xs[0, 0], -2.0 / np.sqrt(8.0 / 3.0))
    assert list(p.n_samples_seen_) == [3, 4]
    ref, _ = _reference(X)
    np.testing.assert_allclose(Xs, ref, rtol=1e-6)


def test_scale_step_writes_the_scaled_table(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(300, 4)).astype(np.float32)
    ids = np.array([f"o{i}" for i in range(300)])
    write_parquet(feature_frame(ids, X), tmp_path / "f.parquet")
    scale_step(tmp_path / "f.parquet", tmp_path / "s.parquet", tmp_path / "p.json", "standard")
    out = pd.read_parquet(tmp_path / "s.parquet")
    assert list(out.columns) == ["id", "f000", "f001", "f002", "f003"]
    assert out["id"].tolist() == ids.tolist()
    ref, sc = _reference(X)
    np.testing.assert_allclose(out.iloc[:, 1:].to_numpy(), ref, rtol=1e-6, atol=1e-6)
    params = json.loads((tmp_path / "p.json").read_text())
    np.testing.assert_allclose(params["mean"], sc.mean_, rtol=1e-12)
    np.testing.assert_allclose(params["scale"], sc.scale_, rtol=1e-10)
