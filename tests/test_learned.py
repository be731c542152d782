"""The learned extractor (features.kind: learned; a small CNN trained self-supervised on the
dataset's own cutouts) on tiny generated images: the cutout preparation, repeatability for a
seed, a trained model reused (in Python and through ``model:``), shapes, failure rows, the
trainable-extractor contract, and a tiny real Snakemake run that trains once and reuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from astroanom.errors import AstroanomError, ConfigError
from astroanom.features import trainable
from astroanom.features.learned import MIN_TRAIN, CutoutFailure, prepare

torch = pytest.importorskip("torch", reason="the learned extractor needs astroanom[learned]")

from astroanom.features import encoder  # noqa: E402
from astroanom.features.learned import LearnedImageExtractor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY = {
    "method": "simclr",
    "dim": 4,
    "size": 16,
    "crop": 1.0,
    "channels": None,
    "width": 4,
    "epochs": 2,
    "batch_size": 8,
    "learning_rate": 0.002,
    "temperature": 0.2,
    "max_shift": 2,
    "noise": 0.05,
    "n_train": None,
    "device": "cpu",
    "model": None,
}


def blobs(folder: Path, n: int = 20, bands: int = 3, seed: int = 0) -> pd.DataFrame:
    """``n`` 24 x 24 PNG cutouts of a Gaussian blob of random width and position on a noisy
    sky (every fifth a pair of blobs); the manifest (id, image_path)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[:24, :24]
    rows = []
    for i in range(n):
        sd = rng.uniform(1.5, 4.0)
        cy, cx = 12 + rng.uniform(-2, 2, 2)
        img = 150 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sd**2))
        if i % 5 == 0:
            img += 120 * np.exp(-((yy - 5) ** 2 + (xx - 18) ** 2) / 2.0)
        img = img + 10 + rng.normal(0, 2, img.shape)
        img = np.clip(img, 0, 255).astype(np.uint8)
        if bands == 3:
            img = np.dstack([img, (img * 0.8).astype(np.uint8), (img * 0.6).astype(np.uint8)])
        path = folder / f"b{i:02d}.png"
        cv2.imwrite(str(path), img)
        rows.append((f"b{i:02d}", str(path)))
    return pd.DataFrame(rows, columns=["id", "image_path"])


