"""What keeps results/ of the default run small without losing a value: Parquet encodings,
no second copy of a table (links), the fitted detector kept only where a bundle is built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from astroanom.pipeline.features import (
    gather_step,
    manifest_step,
    scale_step,
    shard_step,
    values_step,
)
from astroanom.store.io import (
    feature_frame,
    link_or_copy,
    parquet_options,
    read_features,
    symlink_or_copy,
    write_parquet,
)

ROOT = Path(__file__).resolve().parents[1]


def _encodings(path: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """column -> (compression, encodings) of the first row group."""
    rg = pq.ParquetFile(path).metadata.row_group(0)
    return {
        rg.column(j).path_in_schema: (rg.column(j).compression, rg.column(j).encodings)
        for j in range(rg.num_columns)
    }


def test_float_columns_of_distinct_values_are_byte_stream_split_others_keep_a_dictionary():
    n = 1000
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "x": np.linspace(0.0, 1.0, n),  # 1000 distinct of 1000: no dictionary
            "u": np.tile([0.0, 2.5, 5.0, np.nan], n // 4),  # 4 distinct <= 50 %: a dictionary
            "name": [f"o{i % 7}" for i in range(n)],
        }
    )
    opts = parquet_options(df)
    assert opts["compression"] == "zstd"
    assert opts["column_encoding"] == {"x": "BYTE_STREAM_SPLIT"}
    assert opts["use_dictionary"] == ["id", "u", "name"]
    at_share = pd.DataFrame({"v": np.repeat(np.arange(500.0), 2)})  # 500 of 1000 = 50 %: kept
    assert parquet_options(at_share)["column_encoding"] == {}
    above = pd.DataFrame({"v": np.r_[np.arange(501.0), np.zeros(499)]})  # 501 distinct
    assert parquet_options(above)["column_encoding"] == {"v": "BYTE_STREAM_SPLIT"}


def test_parquet_round_trip_is_exact_and_a_third_smaller_than_snappy(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(0.0, 0.1, size=(20000, 20)).astype(np.float32)  # noisy curves: incompressible
    X[5, 3] = np.nan
    frame = feature_frame(np.arange(20000), X)
    write_parquet(frame, tmp_path / "new.parquet")
    frame.to_parquet(tmp_path / "old.parquet", index=False)  # pyarrow's default: snappy + dict
    back = pd.read_parquet(tmp_path / "new.parquet")
    pd.testing.assert_frame_equal(back, frame)  # dtypes, ids, every bit (NaN included)
    enc = _encodings(tmp_path / "new.parquet")
    assert enc["f000"][0] == "ZSTD" and "BYTE_STREAM_SPLIT" in enc["f000"][1]
    new, old = (os.path.getsize(tmp_path / f) for f in ("new.parquet", "old.parquet"))
    # raw 20000 x 20 x 4 B = 1.6 MB; a dictionary of unique floats makes snappy's ~1.5x that
    assert new < 0.7 * old and new < 1.6e6


def test_link_is_one_file_on_disk_and_a_rewrite_of_either_name_leaves_the_other(tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "sub" / "b.parquet"
    write_parquet(pd.DataFrame({"id": [1, 2], "f000": [1.5, 2.5]}), a)
    assert link_or_copy(a, b)
    assert os.stat(a).st_ino == os.stat(b).st_ino and a.read_bytes() == b.read_bytes()
    assert link_or_copy(a, b)  # linking again onto the same file: no leftover temporary file
    assert sorted(p.name for p in b.parent.iterdir()) == ["b.parquet"]
    write_parquet(pd.DataFrame({"id": [9], "f000": [0.0]}), b)  # atomic rename: a new file
    assert pd.read_parquet(a)["id"].tolist() == [1, 2]
    assert pd.read_parquet(b)["id"].tolist() == [9]


def test_symlink_is_relative_and_touching_it_keeps_the_target_time(tmp_path):
    a, b = tmp_path / "features_raw.parquet", tmp_path / "features.parquet"
    write_parquet(pd.DataFrame({"id": [1], "f000": [1.0]}), a)
    os.utime(a, (1_000_000, 1_000_000))
    assert symlink_or_copy(a, b)
    assert os.readlink(b) == "features_raw.parquet"
    os.utime(b, None, follow_symlinks=False)  # what Snakemake does to a symlinked output
    assert os.stat(a).st_mtime == 1_000_000


def _features_chain(tmp: Path) -> Path:
    """The simulation's features steps (manifest, one shard, gather) on 60 tiny curves."""
    classes = {
        0: {"form": "sine", "params": {"omega": [5, 2]}},
        1: {"form": "step", "params": {"h": [1.0, 0.3], "x0": [0.5, 0.2]}},
    }
    source = {"kind": "simulation", "preset": "t", "classes": classes, "counts": {0: 50, 1: 10}}
    source.update(n_x=8, noise_sd=0.1)
    src = {n: tmp / "source" / n for n in ("truth.parquet", "failures.csv", "info.json")}
    manifest_step(source, tmp, 1, tmp / "manifest.parquet", *src.values())
    values_step(source, 1, tmp / "source" / "values.parquet")
    features = {"kind": "values", "shard_size": 1000}
    shard = tmp / "shards" / "shard00000.parquet"
    shard_step(tmp / "manifest.parquet", 0, features, tmp, shard)
    outs = [tmp / n for n in ("features_raw.parquet", "objects.parquet", "truth.parquet")]
    outs += [tmp / "failures.csv", tmp / "summary.json"]
    gather_step(
        [shard], tmp / "manifest.parquet", src["truth.parquet"], src["failures.csv"], features,
        None, tmp, src["info.json"], "sim", 1, *outs,
    )  # fmt: skip
    return tmp


