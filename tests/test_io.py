"""Atomic writes and validation of feature tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from astroanom.errors import BadFeaturesError
from astroanom.store.io import check_finite, feature_frame, read_features, write_parquet


def test_nan_and_inf_rows_are_named(tmp_path):
    X = np.ones((5, 3), dtype=np.float32)
    X[1, 2] = np.nan
    X[4, 0] = np.inf
    ids = np.array([10, 11, 12, 13, 14])
    with pytest.raises(BadFeaturesError, match=r"2 row\(s\).*ids 11, 14"):
        check_finite(X, ids)
    write_parquet(feature_frame(ids, X), tmp_path / "f.parquet")
    with pytest.raises(BadFeaturesError, match="ids 11, 14"):
        read_features(tmp_path / "f.parquet")


def test_empty_table_is_refused(tmp_path):
    write_parquet(
        feature_frame(np.array([], dtype=int), np.zeros((0, 2), np.float32)), tmp_path / "e.parquet"
    )
    with pytest.raises(BadFeaturesError, match="empty"):
        read_features(tmp_path / "e.parquet")


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "t.parquet"
    write_parquet(pd.DataFrame({"id": [1], "f000": [1.0]}), path)
    before = path.read_bytes()

    class Boom(pd.DataFrame):
        def to_parquet(self, *a, **k):  # a write that dies half-way
            with open(a[0], "wb") as fh:
                fh.write(b"PAR1 half")
            raise OSError("disk full")

    with pytest.raises(OSError):
        write_parquet(Boom({"id": [2]}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]  # no temp file left behind


def test_feature_roundtrip(tmp_path):
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    write_parquet(feature_frame(np.array([5, 6, 7]), X), tmp_path / "x.parquet")
    df, Y = read_features(tmp_path / "x.parquet")
    assert list(df.columns) == ["id", "f000", "f001"]
    np.testing.assert_array_equal(X, Y)
