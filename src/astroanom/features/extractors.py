"""The feature-extractor interface and the built-in extractors ``values`` and ``ellipse``.

An extractor is built from the dataset's ``features:`` config (minus ``kind``) and turns a shard
of the dataset's object table into features::

    names() -> list[str]                       feature names, in column order
    extract(objects) -> (X, reasons)           X (n, len(names())) float64, NaN rows where it
                                               failed; reasons[i] is None or why object i failed

Rows of ``X`` follow the rows of ``objects``. Only one object's raw data (an image, a curve)
needs to be in memory at a time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

log = logging.getLogger("astroanom.features")
PathLike = str | os.PathLike[str]


class ValuesExtractor:
    """``features.kind: values``: the values the source wrote itself (e.g. simulated curves),
    read from ``<workdir>/source/values.parquet`` for the requested ids."""

    reads = "values"

    def __init__(self, workdir: PathLike) -> None:
        from astroanom.sources.simulation import values_path

        self.path = values_path(workdir)
        self._table: pd.DataFrame | None = None

    def _values(self) -> pd.DataFrame:
        if self._table is None:
            from astroanom.store.io import feature_columns

            t = pd.read_parquet(self.path)
            self._cols = feature_columns(t)
            self._table = t.set_index("id")
        return self._table

    def names(self) -> list[str]:
        self._values()
        return list(self._cols)

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        t = self._values()
        missing = ~objects["id"].isin(t.index)
        if missing.any():
            raise KeyError(
                f"{self.path} has no values for ids {objects.loc[missing, 'id'].head(5).tolist()}"
            )
        X = t.loc[objects["id"], self._cols].to_numpy(dtype=np.float32)
        return X, [None] * len(objects)


class EllipseExtractor:
    """``features.kind: ellipse``: the paper's ellipse-fitting features (Appendix B) of each
    object's ``image_path``, on one colour channel after the sigma-clipped central-source cut."""

    reads = "image"

    def __init__(self, n_sigma: float = 3.0, channel: int = 0, preset: str = "paper") -> None:
        self.n_sigma, self.channel, self.preset = float(n_sigma), int(channel), preset

    def names(self) -> list[str]:
        from astroanom.features.ellipse import feature_names

        return list(feature_names(self.preset))

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        return image_features_of(
            objects["image_path"].tolist(),
            objects["id"].tolist(),
            self.names(),
            self.n_sigma,
            self.channel,
            self.preset,
        )


def image_features_of(
    paths: Sequence[str],
    ids: Sequence[str],
    names: Sequence[str],
    n_sigma: float = 3.0,
    channel: int = 0,
    preset: str = "paper",
) -> tuple[np.ndarray, list[str | None]]:
    """Ellipse features (n, len(names)) float64 (NaN rows for failures) and a reason per image
    (None if ok). Only one image is in memory at a time; progress is logged every 500 images."""
    from astroanom.features.ellipse import image_features
    from astroanom.sources.imageio import ImageReadError, load_image

    X = np.full((len(paths), len(names)), np.nan)
    reasons: list[str | None] = []
    t0 = time.perf_counter()
    for k, path in enumerate(paths):
        try:
            res = image_features(load_image(path), n_sigma=n_sigma, channel=channel, preset=preset)
            reason = res.reason
            if res.values is not None:
                X[k] = res.values
        except ImageReadError as exc:
            reason = f"read: {exc}"
        if reason is not None:
            log.warning("%s failed: %s", ids[k], reason)
        reasons.append(reason)
        if (k + 1) % 500 == 0:
            log.info(
                "features %d/%d (%.1f ms/image)",
                k + 1,
                len(paths),
                1e3 * (time.perf_counter() - t0) / (k + 1),
            )
    return X, reasons
