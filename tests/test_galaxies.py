"""Synthetic galaxies, the manifest/shard/gather steps and bad inputs of the image chain."""

import gzip
import json

import cv2
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from astroanom.errors import ConfigError
from astroanom.pipeline.features import gather_step, manifest_step, n_shards, shard_step
from astroanom.sources.synthetic_galaxies import (
    ANOMALY_KINDS,
    SyntheticGalaxyConfig,
    assign_kinds,
    generate,
    render,
)
from astroanom.store.io import feature_columns


def test_kinds_and_odd_fractions_follow_config(tmp_path):
    kinds = assign_kinds(1000, 0.012, {"merger": 0.5, "star": 0.5}, seed=1)
    assert (kinds != "normal").sum() == 12
    assert set(kinds[kinds != "normal"]) == {"merger", "star"}
    cfg = SyntheticGalaxyConfig(n_objects=12, size=96, anomaly_fraction=0.5)
    cat = generate(tmp_path / "a", cfg, seed=4, workers=1, chunk=5)
    assert len(cat) == 12 and (cat["kind"] != "normal").sum() == 6
    anomalous_kind = cat["kind"].isin(["merger", "ring", "tidal"])
    assert (cat.loc[anomalous_kind, "odd_fraction"] >= 0.8).all()
    assert (cat.loc[cat["kind"] == "normal", "odd_fraction"] < 0.9).all()
    assert (cat["is_anomaly"] == (cat["odd_fraction"] > 0.9)).all()
    # identical whatever the number of worker processes
    generate(tmp_path / "b", cfg, seed=4, workers=2, chunk=5)
    for i in cat["id"]:
        assert (tmp_path / "a" / f"{i}.jpg").read_bytes() == (
            tmp_path / "b" / f"{i}.jpg"
        ).read_bytes()


def test_every_kind_renders_a_424_rgb_image():
    cfg = SyntheticGalaxyConfig()
    for kind in ("normal", *ANOMALY_KINDS):
        img = render(3, kind, 9, cfg)
        assert img.shape == (424, 424, 3) and img.dtype == np.uint8
        assert np.array_equal(img, render(3, kind, 9, cfg))


def _run_chain(tmp, source, truth=None, shard_size=4):
    """The features rules' steps in DAG order: manifest, shards, gather; returns the outputs."""
    tmp.mkdir(parents=True, exist_ok=True)
    src = {n: tmp / "source" / n for n in ("truth.parquet", "failures.csv", "info.json")}
    manifest_step(
        source,
        tmp,
        0,
        tmp / "manifest.parquet",
        src["truth.parquet"],
        src["failures.csv"],
        src["info.json"],
    )
    features = {"kind": "ellipse", "n_sigma": 3.0, "channel": 0, "shard_size": shard_size}
    count = n_shards(len(pd.read_parquet(tmp / "manifest.parquet")), shard_size)
    shards = [tmp / "shards" / f"shard{k:05d}.parquet" for k in range(count)]
    for k, path in enumerate(shards):
        shard_step(tmp / "manifest.parquet", k, features, tmp, path)
    names = ("features.parquet", "objects.parquet", "truth.parquet", "failures.csv", "summary.json")
    out = {n: tmp / n for n in names}
    gather_step(
        shards,
        tmp / "manifest.parquet",
        src["truth.parquet"],
        src["failures.csv"],
        features,
        truth,
        tmp,
        src["info.json"],
        "test",
        1,
        out["features.parquet"],
        out["objects.parquet"],
        out["truth.parquet"],
        out["failures.csv"],
        out["summary.json"],
    )
    return out


ODD_TRUTH = {"kind": "fraction", "column": "odd", "id_column": "name", "anomaly_above": 0.9}


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory):
    """A folder mixing good images (sizes, channels, formats) with broken ones, and labels."""
    d = tmp_path_factory.mktemp("imgs")
    cfg = SyntheticGalaxyConfig(size=160)
    good = render(0, "normal", 2, cfg)
    cv2.imwrite(str(d / "g_rgb.jpg"), good[:, :, ::-1].copy())
    cv2.imwrite(str(d / "g_gray.png"), good[30:130, 20:140, 0].copy())  # 1 channel, other size
    cv2.imwrite(str(d / "g_rgba.png"), np.dstack([good, np.full(good.shape[:2], 255, np.uint8)]))
    fits.writeto(d / "g_float.fits", good[:, :, 0].astype(np.float32) * 1.5 - 3.0)
    (d / "b_trunc.jpg").write_bytes((d / "g_rgb.jpg").read_bytes()[:1500])
    (d / "b_empty.jpg").write_bytes(b"")
    (d / "b_garbage.png").write_bytes(b"\x89PNG not really an image")
    cv2.imwrite(str(d / "b_zero.png"), np.zeros((64, 64), np.uint8))
    fits.writeto(d / "b_nan.fits", np.full((32, 32), np.nan, dtype=np.float32))
    labels = pd.DataFrame(
        {
            "name": [
                "g_rgb",
                "g_gray",
                "g_rgba",
                "g_float",
                "b_trunc",
                "b_empty",
                "b_garbage",
                "b_zero",
                "b_nan",
                "ghost",
            ],
            "odd": [0.1, 0.95, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5],
        }
    )
    labels.to_csv(d.parent / "labels.csv", index=False)
    labels.iloc[1:].to_csv(d.parent / "labels_missing.csv", index=False)  # no row for g_rgb
    return d


