"""``astroanom score``: a new batch of objects ranked with a run's model bundle
(:mod:`astroanom.bundle`, which ``workflow/rules/bundle.smk`` writes), without refitting.

``astroanom score <dataset> <new objects>`` reads the new objects with the dataset's own source
(its ``path`` replaced by the batch: a folder of cutouts, a new table, ...), computes features
with the dataset's extractor exactly as the run did, checks them against the bundle
(:class:`astroanom.bundle.Bundle`), scales them with the run's scaling and scores them with
the run's detector and relevance model. It writes ``results/<run>/scored/<batch>/`` in one
rename: ``objects.parquet``, ``features.parquet`` (scaled) and ``features_raw.parquet``,
``scores.parquet`` (id, raw, S), ``active.parquet`` (id, S, U, d, score = S^, label),
``failures.csv``, ``ranked.csv`` (by S^), ``dataset.json``, ``batch.json`` (what was scored
with which bundle, timings) and ``export/anomalies.{csv,fits,html}`` (the top by S^).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom import plugins
from astroanom.errors import AstroanomError, ConfigError
from astroanom.store.io import write_parquet, write_people_csv, write_text
from astroanom.store.rundir import FAILURE_COLUMNS

log = logging.getLogger("astroanom.bundle")
PathLike = str | os.PathLike[str]

#: Source parameters that subsample: a batch is scored whole.
SUBSAMPLE_KEYS = ("n_max", "n_objects")


def batch_manifest(
    source: Mapping[str, Any], batch: PathLike, workdir: Path, seed: int, truth_column: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, str, Any]:
    """The batch's objects (truth columns dropped), the source's failures, the object kind
    and the source, read by the dataset's source with ``path`` = ``batch`` and no subsample."""
    from astroanom.pipeline.features import object_kind, split_truth

    kind = str(source["kind"])
    factory = plugins.resolve("source", kind)
    from astroanom.params import declaration

    decl = declaration(factory)
    if decl is not None and "path" not in decl:
        raise ConfigError(
            f"the source {kind!r} of this dataset reads no path (it makes its objects), so it "
            "cannot read a new batch; give the batch as a source that reads files (e.g. a table "
            "or a folder of images) in a dataset scored with the same features"
        )
    params = {k: v for k, v in source.items() if k != "kind"}
    params["path"] = str(batch)
    for key in SUBSAMPLE_KEYS:
        if key in params:
            params[key] = None
    src = plugins.call(factory, f"source {kind!r}", params)
    man, fails = src.manifest(workdir, seed)
    if "id" not in man.columns or man["id"].duplicated().any():
        raise AstroanomError(f"the batch {batch} has no unique id for each object")
    hidden = getattr(src, "truth_columns", ())
    if truth_column and hidden != "*":
        hidden = (*hidden, truth_column)
    objects, _ = split_truth(man, hidden)
    objects = objects.reset_index(drop=True)
    obj_kind = object_kind(src, kind, objects.columns)
    info = {"feature_columns": list(getattr(src, "feature_columns", None) or [])}
    write_text(json.dumps(info) + "\n", workdir / "source" / "info.json")
    return objects, fails.reindex(columns=FAILURE_COLUMNS), obj_kind, src


def batch_features(
    objects: pd.DataFrame, ext: Any, chunk_rows: int
) -> tuple[np.ndarray, list[str | None]]:
    """Raw features (n, m) float32 as the run stores them and the failure reason of each row
    (None if fine), extracted ``chunk_rows`` objects at a time with progress logged."""
    from astroanom.pipeline.features import storable

    names = ext.names()
    n = len(objects)
    X = np.empty((n, len(names)), dtype=np.float32)
    reasons: list[str | None] = []
    t0 = time.perf_counter()
    for start in range(0, n, chunk_rows):
        part = objects.iloc[start : start + chunk_rows].reset_index(drop=True)
        x, why = ext.extract(part)
        if x.shape != (len(part), len(names)):
            raise AstroanomError(
                f"the extractor returned shape {x.shape}; expected ({len(part)}, {len(names)})"
            )
        x, why = storable(x, list(why), names)
        X[start : start + len(part)] = np.asarray(x, dtype=np.float32)
        reasons += why
        done = start + len(part)
        rate = done / max(time.perf_counter() - t0, 1e-9)
        log.info("features: %d of %d objects (%.0f objects/s)", done, n, rate)
    return X, reasons


def _stage_dir(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))


