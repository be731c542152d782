"""``features.kind: columns``: feature values read straight from manifest columns (tables).

The table source has already applied the missing-value policy over the whole population (and
computed any derived columns such as colours or log-periods), so this extractor only copies the
columns; a value that is still NaN/inf makes that object a failure row naming the column (it can
only happen when the manifest was edited or produced elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared


@declared
class ColumnsExtractor:
    """Copy the named numeric ``columns`` of the manifest into the feature matrix, in order.

    ``columns`` defaults to the table source's resolved feature list
    (``TableSource.feature_columns``), which the workflow records in
    ``<workdir>/source/info.json`` when it reads the source.
    """

    reads = "table"

    PARAMS = Params(
        columns=Param(
            list,
            None,
            "null: the table source's feature columns",
            nullable=True,
            items={"type": "string"},
        ),
    )
    SHARD_SIZE = 1000000

    def __init__(
        self,
        columns: Sequence[str] | None,
        workdir: str | None = None,
    ) -> None:
        if columns is None and workdir is not None:
            info = Path(workdir) / "source" / "info.json"
            if info.is_file():
                columns = json.loads(info.read_text(encoding="utf-8")).get("feature_columns")
        if not columns:
            raise ConfigError(
                "features.columns: give at least one column (or use a table source, which "
                "records its feature columns)"
            )
        self.columns = list(columns)

    def names(self) -> list[str]:
        return list(self.columns)

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        absent = [c for c in self.columns if c not in objects.columns]
        if absent:
            raise ConfigError(
                f"the manifest has no column(s) {absent}; columns: {list(objects.columns)[:20]}"
            )
        X = objects[self.columns].to_numpy(dtype=np.float64, copy=True)
        bad = ~np.isfinite(X)
        reasons: list[str | None] = [None] * len(X)
        for i in np.flatnonzero(bad.any(axis=1)):
            cols = [self.columns[j] for j in np.flatnonzero(bad[i])]
            reasons[i] = f"feature value NaN or inf in {', '.join(cols)}"
            X[i] = np.nan
        return X, reasons