def learned(**over) -> LearnedImageExtractor:
    return LearnedImageExtractor(**{**TINY, **over}, n_jobs=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(manifest, model path, training record, embedding) of one tiny training, seed 1."""
    wd = tmp_path_factory.mktemp("learned")
    man = blobs(wd / "images")
    model = wd / "m1.model"
    record = learned().fit(man, model, seed=1, n_jobs=1)
    X, reasons = learned(model=str(model)).extract(man)
    return man, model, record, X, reasons


# -- preparing a cutout -----------------------------------------------------------------------


def test_prepare_subtracts_the_sky_and_stretches_by_the_percentile():
    img = np.full((32, 32), 10.0, dtype=np.float32)
    img[8:24, 8:24] = 110.0  # a 16 x 16 square 100 above the sky (a quarter of the pixels)
    out = prepare(img, size=16, crop=1.0, channels=None)
    assert out.shape == (1, 16, 16) and out.dtype == np.float32
    # sky: median 10 -> 0; the square: 100 / p99.5 (= 100) -> asinh(Q) / asinh(Q) = 1
    assert np.allclose(out[0, :4, :], 0.0) and np.allclose(out[0, 6:10, 6:10], 1.0)
    dim = img.copy()
    dim[8:24, 8:24] = 60.0  # 50 above the sky: the same after the percentile scaling
    assert np.allclose(prepare(dim, 16, 1.0, None), out)
    assert np.isclose(prepare(img * 3.0, 16, 1.0, None)[0, 7, 7], 1.0)  # any flux unit
    with pytest.raises(CutoutFailure, match="flat"):  # the central 16 x 16 is all square
        prepare(img, size=16, crop=0.5, channels=None)
    with pytest.raises(CutoutFailure, match="no finite"):
        prepare(np.full((8, 8), np.nan), 16, 1.0, None)


def test_prepare_keeps_the_chosen_bands_and_names_a_missing_one():
    img = np.zeros((20, 20, 3), np.float32)
    img[8:12, 8:12] = [100.0, 50.0, 25.0]
    out = prepare(img, 16, 1.0, [2, 0])
    assert out.shape == (2, 16, 16)
    assert np.isclose(out[1].max(), 1.0) and out[0].max() < out[1].max()  # one scale: colour kept
    with pytest.raises(CutoutFailure, match="3 band.*index 5"):
        prepare(img, 16, 1.0, [5])


def test_augmentations_are_flips_rotations_and_shifts():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2, 16, 16)).astype(np.float32)
    same = encoder.geometric(x, np.random.default_rng(3), max_shift=0)
    for a, b in zip(x, same, strict=True):  # each view is one of the 8 symmetries of its cutout
        views = [np.rot90(a, k, axes=(1, 2))[:, :, ::f] for k in range(4) for f in (1, -1)]
        assert any(np.array_equal(b, v) for v in views)
    assert np.array_equal(same, encoder.geometric(x, np.random.default_rng(3), 0))
    shifted = encoder.geometric(x, np.random.default_rng(3), max_shift=3)
    assert shifted.shape == x.shape and not np.array_equal(shifted, same)


# -- training, repeatability, reuse -----------------------------------------------------------


def test_training_record_and_shapes(trained):
    man, model, record, X, reasons = trained
    assert model.is_file() and X.shape == (len(man), 4) and X.dtype == np.float64
    assert all(r is None for r in reasons) and np.isfinite(X).all()
    assert record["device"] == "cpu" and record["threads"] == 1 and record["seed"] == 1
    assert record["n_train"] == len(man) and len(record["loss"]) == 2
    assert record["architecture"] == {
        "method": "simclr",
        "n_bands": 3,
        "size": 16,
        "width": 4,
        "dim": 4,
    }
    assert learned().names() == ["emb000", "emb001", "emb002", "emb003"]


def test_same_seed_same_bytes_other_seed_other_numbers(trained, tmp_path):
    man, _, record, X, _ = trained
    again = tmp_path / "again.model"
    rec2 = learned().fit(man, again, seed=1, n_jobs=1)
    X2, _ = learned(model=str(again)).extract(man)
    assert X2.tobytes() == X.tobytes() and rec2["loss"] == record["loss"]
    other = tmp_path / "other.model"
    learned().fit(man, other, seed=2, n_jobs=1)
    X3, _ = learned(model=str(other)).extract(man)
    assert not np.allclose(X3, X)


def test_a_saved_model_embeds_the_same_and_must_match_the_config(trained):
    man, model, _, X, _ = trained
    again, _ = learned(model=str(model)).extract(man.iloc[::-1].reset_index(drop=True))
    assert np.array_equal(again[::-1], X)  # loading again, other order: same numbers per object
    with pytest.raises(ConfigError, match="dim 4 .*features.dim: 8"):
        learned(model=str(model), dim=8).extract(man)
    with pytest.raises(ConfigError, match="no trained model"):
        learned().extract(man)
    with pytest.raises(ConfigError, match="does not exist"):
        learned(model=str(model) + ".gone").extract(man)


def test_the_autoencoder_trains_too(trained, tmp_path):
    man = trained[0]
    rec = learned(method="autoencoder").fit(man, tmp_path / "ae.model", 1, 1)
    X, _ = learned(method="autoencoder", model=str(tmp_path / "ae.model")).extract(man)
    assert rec["architecture"]["method"] == "autoencoder" and X.shape == (len(man), 4)


# -- failures ---------------------------------------------------------------------------------


def test_bad_cutouts_are_failure_rows_with_the_reason(trained, tmp_path):
    man, model, _, X, _ = trained
    (tmp_path / "broken.png").write_bytes(b"not a png")
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.full((24, 24, 3), 7, np.uint8))
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), cv2.imread(man["image_path"][1], cv2.IMREAD_GRAYSCALE))
    extra = pd.DataFrame(
        {"id": ["broken", "flat"], "image_path": [str(tmp_path / "broken.png"), str(flat)]}
    )
    mixed = pd.concat([man.iloc[:3], extra], ignore_index=True)
    Y, reasons = learned(model=str(model)).extract(mixed)
    assert np.array_equal(Y[:3], X[:3]) and np.isnan(Y[3:]).all()
    assert reasons[3].startswith("read:") and "flat cutout" in reasons[4]
    one_band = pd.DataFrame({"id": ["grey"], "image_path": [str(grey)]})
    Z, why = learned(model=str(model)).extract(one_band)
    assert np.isnan(Z).all() and "1 band(s); the model was trained on 3" in why[0]


def test_too_few_usable_cutouts_is_a_clear_error(trained, tmp_path):
    man = trained[0]
    few = man.iloc[: MIN_TRAIN - 1].copy()
    few.loc[0, "image_path"] = str(tmp_path / "missing.png")
    with pytest.raises(
        AstroanomError, match=rf"only {MIN_TRAIN - 2} of {MIN_TRAIN - 1}.*b00: read"
    ):
        learned().fit(few, tmp_path / "few.model", seed=1, n_jobs=1)
    assert not (tmp_path / "few.model").exists()


# -- the trainable-extractor contract ---------------------------------------------------------


def test_trainable_parts_models_and_paths():
    combined = {
        "kind": "combine",
        "extractors": [
            {"kind": "ellipse"},
            {"kind": "learned", "name": "cnn"},
            {"kind": "learned", "name": "given", "model": "elsewhere/x.model"},
        ],
    }
    assert trainable.is_trainable("learned") and not trainable.is_trainable("ellipse")
    assert list(trainable.parts(combined)) == ["cnn", "given"]
    assert trainable.to_train(combined) == ["cnn"]
    path = "results/r/models/{}.model".format
    assert trainable.model_files(combined, path) == [
        "results/r/models/cnn.model",
        "elsewhere/x.model",
    ]
    filled = trainable.with_models(combined, path)
    assert [e.get("model") for e in filled["extractors"]] == [
        None,
        "results/r/models/cnn.model",
        "elsewhere/x.model",
    ]
    assert "model" not in combined["extractors"][1]  # a copy
    assert trainable.to_train({"kind": "learned"}) == ["learned"]
    assert trainable.to_train({"kind": "ellipse"}) == []


# -- a tiny real workflow: trained once, reused -----------------------------------------------


def _snakemake(wd: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [SNAKEMAKE, "-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(wd)]
    cmd += ["--configfile", str(wd / "mine.yaml"), "--cores", "2", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.workflow
def test_the_workflow_trains_once_and_reuses_the_model(tmp_path):
    blobs(tmp_path / "images", n=24)
    params = {k: v for k, v in TINY.items() if v is not None and k != "device"}
    cfg = {
        "datasets": {
            "cnn": {
                "source": {"kind": "images", "path": "images"},
                "features": {"kind": "learned", **params, "shard_size": 10},
            },
            "reuse": {
                "source": {"kind": "images", "path": "images"},
                "features": {
                    "kind": "learned",
                    **params,
                    "model": "results/cnn/models/learned.model",
                },
            },
        }
    }
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    target = "results/cnn/features_raw.parquet"
    proc = _snakemake(tmp_path, target)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    model = tmp_path / "results" / "cnn" / "models" / "learned.model"
    record = json.loads(model.with_suffix(".json").read_text())
    assert record["n_train"] == 24 and record["seed"] == 1 and record["device"] == "cpu"
    assert record["threads"] == 2 and record["params"]["epochs"] == 2
    log = (tmp_path / "results" / "logs" / "cnn" / "features_fit_learned.log").read_text()
    assert "epoch 2/2: loss" in log and "objects/s, ETA" in log and "on cpu" in log
    feats = pd.read_parquet(tmp_path / target)
    assert feats.shape == (24, 5) and np.isfinite(feats.drop(columns="id").to_numpy()).all()
    stamp = model.stat().st_mtime_ns
    again = _snakemake(tmp_path, target)
    assert again.returncode == 0 and "features_fit" not in again.stdout + again.stderr
    assert model.stat().st_mtime_ns == stamp
    # model: another run's model -> no training rule for that dataset, the same embedding
    dry = _snakemake(tmp_path, "-n", "results/reuse/features_raw.parquet")
    assert dry.returncode == 0 and "features_fit" not in dry.stdout, dry.stdout[-2000:]
    proc = _snakemake(tmp_path, "results/reuse/features_raw.parquet")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not (tmp_path / "results" / "reuse" / "models").exists()
    reused = pd.read_parquet(tmp_path / "results" / "reuse" / "features_raw.parquet")
    assert np.array_equal(reused.drop(columns="id").to_numpy(), feats.drop(columns="id").to_numpy())