def test_bad_inputs_are_recorded_failures(bad_folder, tmp_path):
    truth = {**ODD_TRUTH, "table": str(bad_folder.parent / "labels.csv")}
    out = _run_chain(tmp_path, {"kind": "images", "path": str(bad_folder)}, truth)
    failures = pd.read_csv(out["failures.csv"]).set_index("id")
    feats = pd.read_parquet(out["features.parquet"])
    assert sorted(feats["id"]) == ["g_float", "g_gray", "g_rgb", "g_rgba"]
    assert np.isfinite(feats[feature_columns(feats)].to_numpy()).all()
    expect = {
        "b_trunc": "truncated JPEG",
        "b_empty": "empty file",
        "b_garbage": "cannot decode",
        "b_zero": "constant image",
        "b_nan": "no finite pixel",
        "ghost": "a row for an id with no object",
    }
    for oid, text in expect.items():
        assert text in failures.loc[oid, "reason"], (oid, failures.loc[oid, "reason"])
    summary = json.loads(out["summary.json"].read_text())
    assert summary["n_failed"] == 5 and summary["failure_rate"] == pytest.approx(5 / 9)
    assert summary["n_failures_recorded"] == 6 and summary["n_truth_known"] == 4
    objects = pd.read_parquet(out["objects.parquet"])
    assert list(objects["id"]) == list(feats["id"]) and "odd" not in objects
    t = pd.read_parquet(out["truth.parquet"]).set_index("id")
    assert list(t.index) == list(feats["id"])
    assert t.loc["g_gray", "is_anomaly"] and not t.loc["g_rgb", "is_anomaly"]


def test_object_without_truth_row_is_kept_and_unknown(bad_folder, tmp_path):
    truth = {**ODD_TRUTH, "table": str(bad_folder.parent / "labels_missing.csv")}
    out = _run_chain(tmp_path, {"kind": "images", "path": str(bad_folder)}, truth)
    assert "g_rgb" in set(pd.read_parquet(out["features.parquet"])["id"])
    t = pd.read_parquet(out["truth.parquet"]).set_index("id")
    assert not t.loc["g_rgb", "known"] and not t.loc["g_rgb", "is_anomaly"]
    assert np.isnan(t.loc["g_rgb", "value"]) and t.loc["g_gray", "known"]


def test_truth_in_percent_stops_with_file_column_rows_and_fix(bad_folder, tmp_path):
    pct = pd.read_csv(bad_folder.parent / "labels.csv")
    pct["odd"] = pct["odd"] * 100
    pct.to_csv(tmp_path / "pct.csv", index=False)
    truth = {**ODD_TRUTH, "table": str(tmp_path / "pct.csv")}
    with pytest.raises(ConfigError) as err:
        _run_chain(tmp_path / "run", {"kind": "images", "path": str(bad_folder)}, truth)
    msg = str(err.value)
    assert "pct.csv" in msg and "'odd'" in msg and "'g_gray': 95.0" in msg
    assert "percentages; divide the column by 100" in msg
    assert not (tmp_path / "run" / "features.parquet").exists()


def test_sharded_equals_unsharded(tmp_path):
    source = {"kind": "synthetic_galaxies", "n_objects": 11, "size": 128, "anomaly_fraction": 0.2}
    a = _run_chain(tmp_path / "a", source, shard_size=3)
    b = _run_chain(tmp_path / "b", source, shard_size=1000)
    assert len(list((tmp_path / "a" / "shards").iterdir())) == 4
    pd.testing.assert_frame_equal(
        pd.read_parquet(a["features.parquet"]), pd.read_parquet(b["features.parquet"])
    )
    oa, ob = pd.read_parquet(a["objects.parquet"]), pd.read_parquet(b["objects.parquet"])
    pd.testing.assert_frame_equal(oa.drop(columns="image_path"), ob.drop(columns="image_path"))


def test_gz2_label_join(tmp_path):
    from astroanom.sources.galaxy_zoo import gz2_manifest

    img = tmp_path / "images"
    img.mkdir()
    for asset in (11, 12, 13):
        (img / f"{asset}.jpg").write_bytes(b"x")
    pd.DataFrame(
        {"objid": [101, 102, 103, 104], "sample": "original", "asset_id": [11, 12, 13, 14]}
    ).to_csv(tmp_path / "map.csv", index=False)
    with gzip.open(tmp_path / "hart.csv.gz", "wt") as fh:
        pd.DataFrame(
            {"dr7objid": [101, 102, 104], "t06_odd_a14_yes_fraction": [0.95, 0.2, 0.5]}
        ).to_csv(fh, index=False)
    man, fails = gz2_manifest(img, tmp_path / "map.csv", tmp_path / "hart.csv.gz")
    assert list(man["id"]) == ["11", "12"] and list(man["is_anomaly"]) == [True, False]
    assert set(fails["id"]) == {"13", "14"}  # 13: image without labels; 14: labels without image


def test_kaggle_without_credentials_says_how_to_fix(tmp_path, monkeypatch):
    from astroanom.errors import ConfigError
    from astroanom.sources.galaxy_zoo import kaggle_download

    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError) as exc:
        kaggle_download(tmp_path / "kaggle")
    msg = str(exc.value)
    assert "no Kaggle credentials" in msg and "kaggle.json" in msg and "rules" in msg
    assert str((tmp_path / "kaggle").resolve()) in msg