def _publish(stage: Path, out: Path) -> None:
    """Rename the finished ``stage`` onto ``out`` (an older ``out`` is moved aside first)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old{os.getpid()}")
        os.replace(out, old)
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def score_batch(
    cfg: Mapping[str, Any],
    run_path: str,
    batch: PathLike,
    name: str | None = None,
    out: PathLike | None = None,
    threads: int = 1,
    chunk_rows: int = 100_000,
    top_n: int | None = None,
) -> Path:
    """Score the new objects ``batch`` with the bundle of run ``run_path``; write the scored
    directory (module docstring) and return its path. Nothing is refitted."""
    from astroanom import config as acfg
    from astroanom.bundle import Bundle
    from astroanom.export import export_anomalies
    from astroanom.features import trainable
    from astroanom.pipeline.features import extractor
    from astroanom.pipeline.figures import ranked_step
    from astroanom.store.dataset import DatasetInfo
    from astroanom.store.io import feature_frame
    from astroanom.store.rundir import run_dir

    t_start = time.perf_counter()
    run = acfg.parse_run(cfg, run_path)
    entry = acfg.dataset(cfg, run.name)
    rd = run_dir(cfg, run.path)
    batch = Path(batch)
    if not batch.exists():
        raise FileNotFoundError(f"the batch {batch} does not exist")
    name = name or batch.name.split(".")[0]
    dest = Path(out) if out is not None else Path(rd.scored(name))
    t0 = time.perf_counter()
    bundle = Bundle(rd.bundle)
    bundle.check_usable()
    bundle.prepare()
    features = trainable.with_models(entry["features"], rd.model)
    t_load = time.perf_counter() - t0
    log.info("bundle %s loaded and checked in %.2f s", rd.bundle, t_load)
    stage = _stage_dir(dest)
    try:
        work = stage / "work"
        work.mkdir()
        truth_col = (entry.get("truth") or {}).get("column")
        objects, fails, kind, _ = batch_manifest(entry["source"], batch, work, run.seed, truth_col)
        bundle.check_settings(features, entry["scale"], entry.get("pca"), kind)
        ext = extractor(features, work, threads)
        bundle.check_names(list(ext.names()))
        t0 = time.perf_counter()
        X, reasons = batch_features(objects, ext, chunk_rows)
        t_feat = time.perf_counter() - t0
        ok = np.array([r is None for r in reasons], dtype=bool)
        if not ok.any():
            raise AstroanomError(f"no object of the batch {batch} has features: {reasons[0]}")
        ids = objects["id"].to_numpy()[ok]
        t0 = time.perf_counter()
        Xs = bundle.scale(X[ok])
        sc = bundle.score(ids, Xs, n_jobs=threads)
        t_score = time.perf_counter() - t0
        log.info(
            "scored %d objects in %.2f s (%.0f objects/s)",
            ids.size,
            t_score,
            ids.size / max(t_score, 1e-9),
        )
        t0 = time.perf_counter()
        kept = objects.loc[ok].reset_index(drop=True)
        write_parquet(kept, stage / "objects.parquet")
        write_parquet(feature_frame(ids, X[ok]), stage / "features_raw.parquet")
        write_parquet(feature_frame(ids, Xs), stage / "features.parquet")
        write_parquet(pd.DataFrame({"id": ids, "raw": sc.raw, "S": sc.S}), stage / "scores.parquet")
        active = pd.DataFrame(
            {"id": ids, "S": sc.S, "U": sc.U, "d": sc.d, "score": sc.S_hat, "label": np.nan}
        )
        write_parquet(active, stage / "active.parquet")
        feat_fails = pd.DataFrame(
            {
                "id": objects["id"].to_numpy()[~ok],
                "stage": "features",
                "reason": [r for r in reasons if r is not None],
            }
        )
        all_fails = pd.concat([f for f in (fails, feat_fails) if len(f)] or [fails])
        write_people_csv(all_fails.reindex(columns=FAILURE_COLUMNS), stage / "failures.csv")
        info = dict(bundle.info)
        info["name"] = f"{run.path}/scored/{name}"
        info["description"] = f"{batch} scored with the bundle of {run.path}"
        DatasetInfo(**info).write(stage)
        ranked_step(stage / "objects.parquet", stage / "active.parquet", stage / "ranked.csv")
        export = entry["export"]
        export_anomalies(
            stage,
            [],
            stage / "export",
            threshold=export["threshold"],
            top_n=export["top_n"] if top_n is None else top_n,
            title=f"Anomalies of {batch.name} (scored with {run.path})",
        )
        shutil.rmtree(work)
        t_write = time.perf_counter() - t0
        record = {
            "batch": str(batch),
            "bundle": str(rd.bundle),
            "bundle_version": bundle.manifest["version"],
            "n_objects": len(objects),
            "n_scored": int(ids.size),
            "n_failed": int((~ok).sum()),
            "seconds": {
                "load": t_load,
                "features": t_feat,
                "score": t_score,
                "write": t_write,
                "total": time.perf_counter() - t_start,
            },
        }
        write_text(json.dumps(record, indent=2) + "\n", stage / "batch.json")
        _publish(stage, dest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    log.info("%d objects scored, %d failed: %s", ids.size, (~ok).sum(), dest)
    return dest
