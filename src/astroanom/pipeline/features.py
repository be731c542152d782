"""Steps of ``workflow/rules/features.smk``: source -> manifest, feature shards, gather, scale.

manifest (checkpoint)   the source's object table, its failures, and the truth split off
values                  the values a source supplies itself (the simulation's curves)
shard k                 features of manifest rows [k * size, (k + 1) * size)
one shard               values and the single shard made inside the gather's own process
                        (a run whose one shard no other run reads: jobs of their own would
                        cost more to start than the work)
gather                  features_raw.parquet, objects.parquet, truth.parquet, failures.csv,
                        summary.json, dataset.json (row for row: only objects with features)
scale                   features.parquet as the detector sees it (standardised or as is)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom import kinds, plugins
from astroanom.errors import ConfigError
from astroanom.store import dataset as ds
from astroanom.store.io import (
    feature_frame,
    link_or_copy,
    symlink_or_copy,
    write_csv,
    write_parquet,
    write_people_csv,
    write_text,
)
from astroanom.store.rundir import FAILURE_COLUMNS, n_shards  # noqa: F401

log = logging.getLogger("astroanom.features")
PathLike = str | os.PathLike[str]


def split_truth(
    manifest: pd.DataFrame, truth_columns: Sequence[str] | str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(objects without truth columns, id + truth columns). ``"*"`` = every column but id and
    file paths."""
    if truth_columns == "*":
        cols = [c for c in manifest.columns if c != "id" and not str(c).endswith("_path")]
    else:
        cols = [c for c in dict.fromkeys(truth_columns) if c in manifest.columns]
    return manifest.drop(columns=cols), manifest[["id", *cols]]


def manifest_step(
    source: Mapping[str, Any],
    workdir: PathLike,
    seed: int,
    manifest_out: PathLike,
    source_truth_out: PathLike,
    failures_out: PathLike,
    info_out: PathLike,
    threads: int = 1,
    truth: Mapping[str, Any] | None = None,
) -> None:
    """Ask the configured source for its objects; write the public manifest, the source's
    truth columns (possibly none; with a ``truth`` spec read from the source, its column too)
    and the source's failures."""
    params = {k: v for k, v in source.items() if k != "kind"}
    src = plugins.build("source", source["kind"], params, n_jobs=threads)
    t0 = time.perf_counter()
    man, fails = src.manifest(Path(workdir), seed)
    if "id" not in man.columns:
        raise ValueError(f"source {source['kind']!r} returned no id column")
    dup = man["id"].duplicated()
    if dup.any():
        raise ValueError(
            f"source {source['kind']!r}: id {man.loc[dup, 'id'].iloc[0]!r} appears more than "
            f"once ({int(dup.sum())} repeats); ids must be unique"
        )
    hidden = getattr(src, "truth_columns", ())
    if truth is not None and not truth.get("table") and hidden != "*":
        hidden = (*hidden, truth["column"])
        if truth["column"] not in man.columns:
            raise ConfigError(_no_truth_column(src, source, truth["column"], man))
    objects, truth_table = split_truth(man, hidden)
    write_parquet(objects.reset_index(drop=True), manifest_out)
    write_parquet(truth_table.reset_index(drop=True), source_truth_out)
    write_csv(fails.reindex(columns=FAILURE_COLUMNS), failures_out)
    info = getattr(src, "describe", lambda: {})()
    # a seeded subsample may miss rare classes: named-but-absent labels then only warn
    info["subsample"] = any(source.get(k) is not None for k in ("n_max", "n_objects"))
    info["kind"] = object_kind(src, source["kind"], objects.columns)
    if getattr(src, "feature_columns", None):  # a table's resolved feature columns
        info["feature_columns"] = list(src.feature_columns)
    if getattr(src, "report", None) is not None:  # e.g. the missing-value policy's counts
        info["report"] = src.report
    write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n", info_out)
    log.info(
        "source %s: %d objects, %d problems recorded, in %.1f s",
        source["kind"],
        len(man),
        len(fails),
        time.perf_counter() - t0,
    )


