"""Workflow steps of the galaxy image chain (paper section 5): plain functions from paths to
paths, called by the thin scripts in ``workflow/scripts/galaxies_*.py``.

synthetic images -> manifest (id, image_path, odd_fraction, ...) -> feature shards -> gather
(features_raw.parquet, objects.parquet, failures.csv, summary.json) -> scale -> the generic
detect / active_learning rules -> evaluation tables -> figures.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom import dataset as ds
from astroanom.data.folder import FAILURE_COLUMNS
from astroanom.data.imageio import ImageReadError, load_image
from astroanom.features.ellipse import feature_names, image_features
from astroanom.io import feature_frame, write_csv, write_parquet, write_text
from astroanom.metrics import rws_curve

log = logging.getLogger("astroanom.galaxy_steps")
PathLike = str | os.PathLike[str]


def synthetic_step(
    images_dir: PathLike, catalogue: PathLike, cfg: Mapping[str, Any], seed: int, workers: int = 1
) -> None:
    """Generate the synthetic galaxy set: images in ``images_dir`` and its catalogue (Parquet)."""
    from astroanom.data.galaxies import SyntheticGalaxyConfig, generate

    gcfg = SyntheticGalaxyConfig.from_mapping(cfg)
    t0 = time.perf_counter()
    cat = generate(images_dir, gcfg, seed=seed, workers=workers)
    write_parquet(cat, catalogue)
    log.info(
        "%d synthetic images (%d anomalies of kind != normal, %d with odd > 0.9) in %.1f s",
        len(cat),
        int((cat["kind"] != "normal").sum()),
        int(cat["is_anomaly"].sum()),
        time.perf_counter() - t0,
    )


def write_manifest(
    manifest: pd.DataFrame, failures: pd.DataFrame, manifest_out: PathLike, failures_out: PathLike
) -> None:
    """Write the manifest (Parquet) and the labelling failures (CSV id, stage, reason)."""
    if manifest["id"].duplicated().any():
        dup = manifest.loc[manifest["id"].duplicated(), "id"].iloc[0]
        raise ValueError(f"duplicate object id {dup!r} in the manifest")
    write_parquet(manifest.reset_index(drop=True), manifest_out)
    write_csv(failures.reindex(columns=FAILURE_COLUMNS), failures_out)
    log.info("manifest: %d images; %d label problems recorded", len(manifest), len(failures))


def manifest_step(
    source: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    manifest_out: PathLike,
    failures_out: PathLike,
    seed: int,
    threshold: float = 0.9,
) -> None:
    """Build the image manifest of a source (synthetic, galaxy_zoo, kaggle, folder)."""
    from astroanom.data import folder as fo
    from astroanom.data import galaxy_zoo as gz

    if source == "synthetic":
        man = pd.read_parquet(inputs["catalogue"])
        fails = pd.DataFrame(columns=FAILURE_COLUMNS)
    elif source == "galaxy_zoo":
        man, fails = gz.gz2_manifest(
            inputs["images"],
            inputs["mapping"],
            inputs["labels"],
            params.get("fraction_column", gz.HART16_ODD),
            params.get("n_objects"),
            seed,
            threshold,
        )
    elif source == "kaggle":
        man, fails = gz.kaggle_manifest(
            inputs["images"], inputs["solutions"], params.get("n_objects"), seed, threshold
        )
    elif source == "folder":
        man, fails = fo.folder_manifest(
            params["path"],
            params.get("labels"),
            params.get("id_column", "id"),
            params.get("fraction_column"),
            threshold,
        )
        man = fo.subsample(man, params.get("n_objects"), seed)
    else:
        raise ValueError(f"unknown galaxy source {source!r}")
    write_manifest(man, fails, manifest_out, failures_out)


def n_shards(n_objects: int, shard_size: int) -> int:
    """Number of shards of at most ``shard_size`` objects (at least 1)."""
    return max(1, math.ceil(n_objects / shard_size))


def extract_features(
    paths: Sequence[str],
    ids: Sequence[str],
    n_sigma: float = 3.0,
    channel: int = 0,
    preset: str = "paper",
) -> tuple[np.ndarray, list[str | None]]:
    """Features (n, 21) float64, or (n, 30) for ``preset="astronomaly"`` (NaN rows for
    failures) and a reason per image (None if ok). Only one image is in memory at a time."""
    X = np.full((len(paths), len(feature_names(preset))), np.nan)
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


def features_shard_step(
    manifest: PathLike,
    shard: int,
    shard_size: int,
    out: PathLike,
    n_sigma: float = 3.0,
    channel: int = 0,
    preset: str = "paper",
) -> None:
    """Features of rows [shard * shard_size, (shard + 1) * shard_size) of the manifest: Parquet
    with id, reason (null if ok) and f000..f020 (f029 for the astronomaly preset; NaN where
    failed)."""
    man = pd.read_parquet(manifest, columns=["id", "image_path"])
    part = man.iloc[shard * shard_size : (shard + 1) * shard_size]
    t0 = time.perf_counter()
    X, reasons = extract_features(
        part["image_path"].tolist(), part["id"].tolist(), n_sigma, channel, preset
    )
    frame = feature_frame(part["id"].to_numpy(), X)
    frame.insert(1, "reason", pd.Series(reasons, dtype="object"))
    write_parquet(frame, out)
    n_fail = sum(r is not None for r in reasons)
    dt = time.perf_counter() - t0
    log.info(
        "shard %d: %d images, %d failed, %.2f ms/image",
        shard,
        len(part),
        n_fail,
        1e3 * dt / max(len(part), 1),
    )


def gather_step(
    shards: Sequence[PathLike],
    manifest: PathLike,
    label_failures: PathLike,
    features_out: PathLike,
    objects_out: PathLike,
    failures_out: PathLike,
    summary_out: PathLike,
    info_dir: PathLike,
    name: str,
    seed: int,
    source: str,
    preset: str = "paper",
) -> None:
    """Join the shards in manifest order: unscaled features and objects of the successes
    (row for row), all failures with id, stage and reason, and a summary with the counts."""
    parts = [pd.read_parquet(p) for p in shards]
    feats = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["id", "reason"])
    man = pd.read_parquet(manifest)
    if not np.array_equal(feats["id"].to_numpy(), man["id"].to_numpy()):
        raise ValueError(
            "feature shards do not cover the manifest row for row; re-run the shard rules"
        )
    ok = feats["reason"].isna().to_numpy()
    fails = pd.concat(
        [
            pd.read_csv(label_failures, dtype={"id": str}),
            pd.DataFrame(
                {
                    "id": feats.loc[~ok, "id"],
                    "stage": "features",
                    "reason": feats.loc[~ok, "reason"],
                }
            ),
        ],
        ignore_index=True,
    )
    write_parquet(feats.loc[ok].drop(columns="reason").reset_index(drop=True), features_out)
    write_parquet(man.loc[ok].reset_index(drop=True), objects_out)
    write_csv(fails.reindex(columns=FAILURE_COLUMNS), failures_out)
    reasons = Counter(str(r).split(" (")[0] for r in feats.loc[~ok, "reason"])
    summary = {
        "n_images": len(man),
        "n_features_ok": int(ok.sum()),
        "n_failed": int((~ok).sum()),
        "failure_rate": float((~ok).mean()) if len(man) else 0.0,
        "n_label_problems": int((fails["stage"] == "labels").sum()),
        "n_anomalies_kept": int(man.loc[ok, "is_anomaly"].sum()) if "is_anomaly" in man else None,
        "failure_reasons": dict(reasons.most_common()),
    }
    write_text(json.dumps(summary, indent=2) + "\n", summary_out)
    ds.DatasetInfo(
        name=name,
        kind="image",
        seed=seed,
        description=(
            f"galaxy images ({source}): {len(feature_names(preset))} ellipse-fitting features "
            + ("(paper Appendix B)" if preset == "paper" else "(Astronomaly's code)")
        ),
        extra={"feature_names": list(feature_names(preset)), "source": source, "preset": preset},
    ).write(info_dir)
    log.info(
        "gathered %d shards: %d ok, %d failed (%.2f %%)",
        len(parts),
        summary["n_features_ok"],
        summary["n_failed"],
        100 * summary["failure_rate"],
    )


def evaluate_step(
    objects: PathLike,
    active: PathLike,
    rounds: PathLike,
    curves_out: PathLike,
    first_n_out: PathLike,
    seed: int,
    max_n: int = 1000,
    first_n: Sequence[int] = (100, 200),
) -> None:
    """Recall and RWS against rank N for random order, isolation forest (S) and active learning
    (S^ after one retrain, and after the incremental loop), and anomalies in the first N three
    ways (:mod:`astroanom.viewing`): ``found_ranked`` (the paper's way: the full ranking),
    ``found_viewed`` (labelled objects in the order shown, then the rest by score) and
    ``found_unlabelled`` (among objects not labelled; for random, isolation forest and the
    single retrain the pool is the same: all but the single retrain's labels). The curves are
    the full rankings (the paper's Fig. 5) plus ``method = <name>_viewed`` for the viewed
    order of the two learning methods."""
    from astroanom.viewing import experiment_orders, first_n_table

    obj = pd.read_parquet(objects)
    act = pd.read_parquet(active)
    rnd = pd.read_parquet(rounds)
    if not np.array_equal(obj["id"].to_numpy(), act["id"].to_numpy()):
        raise ValueError("objects and active tables do not match row for row")
    is_anom = obj["is_anomaly"].to_numpy(dtype=bool)
    n = len(obj)
    methods, viewed = experiment_orders(
        act["S"].to_numpy(),
        act["score"].to_numpy(),
        act["label"].notna().to_numpy(),
        rnd,
        seed,
    )
    orders = {name: m[0] for name, m in methods.items()}
    ns = np.arange(1, min(max_n, n) + 1)
    curves = []
    for method, order in {**orders, **viewed}.items():
        hits = is_anom[order]
        curves.append(
            pd.DataFrame(
                {
                    "method": method,
                    "N": ns,
                    "recall": np.cumsum(hits)[: ns.size],
                    "rws": rws_curve(hits, ns),
                }
            )
        )
    write_parquet(pd.concat(curves, ignore_index=True), curves_out)
    table = first_n_table(is_anom, methods, first_n)
    write_csv(table, first_n_out)
    head = table[table.first_n == first_n[0]].set_index("method")
    log.info(
        "anomalies in first %d (ranked / viewed / unlabelled-only): %s",
        first_n[0],
        {m: (r.found_ranked, r.found_viewed, r.found_unlabelled) for m, r in head.iterrows()},
    )


def timing_table_step(
    bench: Mapping[str, Sequence[PathLike]], notes: Mapping[str, str], out: PathLike
) -> None:
    """Table C.2-like timing from Snakemake benchmark TSVs: task -> summed wall time (s) and
    summed CPU time (s) over the given files (e.g. all feature shards)."""
    rows = []
    for task, files in bench.items():
        tabs = [pd.read_csv(f, sep="\t") for f in files]
        rows.append(
            {
                "task": task,
                "notes": notes.get(task, ""),
                "jobs": len(tabs),
                "wall_s": float(sum(t["s"].iloc[0] for t in tabs)),
                "cpu_s": float(
                    sum(
                        pd.to_numeric(t["cpu_time"], errors="coerce").fillna(0).iloc[0]
                        for t in tabs
                        if "cpu_time" in t
                    )
                ),
                "max_rss_mb": float(
                    max(
                        (
                            pd.to_numeric(t["max_rss"], errors="coerce").iloc[0]
                            for t in tabs
                            if "max_rss" in t
                        ),
                        default=float("nan"),
                    )
                ),
            }
        )
    write_csv(pd.DataFrame(rows), out)


def shard_paths(directory: PathLike, count: int) -> list[str]:
    return [str(Path(directory) / f"shard{k:05d}.parquet") for k in range(count)]
