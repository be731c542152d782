"""Step of ``workflow/rules/detect.smk``: the configured detector on a run's feature table."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

from astroanom.store.io import read_features, write_parquet

log = logging.getLogger("astroanom.detect")
PathLike = str | os.PathLike[str]


def detect_step(
    features: PathLike,
    scores: PathLike,
    detector: Mapping[str, Any],
    seed: int,
    threads: int = 1,
    state: PathLike | None = None,
) -> None:
    """Run the configured detector on a feature table; write id, raw (native score), S (0..5),
    and, to ``state``, the fitted detector as the bundle keeps it (:mod:`astroanom.bundle`)."""
    from astroanom.detect.detectors import anomaly_scores, detector_from_config

    df, X = read_features(features)
    det = detector_from_config(dict(detector), seed=seed, n_jobs=threads)
    t0 = time.perf_counter()
    raw, S = anomaly_scores(det, X)
    log.info("%s on %d x %d features in %.2f s", det.name, *X.shape, time.perf_counter() - t0)
    if state is not None:
        from astroanom.bundle import DETECTOR, detector_part, write_part

        entry, members = detector_part(det, X, raw)
        if entry["format"] == "unsupported":
            log.warning("the bundle cannot keep this detector: %s", entry["reason"])
        write_part(state, DETECTOR, entry, members)
    write_parquet(pd.DataFrame({"id": df["id"].to_numpy(), "raw": raw, "S": S}), scores)