def values_step(
    source: Mapping[str, Any], seed: int, values_out: PathLike, threads: int = 1
) -> None:
    """Write the values a source supplies itself (``features.kind: values``; the simulation's
    curves) to ``values_out``: a table of id + f000.. with the manifest's rows."""
    params = {k: v for k, v in source.items() if k != "kind"}
    src = plugins.build("source", source["kind"], params, n_jobs=threads)
    write = getattr(src, "write_values", None)
    if not callable(write):
        raise ConfigError(
            f"the source {source['kind']!r} supplies no values of its own, so features.kind "
            "'values' cannot read any; choose a feature extractor for its objects "
            "(docs/data_kinds.md lists them)"
        )
    t0 = time.perf_counter()
    write(values_out, seed)
    log.info("source %s: values written in %.1f s", source["kind"], time.perf_counter() - t0)


def _no_truth_column(src: Any, source: Mapping[str, Any], col: str, man: pd.DataFrame) -> str:
    """The message for a ``truth.column`` the source does not provide: what it provides, the
    file's columns (table sources) and what to change."""
    have = ", ".join(map(str, man.columns[:20]))
    msg = f"truth.column {col!r} is not a column the source {source['kind']!r} gives (it gives: {have})"
    file_columns = getattr(src, "file_columns", None)
    if callable(file_columns):
        try:
            cols = [str(c) for c in file_columns()]
        except (OSError, ValueError, ConfigError):
            cols = []
        if col in cols:
            return f"{msg}; {src.path} has it: add {col!r} to source.keep"
        if cols:
            msg += f"; {src.path} has the columns {', '.join(cols[:40])}"
    return f"{msg}; set truth.column to one of them (table sources: listed in source.keep), or give truth.table"


def object_kind(src: Any, name: str, columns: Sequence[str]) -> str:
    """The kind of the objects source ``name`` makes, as its class declares it
    (``object_kind``), checked against its manifest's columns; a plug-in source declaring none
    gets :data:`astroanom.kinds.FALLBACK` (its objects are shown as rows of their features)."""
    kind = kinds.kind_of_source(src)
    if kind is None:
        log.warning(
            "source %s declares no object_kind (one of %s); its objects are shown as %s",
            name,
            ", ".join(kinds.names()),
            kinds.get(kinds.FALLBACK).plural,
        )
        kind = kinds.FALLBACK
    kinds.get(kind).check_manifest(list(columns), name)
    return kind


def extractor(features: Mapping[str, Any], workdir: PathLike, threads: int = 1) -> Any:
    """The configured feature extractor (``features.kind`` + its parameters)."""
    params = {k: v for k, v in features.items() if k not in ("kind", "shard_size")}
    return plugins.build("extractor", features["kind"], params, workdir=workdir, n_jobs=threads)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def storable(
    X: np.ndarray, reasons: list[str | None], names: Sequence[str]
) -> tuple[np.ndarray, list[str | None]]:
    """Make every row the detector cannot use a failure row: a value that is NaN or inf, or
    finite but beyond float32 (|x| > 3.4e38, e.g. 1e308 in a table; the feature matrix is
    float32), in a row the extractor did not fail. Returns X (those rows NaN) and the reasons,
    each naming the features and the first value."""
    ok = np.array([r is None for r in reasons], dtype=bool)
    if not ok.any():
        return X, reasons
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(X) | (np.abs(X) > FLOAT32_MAX)
    rows = np.flatnonzero(ok & bad.any(axis=1))
    if rows.size == 0:
        return X, reasons
    X = np.array(X, copy=True)
    for i in rows:
        cols = np.flatnonzero(bad[i])
        shown = ", ".join(str(names[j]) if j < len(names) else f"f{j:03d}" for j in cols[:5])
        first = float(X[i, cols[0]])
        what = (
            "is beyond the float32 range (|x| > 3.4e38)" if np.isfinite(first) else "is not finite"
        )
        reasons[i] = (
            f"feature value {first:g} {what} in {shown}; rescale the input (e.g. log10 in "
            "source.derived) or mark such values as missing"
        )
        X[i] = np.nan
    log.warning("%d object(s) have unusable feature values: failure rows", rows.size)
    return X, reasons


