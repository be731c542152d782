"""Synthetic galaxies, the manifest/shard/gather steps and bad inputs of the image chain."""

import gzip
import json

import cv2
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from astroanom.pipeline.galaxies import (
    features_shard_step,
    gather_step,
    manifest_step,
    n_shards,
    shard_paths,
)
from astroanom.sources.folder import folder_manifest
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


def _run_chain(manifest, label_failures, tmp, shard_size):
    count = n_shards(len(pd.read_parquet(manifest)), shard_size)
    shards = shard_paths(tmp / "shards", count)
    for k, path in enumerate(shards):
        features_shard_step(manifest, k, shard_size, path)
    out = {
        n: tmp / n for n in ("features.parquet", "objects.parquet", "failures.csv", "summary.json")
    }
    gather_step(
        shards,
        manifest,
        label_failures,
        out["features.parquet"],
        out["objects.parquet"],
        out["failures.csv"],
        out["summary.json"],
        tmp,
        "galaxies/test",
        1,
        "folder",
    )
    return out


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
    man, fails = folder_manifest(bad_folder, bad_folder.parent / "labels.csv", "name", "odd")
    assert list(fails["id"]) == ["ghost"] and "no image" in fails["reason"].iloc[0]
    manifest_step(
        "folder",
        {
            "path": str(bad_folder),
            "labels": str(bad_folder.parent / "labels.csv"),
            "id_column": "name",
            "fraction_column": "odd",
        },
        {},
        tmp_path / "manifest.parquet",
        tmp_path / "label_failures.csv",
        seed=0,
    )
    out = _run_chain(tmp_path / "manifest.parquet", tmp_path / "label_failures.csv", tmp_path, 4)
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
        "ghost": "no image",
    }
    for oid, text in expect.items():
        assert text in failures.loc[oid, "reason"], (oid, failures.loc[oid, "reason"])
    summary = json.loads(out["summary.json"].read_text())
    assert summary["n_failed"] == 5 and summary["failure_rate"] == pytest.approx(5 / 9)
    objects = pd.read_parquet(out["objects.parquet"])
    assert list(objects["id"]) == list(feats["id"])
    assert objects.set_index("id").loc["g_gray", "is_anomaly"]


def test_missing_label_row_drops_the_image_with_a_reason(bad_folder):
    man, fails = folder_manifest(
        bad_folder, bad_folder.parent / "labels_missing.csv", "name", "odd"
    )
    assert "g_rgb" not in set(man["id"])
    row = fails.set_index("id").loc["g_rgb"]
    assert row["stage"] == "labels" and "no label row" in row["reason"]


def test_sharded_equals_unsharded(tmp_path):
    cfg = SyntheticGalaxyConfig(n_objects=11, size=128, anomaly_fraction=0.2)
    cat = generate(tmp_path / "img", cfg, seed=3)
    cat.to_parquet(tmp_path / "catalogue.parquet")
    manifest_step(
        "synthetic",
        {},
        {"catalogue": str(tmp_path / "catalogue.parquet")},
        tmp_path / "manifest.parquet",
        tmp_path / "lf.csv",
        seed=0,
    )
    a = _run_chain(tmp_path / "manifest.parquet", tmp_path / "lf.csv", tmp_path / "a", 3)
    b = _run_chain(tmp_path / "manifest.parquet", tmp_path / "lf.csv", tmp_path / "b", 1000)
    assert len(list((tmp_path / "a" / "shards").iterdir())) == 4
    pd.testing.assert_frame_equal(
        pd.read_parquet(a["features.parquet"]), pd.read_parquet(b["features.parquet"])
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(a["objects.parquet"]), pd.read_parquet(b["objects.parquet"])
    )


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
