"""Tiny dataset directories for the labeller tests, written with the library's own contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.store import dataset as ds
from astroanom.store.io import feature_frame, write_parquet


def curve_dataset(
    directory: Path, n: int = 120, n_x: int = 40, seed: int = 3, embedding: bool = True
) -> Path:
    """A curve dataset: sines plus a few step-shaped outliers, S high for the outliers.

    Ids are integers 0..n-1 (as in the simulation); features are the y-values at x.
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n_x)
    omega = rng.normal(5, 1, n)
    y = np.sin(np.outer(omega, x)) + rng.normal(0, 0.1, (n, n_x))
    cls = np.zeros(n, dtype=np.int64)
    cls[: n // 10] = 2
    y[cls == 2] = np.where(x < 0.5, 1.0, 0.0) + rng.normal(0, 0.1, (int((cls == 2).sum()), n_x))
    ids = np.arange(n)
    write_parquet(feature_frame(ids, y.astype(np.float32)), directory / ds.FEATURES)
    write_parquet(pd.DataFrame({"id": ids, "class": cls, "omega": omega}), directory / ds.OBJECTS)
    S = np.clip(rng.uniform(0, 2, n) + 3 * (cls == 2), 0, 5)
    write_parquet(pd.DataFrame({"id": ids, "raw": -S, "S": S}), directory / ds.SCORES)
    if embedding:
        xy = rng.normal(size=(n, 2)) + 4 * (cls == 2)[:, None]
        write_parquet(
            pd.DataFrame({"id": ids, "x": xy[:, 0], "y": xy[:, 1]}), directory / ds.EMBEDDING
        )
    ds.DatasetInfo(
        name="simulation/test/seed1",
        kind="curve",
        description="labeller test curves",
        seed=seed,
        extra={"x": x.tolist()},
    ).write(directory)
    return directory


def image_dataset(directory: Path, n: int = 6, size: int = 48, seed: int = 5) -> Path:
    """An image dataset: ``n`` small PNG blobs in ``images/`` with string ids (file stems)."""
    import cv2

    rng = np.random.default_rng(seed)
    img_dir = directory / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    ids, paths = [], []
    yy, xx = np.mgrid[:size, :size]
    for k in range(n):
        oid = f"gal_{k:03d}"
        r = rng.uniform(4, 12)
        img = (255 * np.exp(-((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (2 * r * r))).astype(
            np.uint8
        )
        cv2.imwrite(str(img_dir / f"{oid}.png"), np.dstack([img, img, img]))
        ids.append(oid)
        paths.append(f"images/{oid}.png")
    feats = rng.normal(size=(n, 5)).astype(np.float32)
    write_parquet(feature_frame(np.array(ids), feats), directory / ds.FEATURES)
    write_parquet(
        pd.DataFrame({"id": ids, "image_path": paths, "odd_fraction": rng.uniform(0, 1, n)}),
        directory / ds.OBJECTS,
    )
    S = rng.uniform(0, 5, n)
    write_parquet(pd.DataFrame({"id": ids, "raw": -S, "S": S}), directory / ds.SCORES)
    ds.DatasetInfo(name="galaxies/test", kind="image", description="labeller test images").write(
        directory
    )
    return directory
