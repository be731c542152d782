"""The on-disk contract of a *dataset directory*: what the workflow writes for every data set
and what the labeller, the benchmark and the figures read.

A dataset directory (a *run*: ``results/<name>`` or ``results/<name>/seed<N>``) holds:

- ``dataset.json``     name, kind (the source's object kind, :mod:`astroanom.kinds`), feature names, seed
- ``features.parquet`` ``id`` + feature columns ``f000..`` exactly as the detector saw them
- ``objects.parquet``  ``id`` + the source's metadata (``image_path``, coordinates, ...), no truth
- ``truth.parquet``    ``id``, ``value``, ``known``, ``is_anomaly`` + the truth's own columns
                       (only for metrics and simulated oracles; the labeller hides it)
- ``scores.parquet``   ``id``, ``raw`` (native detector score), ``S`` (0..5, 5 most anomalous)
- ``active.parquet``   ``id``, ``U``, ``d``, ``score`` (the retrained S^), ``label`` (NaN if none)
- ``embedding.parquet`` ``id``, ``x``, ``y`` (t-SNE map of a subset), optional

Ids are unique; for images they are the file stem. All tables are Parquet written atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from astroanom.store.io import write_text
from astroanom.store.rundir import (  # noqa: F401  (the file names live with RunDir)
    ACTIVE,
    DATASET_JSON,
    EMBEDDING,
    EXPORT_FILES,
    FEATURES,
    LABELS_USED,
    OBJECTS,
    SCORES,
    TRUTH,
)


@dataclass
class DatasetInfo:
    """Description of a dataset directory (``dataset.json``)."""

    name: str
    kind: str  # an object kind of astroanom.kinds (curve, image, light_curve, spectrum, table)
    description: str = ""
    seed: int | None = None
    x_label: str = "x"
    y_label: str = "y"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def objects_word(self) -> str:
        """What the objects are, in the plural, for people: "images", "table rows", ...
        ("objects" for a kind that is not registered)."""
        from astroanom import kinds

        try:
            return kinds.get(self.kind).plural
        except kinds.UnknownKindError:
            return "objects"

    def write(self, directory: str | os.PathLike[str]) -> Path:
        path = Path(directory) / DATASET_JSON
        write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", path)
        return path

    @classmethod
    def read(cls, directory: str | os.PathLike[str]) -> DatasetInfo:
        path = Path(directory) / DATASET_JSON
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: {directory} is not a dataset directory written by the workflow "
                "(run snakemake first)"
            )
        return cls(**json.loads(path.read_text(encoding="utf-8")))
