"""``features.kind: values``: the values a source supplies itself, as features.

Every extractor (``values`` here, the image extractors of
:mod:`astroanom.features.image_extractor`, the light-curve and table ones) is built from the
dataset's ``features:`` config (minus ``kind``) and turns a shard of the dataset's object table
into features::

    names() -> list[str]                       feature names, in column order
    extract(objects) -> (X, reasons)           X (n, len(names())) float64, NaN rows where it
                                               failed; reasons[i] is None or why object i failed

Rows of ``X`` follow the rows of ``objects``. Only one object's raw data (an image, a curve)
needs to be in memory at a time.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from astroanom.params import Params, declared

log = logging.getLogger("astroanom.features")
PathLike = str | os.PathLike[str]


@declared
class ValuesExtractor:
    """``features.kind: values``: the values the source wrote itself (e.g. simulated curves),
    read from ``<workdir>/source/values.parquet`` for the requested ids."""

    reads = "values"

    PARAMS = Params()
    SHARD_SIZE = 1000000

    def __init__(
        self,
        workdir: PathLike,
    ) -> None:
        from astroanom.sources.simulation import values_path

        self.path = values_path(workdir)
        self._table: pd.DataFrame | None = None

    def _values(self) -> pd.DataFrame:
        if self._table is None:
            from astroanom.store.io import feature_columns

            if not os.path.isfile(self.path):
                raise FileNotFoundError(
                    f"{self.path} not found: features.kind 'values' reads the values its source "
                    "writes (the workflow's source_values step); run that step first"
                )
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

    def same_file(self, frame: pd.DataFrame) -> str | None:
        """The values file if it holds exactly ``frame`` (id + f000.., same rows, order and
        dtypes: every object of the source kept), else None. The gather step then links its
        features_raw.parquet to it instead of writing a second copy of the same table."""
        if not os.path.isfile(self.path):
            return None
        table = pd.read_parquet(self.path)
        return self.path if table.equals(frame.reset_index(drop=True)) else None