def shard_step(
    manifest: PathLike,
    shard: int,
    features: Mapping[str, Any],
    workdir: PathLike,
    out: PathLike,
    threads: int = 1,
) -> None:
    """Features of one shard of the manifest: Parquet with id, reason (null if ok) and
    f000.. (NaN where it failed)."""
    size = int(features["shard_size"])
    man = pd.read_parquet(manifest)
    part = man.iloc[shard * size : (shard + 1) * size].reset_index(drop=True)
    ext = extractor(features, workdir, threads)
    t0 = time.perf_counter()
    X, reasons = ext.extract(part)
    if X.shape != (len(part), len(ext.names())):
        raise ValueError(
            f"extractor {features['kind']!r} returned shape {X.shape}; expected "
            f"({len(part)}, {len(ext.names())})"
        )
    X, reasons = storable(X, list(reasons), ext.names())
    frame = feature_frame(part["id"].to_numpy(), X)
    frame.insert(1, "reason", pd.Series(reasons, dtype="object"))
    write_parquet(frame, out)
    dt = time.perf_counter() - t0
    log.info(
        "shard %d: %d objects, %d failed, %.2f ms/object",
        shard,
        len(part),
        sum(r is not None for r in reasons),
        1e3 * dt / max(len(part), 1),
    )