def test_simulated_curves_are_stored_once_values_features_raw_and_features(tmp_path):
    run = _features_chain(tmp_path)
    values, raw = run / "source" / "values.parquet", run / "features_raw.parquet"
    assert os.stat(values).st_ino == os.stat(raw).st_ino  # the curves, once on disk
    df, X = read_features(raw)
    assert X.shape == (60, 8) and df["id"].tolist() == list(range(60))
    shard = pd.read_parquet(run / "shards" / "shard00000.parquet")
    np.testing.assert_array_equal(X, shard.filter(like="f0").to_numpy(np.float32))
    scale_step(raw, run / "features.parquet", run / "scaler.json", "none")
    assert os.path.islink(run / "features.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(run / "features.parquet"), df)
    cols = [f"f{j:03d}" for j in range(8)]
    assert json.loads((run / "scaler.json").read_text()) == {"method": "none", "columns": cols}
    scale_step(raw, run / "std.parquet", run / "std.json", "standard")  # scaled: its own file
    assert not os.path.islink(run / "std.parquet")


def test_one_shard_in_the_gathers_process_gives_the_same_features(tmp_path):
    """shards_to_gather without shards: the curves and the one shard made inside the gather's own process give the
    same tables as the separate steps; its scratch directory is gone afterwards, also when the
    gather fails, and no file of the separate steps (values, shard) is left behind."""
    import pytest

    from astroanom.pipeline.features import shards_to_gather

    ref = _features_chain(tmp_path / "ref")
    classes = {
        0: {"form": "sine", "params": {"omega": [5, 2]}},
        1: {"form": "step", "params": {"h": [1.0, 0.3], "x0": [0.5, 0.2]}},
    }
    source = {"kind": "simulation", "preset": "t", "classes": classes, "counts": {0: 50, 1: 10}}
    source.update(n_x=8, noise_sd=0.1)
    run = tmp_path / "run"
    src = {n: run / "source" / n for n in ("truth.parquet", "failures.csv", "info.json")}
    manifest_step(source, run, 1, run / "manifest.parquet", *src.values())
    features = {"kind": "values", "shard_size": 1000}
    outs = [run / n for n in ("features_raw.parquet", "objects.parquet", "truth.parquet")]
    outs += [run / "failures.csv", run / "summary.json"]
    made = shards_to_gather([], run / "manifest.parquet", features, run, source, 1, run)
    with made as (shards, wd):
        assert len(shards) == 1 and Path(wd).parent == run
        gather_step(
            shards, run / "manifest.parquet", src["truth.parquet"], src["failures.csv"],
            features, None, wd, src["info.json"], "sim", 1, *outs,
        )  # fmt: skip
    for name in ("features_raw.parquet", "objects.parquet", "truth.parquet", "failures.csv"):
        pd.testing.assert_frame_equal(
            *(pd.read_parquet(d / name) if name.endswith("parquet") else pd.read_csv(d / name)
              for d in (ref, run)), obj=name,
        )  # fmt: skip
    assert json.loads((run / "summary.json").read_text()) == json.loads(
        (ref / "summary.json").read_text()
    )
    assert not list(run.glob(".one-shard-*")) and not (run / "shards").exists()
    assert not (run / "source" / "values.parquet").exists()
    failing = shards_to_gather([], run / "manifest.parquet", features, run, source, 1, run)
    with pytest.raises(RuntimeError, match="gather failed"), failing:
        raise RuntimeError("gather failed")
    assert not list(run.glob(".one-shard-*"))
    with shards_to_gather(["a.parquet"], "m", features, "wd", source, 1, run) as given:
        assert given == (["a.parquet"], "wd") and not list(run.glob(".one-shard-*"))


def test_a_failed_object_makes_features_raw_a_file_of_its_own(tmp_path):
    """With an object left out the tables differ: no link (the values file keeps all 60)."""
    run = _features_chain(tmp_path)
    shard = run / "shards" / "shard00000.parquet"
    table = pd.read_parquet(shard)
    table.loc[7, "reason"] = "made to fail"
    table.loc[7, [c for c in table.columns if c.startswith("f")]] = np.nan
    write_parquet(table, shard)
    src = {n: run / "source" / n for n in ("truth.parquet", "failures.csv", "info.json")}
    outs = [run / n for n in ("features_raw.parquet", "objects.parquet", "truth.parquet")]
    outs += [run / "failures.csv", run / "summary.json"]
    gather_step(
        [shard], run / "manifest.parquet", src["truth.parquet"], src["failures.csv"],
        {"kind": "values", "shard_size": 1000}, None, run, src["info.json"], "sim", 1, *outs,
    )  # fmt: skip
    raw = run / "features_raw.parquet"
    assert os.stat(raw).st_ino != os.stat(run / "source" / "values.parquet").st_ino
    assert (
        len(pd.read_parquet(raw)) == 59
        and len(pd.read_parquet(run / "source/values.parquet")) == 60
    )


def test_only_first_runs_keep_the_fitted_detector_and_shards_are_temporary():
    """Dry run of the default config: 4 datasets' first runs detect with the bundle's part, the
    10 other seeds (2 x 4 simulation seeds, 2 OGLE-III seeds) without; shards are temp(), and
    so are the curves and features of the simulation's later seeds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    snakemake = Path(sys.executable).with_name("snakemake")
    out = subprocess.run(
        [str(snakemake), "-n", "--quiet", "rules", "--directory", str(ROOT)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=True,
    ).stdout  # fmt: skip
    counts = {
        parts[0]: int(parts[1])
        for line in out.splitlines()
        if len(parts := line.split()) == 2 and parts[1].isdigit()
    }
    assert counts["detect"] == 4 and counts["detect_seed"] == 10
    # the simulation's 8 later seeds keep their curves as temp() only; OGLE-III's share seed 1's.
    # Each simulation seed's one shard and curves are made inside its gather job (one_shard_here):
    # no values job is planned
    assert "source_values" not in counts and counts["features_gather_seed"] == 8
    assert counts["features_gather"] == 6 and "features_scale_seed" not in counts  # one job
    smk = (ROOT / "workflow" / "rules" / "features.smk").read_text()
    assert 'shard=temp(RUN.shard("{shard}"))' in smk


def test_plots_are_saved_as_palette_pngs_and_pictures_in_full_colour(tmp_path):
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from astroanom.plots.style import compact_png, save

    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.scatter(rng.normal(size=3000), rng.normal(size=3000), c=rng.uniform(0, 5, 3000), s=4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # as save() does (the style sets the dpi)
    save(fig, tmp_path / "plot.png")
    full = Image.open(buf).convert("RGB")
    with Image.open(tmp_path / "plot.png") as im:
        assert im.mode == "P" and im.size == full.size
        diff = np.abs(np.asarray(im.convert("RGB"), np.int16) - np.asarray(full, np.int16))
    assert (tmp_path / "plot.png").stat().st_size < 0.5 * len(buf.getvalue())
    assert np.median(diff) == 0 and diff.mean() < 2  # a few levels at anti-aliased edges
    assert compact_png(buf.getvalue()) == compact_png(buf.getvalue())  # same bytes each time
    fig, ax = plt.subplots(figsize=(3, 3))
    yy, xx = np.indices((200, 200))
    ax.imshow(np.exp(-((yy - 100) ** 2 + (xx - 100) ** 2) / 800.0), cmap="gray")  # a galaxy
    save(fig, tmp_path / "cutout.png")
    with Image.open(tmp_path / "cutout.png") as im:
        assert im.mode == "RGB"  # no palette: it would posterise the smooth light