@contextmanager
def shards_to_gather(
    shards: Sequence[PathLike],
    manifest: PathLike,
    features: Mapping[str, Any],
    workdir: PathLike,
    source: Mapping[str, Any],
    seed: int,
    scratch_in: PathLike,
    threads: int = 1,
) -> Iterator[tuple[list[str], str]]:
    """``(shards, workdir)`` for :func:`gather_step`: the given shards and ``workdir``, or, given
    none, the run's one shard made in this process (a run whose one shard no other run reads).
    For ``features.kind: values`` the source's own values are then written first
    (:func:`values_step`) and ``workdir`` is a scratch directory holding them (the gathered table
    may be a hard link to them, which outlives it). What this process makes is in a scratch
    directory inside ``scratch_in`` (the run's directory), removed on exit, also on failure: no
    file another step declares is left."""
    if shards:
        yield [os.fspath(s) for s in shards], os.fspath(workdir)
        return
    scratch = tempfile.mkdtemp(prefix=".one-shard-", dir=scratch_in)
    try:
        if features["kind"] == "values":
            from astroanom.sources.simulation import values_path

            workdir = scratch
            values = Path(values_path(scratch))
            values.parent.mkdir(parents=True, exist_ok=True)
            values_step(source, seed, values, threads)
        shard = os.path.join(scratch, "shard0.parquet")
        shard_step(manifest, 0, features, workdir, shard, threads)
        yield [shard], os.fspath(workdir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _link_if_same(table: pd.DataFrame, other: PathLike | None, out: PathLike) -> bool:
    """Make ``out`` a symbolic link to the Parquet file ``other`` if it holds exactly ``table``
    (same columns, rows, order and dtypes); True if linked. (A symbolic link, not a hard one:
    Snakemake touches every output, and a hard link would touch ``other`` too.)"""
    if other is None or not os.path.isfile(other):
        return False
    if not pd.read_parquet(other).equals(table.reset_index(drop=True)):
        return False
    symlink_or_copy(other, out)
    log.info("%s: the same table as %s, written as a link to it", out, other)
    return True


def gather_step(
    shards: Sequence[PathLike],
    manifest: PathLike,
    source_truth: PathLike,
    source_failures: PathLike,
    features: Mapping[str, Any],
    truth: Mapping[str, Any] | None,
    workdir: PathLike,
    info_in: PathLike,
    name: str,
    seed: int,
    features_out: PathLike,
    objects_out: PathLike,
    truth_out: PathLike,
    failures_out: PathLike,
    summary_out: PathLike,
    oracle: Mapping[str, Any] | None = None,
    same_as: PathLike | None = None,
) -> None:
    """Join the shards in manifest order: features and objects of the successes (row for row),
    truth aligned with them, every failure (id, stage, reason) and a summary with the counts.
    Class labels named in the truth spec or the simulated ``oracle``'s relevance map that no
    object has stop the run (:func:`astroanom.sources.truth.check_label_names`).
    ``same_as``: the first seed's features_raw.parquet of a dataset whose features do not
    depend on the seed; features equal to it are written as a symbolic link to it."""
    from astroanom.sources.truth import build_truth, check_label_names

    parts = [pd.read_parquet(p) for p in shards]
    feats = pd.concat(parts, ignore_index=True)
    man = pd.read_parquet(manifest)
    if not np.array_equal(feats["id"].astype(str).to_numpy(), man["id"].astype(str).to_numpy()):
        raise ValueError("feature shards do not cover the manifest row for row; re-run them")
    ok = feats["reason"].isna().to_numpy()
    fails = [
        pd.read_csv(source_failures, dtype={"id": str}, keep_default_na=False),
        pd.DataFrame(
            {"id": feats.loc[~ok, "id"], "stage": "features", "reason": feats.loc[~ok, "reason"]}
        ),
    ]
    kept = feats.loc[ok].drop(columns="reason").reset_index(drop=True)
    n_truth_known = None
    if truth is not None:
        table, tfails = build_truth(
            kept["id"].to_numpy(), truth, pd.read_parquet(source_truth), man["id"].to_numpy()
        )
        fails.append(tfails)
        n_truth_known = int(table["known"].sum())
        subsample = bool(json.loads(Path(info_in).read_text(encoding="utf-8")).get("subsample"))
        check_label_names(table, truth, oracle, subsample)
    else:  # no truth: every value unknown (metrics are not made; the labeller shows nothing)
        n = len(kept)
        table = pd.DataFrame(
            {
                "id": kept["id"],
                "value": np.nan,
                "known": np.zeros(n, bool),
                "is_anomaly": np.zeros(n, bool),
            }
        )
    ext = extractor(features, workdir)
    tables = join_reports(ext, man["id"].to_numpy())
    # every check done: write (a bad truth table above leaves no output behind). Features equal
    # to the source's own values file (the simulation's curves) are a hard link to it, not a
    # second copy (that file is no rule's declared output, so no timestamp check sees it);
    # with every object kept, objects.parquet is the manifest: a symbolic link to it (Snakemake
    # touches the link, never the manifest, so the shards stay newer than their input).
    same = getattr(ext, "same_file", None)
    values_file = same(kept) if callable(same) else None
    if values_file is not None:
        link_or_copy(values_file, features_out)
    elif not _link_if_same(kept, same_as, features_out):
        write_parquet(kept, features_out)
    if ok.all():
        symlink_or_copy(manifest, objects_out)
    else:
        write_parquet(man.loc[ok].reset_index(drop=True), objects_out)
    write_parquet(table, truth_out)
    all_fails = pd.concat([f for f in fails if len(f)] or [fails[0]], ignore_index=True)
    write_people_csv(all_fails.reindex(columns=FAILURE_COLUMNS), failures_out)
    reasons = Counter(str(r).split(" (")[0] for r in feats.loc[~ok, "reason"])
    summary = {
        "n_objects": len(man),
        "n_features_ok": int(ok.sum()),
        "n_failed": int((~ok).sum()),
        "failure_rate": float((~ok).mean()) if len(man) else 0.0,
        "n_failures_recorded": len(all_fails),
        "n_truth_known": n_truth_known,
        "failure_reasons": dict(reasons.most_common()),
    }
    if tables:
        summary["feature_tables"] = tables
    write_text(json.dumps(summary, indent=2) + "\n", summary_out)
    info = json.loads(Path(info_in).read_text(encoding="utf-8"))
    extra = {
        **info.get("extra", {}),
        "feature_names": list(ext.names()),
        "features": features["kind"],
    }
    if tables:
        extra["feature_tables"] = tables
    if info.get("feature_columns"):  # a table source's own columns: how its rows are shown
        extra["source_columns"] = list(info["feature_columns"])
    if getattr(ext, "choices", None):  # what the extractor took from the data (e.g. the bands)
        extra["feature_choices"] = dict(ext.choices)
    ds.DatasetInfo(
        name=name,
        kind=info["kind"],
        description=info.get("description", ""),
        seed=seed,
        x_label=info.get("x_label", "x"),
        y_label=info.get("y_label", "y"),
        extra=extra,
    ).write(Path(features_out).parent)
    log.info(
        "%s: %d objects with features, %d failed (%.2f %%); %d problems in failures.csv",
        name,
        summary["n_features_ok"],
        summary["n_failed"],
        100 * summary["failure_rate"],
        len(all_fails),
    )


def join_reports(ext: Any, ids: np.ndarray) -> list[dict[str, Any]]:
    """How the tables an extractor joins by id (``embeddings``, also inside ``combine``) match
    the manifest's ``ids``, counted once over the whole manifest (each shard sees only its
    rows); rows matching no object are logged as a warning."""
    hook = getattr(ext, "join_reports", None)
    if not callable(hook):
        return []
    from astroanom.features.embeddings import unmatched_sentence

    reports = list(hook(ids))
    for r in reports:
        if r["n_unmatched"]:
            log.warning("%s", unmatched_sentence(r))
    return reports


def scale_step(
    features_in: PathLike,
    features_out: PathLike,
    params_json: PathLike,
    method: str,
    pca: Mapping[str, Any] | None = None,
    seed: int = 0,
    same_as: PathLike | None = None,
    hard_link: bool = False,
) -> None:
    """``standard``: zero mean, unit variance per feature (constant ones centred only);
    ``none``: the features as extracted; then, with ``pca``, the first principal components
    (``n_components``: a count, or a fraction of the variance). Writes the table and what was
    done (per-feature mean and scale, the PCA's explained variance). ``same_as``: the first
    seed's features.parquet (features that do not depend on the seed); a table equal to it is
    written as a symbolic link to it. Unscaled features are a symbolic link to ``features_in``,
    or with ``hard_link`` a hard one (for temp() files: the features then outlive the deletion
    of ``features_in``)."""
    from astroanom.features.scaling import standardise
    from astroanom.store.io import feature_columns, read_features

    df, X = read_features(features_in)
    cols = feature_columns(df)
    if method == "none" and pca is None and list(df.columns) == ["id", *cols]:
        # the same table: features.parquet is a symbolic link to features_raw.parquet (a
        # link's own time is what Snakemake touches, so the input's timestamp is left alone);
        # a hard link where both are temp() (features_raw is deleted first)
        (link_or_copy if hard_link else symlink_or_copy)(features_in, features_out)
        write_text(json.dumps({"method": "none", "columns": cols}, indent=2) + "\n", params_json)
        log.info(
            "no scaling of %d x %d features: %s links to %s", *X.shape, features_out, features_in
        )
        return
    if method == "none":
        out = df[["id", *cols]]
        params: dict[str, Any] = {"method": "none", "columns": cols}
    else:
        ids = df["id"].to_numpy()
        del df  # the float32 values are held in X; free the table's copy
        Xs, scaler = standardise(X)
        out = pd.DataFrame({"id": ids, **{c: Xs[:, j] for j, c in enumerate(cols)}})
        del Xs
        params = {
            "method": method,
            "columns": cols,
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
        }
    if pca is not None:
        from astroanom.features.pca import reduce
        from astroanom.store.io import feature_frame

        k = pca["n_components"]
        k = int(k) if float(k) >= 1 else float(k)
        Z, report = reduce(out[cols].to_numpy(dtype=np.float64), k, seed=seed)
        out = feature_frame(out["id"].to_numpy(), Z)
        params["pca"] = report.to_dict()
        log.info("PCA: %d components keep %.3f of the variance", Z.shape[1], report.kept_fraction)
    if not _link_if_same(out, same_as, features_out):
        write_parquet(out, features_out)
    write_text(json.dumps(params, indent=2, default=float) + "\n", params_json)
    log.info("%s scaling of %d x %d features", method, *X.shape)


def fit_step(
    manifest: PathLike,
    part: Mapping[str, Any],
    workdir: PathLike,
    seed: int,
    model_out: PathLike,
    info_out: PathLike,
    threads: int = 1,
) -> None:
    """Train one trainable extractor (``part``: its config entry; docs/architecture.md,
    "Trainable extractors") on every object of the manifest; write its model and the JSON
    record of the training (plus the part's parameters)."""
    from astroanom.features.trainable import FRAMEWORK_KEYS

    params = {k: v for k, v in part.items() if k not in FRAMEWORK_KEYS}
    ext = plugins.build("extractor", part["kind"], params, workdir=workdir, n_jobs=threads)
    objects = pd.read_parquet(manifest)
    t0 = time.perf_counter()
    record = ext.fit(objects, str(model_out), seed=seed, n_jobs=threads)
    record = {"kind": part["kind"], "params": params, **record}
    record["total_seconds"] = time.perf_counter() - t0
    write_text(json.dumps(record, indent=2, default=str) + "\n", info_out)
    log.info("trained %s in %.1f s", part["kind"], record["total_seconds"])
