"""``features.kind: morphology`` (statmorph): hand-worked values of a 2-D Gaussian (Petrosian
radius, r20, r80, concentration), zero asymmetry of a symmetric source, the MID statistics of a
double against a single source, a Sérsic fit, radii kept in input pixels when the image is
reduced, flat and flagged images as failure rows with statmorph's reason, determinism, a FITS
cutout with NaN pixels, a ``combine`` part, the missing-package message and a tiny real
Snakemake run (features -> detect). Generated data only.

statmorph is the optional extra ``astroanom[morphology]``: the tests needing it are skipped on
a core install (the missing-package test is not)."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.optimize import brentq

from astroanom import plugins
from astroanom.errors import AstroanomError

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


@pytest.fixture(scope="module")
def statmorph():
    return pytest.importorskip("statmorph", reason="features.kind morphology needs statmorph")


def build(**params):
    return plugins.build("extractor", "morphology", {"size": None, **params})


def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[:n, :n].astype(np.float64)
    return x, y


def gaussian(n: int, sigma: float, x0: float, y0: float, amp: float = 1.0) -> np.ndarray:
    x, y = grid(n)
    return amp * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma**2))


def noisy(img: np.ndarray, seed: int, sigma: float = 1e-3) -> np.ndarray:
    return (img + np.random.default_rng(seed).normal(0.0, sigma, img.shape)).astype(np.float32)


def values(ext, image: np.ndarray) -> dict[str, float]:
    row, why = ext.compute_safe(image)
    assert why is None, why
    return dict(zip(ext.names(), row.tolist(), strict=True))


def gaussian_radii(sigma: float, eta: float = 0.2, extent: float = 1.5) -> dict[str, float]:
    """Hand-worked radii of a circular Gaussian with x = r^2 / (2 sigma^2): the Petrosian ratio
    I(r) / <I>(<r) = x e^-x / (1 - e^-x) = eta; the flux inside extent * rpetro,
    F = 1 - exp(-extent^2 x_p); r_f from 1 - exp(-x_f) = f F; C = 5 log10(r80 / r20)."""
    xp = brentq(lambda x: x / math.expm1(x) - eta, 0.1, 20.0)
    total = 1.0 - math.exp(-(extent**2) * xp)
    r = {f: sigma * math.sqrt(-2.0 * math.log(1.0 - f * total)) for f in (0.2, 0.8)}
    return {
        "rpetro": sigma * math.sqrt(2.0 * xp),
        "r20": r[0.2],
        "r80": r[0.8],
        "concentration": 5.0 * math.log10(r[0.8] / r[0.2]),
    }


def test_a_gaussian_has_the_hand_worked_radii_and_concentration_and_no_asymmetry(statmorph):
    want = gaussian_radii(6.0)
    # of the total flux: 5 log10(sqrt(ln 5 / ln 1.25)); statmorph's 1.5 rpetro holds 99.75 %
    assert 5 * math.log10(math.sqrt(math.log(5) / math.log(1.25))) == pytest.approx(
        2.1452, abs=1e-4
    )
    assert want["concentration"] == pytest.approx(2.141, abs=1e-3)
    v = values(build(), noisy(gaussian(101, 6.0, 50, 50), seed=0))
    assert v["concentration"] == pytest.approx(want["concentration"], abs=0.02)
    for key in ("rpetro", "r20", "r80"):
        assert v[key] == pytest.approx(want[key], rel=0.02), key
    assert abs(v["asymmetry"]) < 0.01 and abs(v["outer_asymmetry"]) < 0.01
    assert v["ellipticity"] < 0.01
    assert v["multimode"] < 0.01 and v["intensity"] < 0.01 and v["deviation"] < 0.01


def test_two_equal_sources_are_multimode_and_one_is_not(statmorph):
    ext = build()
    one = values(ext, noisy(gaussian(101, 4.0, 50, 50), seed=1))
    two = values(ext, noisy(gaussian(101, 4.0, 41, 50) + gaussian(101, 4.0, 59, 50), seed=1))
    # two equal clumps: A2/A1 = 1 and a flux ratio of 1; the brightest peak 9 px from the centroid
    assert two["multimode"] > 0.9 and two["intensity"] > 0.9 and two["deviation"] > 0.5
    assert one["multimode"] < 0.05 and one["intensity"] < 0.05 and one["deviation"] < 0.05
    assert two["m20"] > one["m20"] + 0.5  # the brightest 20 % spread over two places
    assert two["ellipticity"] > 0.5 and abs(two["asymmetry"]) < 0.02  # symmetric pair


def test_the_reduction_keeps_radii_and_the_sersic_fit_in_input_pixels(statmorph):
    from astropy.modeling.models import Sersic2D

    image = noisy(gaussian(120, 7.5, 60, 60), seed=2)
    full, small = values(build(), image), values(build(size=48), image)  # reduced 2.5x
    for key in ("rpetro", "r20", "r80"):
        assert small[key] == pytest.approx(full[key], rel=0.02), key
    assert small["concentration"] == pytest.approx(full["concentration"], abs=0.03)
    assert small["gini"] == pytest.approx(full["gini"], abs=0.01)
    x, y = grid(96)
    disc = Sersic2D(amplitude=1, r_eff=8, n=1, x_0=48, y_0=48, ellip=0.3, theta=0.5)(x, y)
    ext = build(size=48, sersic=True)
    assert ext.names()[-2:] == ["sersic_n", "sersic_rhalf"]
    v = values(ext, noisy(disc, seed=3, sigma=2e-3))
    assert v["sersic_n"] == pytest.approx(1.0, abs=0.1)
    assert v["sersic_rhalf"] == pytest.approx(8.0, rel=0.03)  # semi-major axis, input pixels
    assert v["ellipticity"] == pytest.approx(0.3, abs=0.02)


def write_png(path: Path, img: np.ndarray) -> str:
    assert cv2.imwrite(str(path), img)
    return str(path)


def write_fits(path: Path, img: np.ndarray) -> str:
    from astropy.io import fits

    fits.PrimaryHDU(np.asarray(img, dtype=np.float32)).writeto(path)
    return str(path)


def test_flat_and_flagged_images_are_failure_rows_with_the_reason(statmorph, tmp_path):
    halo = noisy(gaussian(101, 6.0, 50, 50) + gaussian(101, 25.0, 50, 50, amp=0.2), seed=0)
    spike = noisy(np.zeros((101, 101)), seed=0)
    spike[50, 50] = 1.0  # one hot pixel: statmorph's outlier cut removes it
    paths = [
        write_png(tmp_path / "flat.png", np.full((64, 64), 7, np.uint8)),
        write_fits(tmp_path / "good.fits", noisy(gaussian(101, 6.0, 50, 50), seed=0)),
        write_fits(tmp_path / "halo.fits", halo),
        write_fits(tmp_path / "hot.fits", spike),
    ]
    objs = pd.DataFrame({"id": ["flat", "good", "halo", "hot"], "image_path": paths})
    X, reasons = build().extract(objs)
    assert np.isnan(X[[0, 2, 3]]).all() and np.isfinite(X[1]).all()
    assert reasons[0] == "constant image (every pixel = 7)"
    assert reasons[1] is None
    assert reasons[2] == (
        "statmorph flag 2 (bad): Image is not background-subtracted. (the sky box statmorph "
        "found holds light of the source (the cutout is small for it) or the sky is not flat)"
    )
    assert reasons[3].startswith("statmorph flag 4 (catastrophic): Total flux is nonpositive")


def test_same_image_same_numbers_with_threads_and_a_fresh_extractor(statmorph, tmp_path):
    from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

    cat = generate(tmp_path, SyntheticGalaxyConfig(n_objects=4, size=96, image_format="png"), 4)
    objs = cat[["id", "image_path"]].astype(str)
    X1, r1 = build(size=64).extract(objs)
    X2, r2 = build(size=64, n_threads=2).extract(objs)
    assert r1 == r2 and np.array_equal(X1, X2, equal_nan=True)
    assert sum(r is None for r in r1) >= 2


def test_a_fits_cutout_with_nan_pixels_masks_them(statmorph):
    img = noisy(gaussian(101, 6.0, 50, 50), seed=5)
    img[:10, :10] = np.nan  # a masked corner, away from the source
    ext = build(size=64)
    _, segmap, bad, _, f = ext.inputs(img)
    assert f == pytest.approx(64 / 101) and bad is not None and bad[:5, :5].all()
    assert segmap.shape == bad.shape == (64, 64) and segmap[32, 32] == 1
    v = values(ext, img)
    assert v["concentration"] == pytest.approx(2.141, abs=0.05)


def test_a_combine_part_reads_each_image_once_and_equals_the_extractor_alone(statmorph, tmp_path):
    from astroanom import config as acfg
    from astroanom.features.combine import CombinedExtractor

    blobs = [(200 * gaussian(48, 3.0 + k, 24, 24)).astype(np.uint8) + 10 for k in range(2)]
    paths = [write_png(tmp_path / f"g{k}.png", b) for k, b in enumerate(blobs)]
    objs = pd.DataFrame({"id": ["g0", "g1"], "image_path": paths})
    comb = CombinedExtractor([{"kind": "ellipse"}, {"kind": "morphology"}], n_threads=1)
    assert comb.names()[21:23] == ["morphology.gini", "morphology.m20"]
    X, reasons = comb.extract(objs)
    alone, why = plugins.build("extractor", "morphology", {}).extract(objs)
    assert reasons == why == [None, None]
    np.testing.assert_array_equal(X[:, 21:], alone)
    feats = {"kind": "combine", "extractors": [{"kind": "ellipse"}, {"kind": "morphology"}]}
    cfg = {"datasets": {"d": {"source": {"kind": "images", "path": "x"}, "features": feats}}}
    assert acfg.validate(cfg)["datasets"]["d"]["features"]["shard_size"] == 200  # its part's


def test_a_missing_statmorph_names_the_extra(monkeypatch):
    from astroanom import cli
    from astroanom import config as acfg

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "statmorph" else real(name, *a),
    )
    assert not plugins.installed("extractor", "morphology")
    with pytest.raises(AstroanomError, match=r"'statmorph': pip install 'astroanom\[morphology\]'"):
        plugins.resolve("extractor", "morphology")
    feats = {"kind": "combine", "extractors": [{"kind": "morphology"}]}
    entry = {"source": {"kind": "images", "path": "x"}, "features": feats}
    cfg = acfg.validate({"datasets": {"d": entry}})
    (line,) = cli.missing_packages(cfg)
    assert line.startswith("datasets.d.features.extractors[0]: extractor 'morphology' needs")
    assert line.endswith("pip install 'astroanom[morphology]'")


@pytest.mark.workflow
def test_a_folder_of_cutouts_runs_features_to_detect_with_morphology(statmorph, tmp_path):
    from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

    data = tmp_path / "data" / "cutouts"
    cat = generate(data, SyntheticGalaxyConfig(n_objects=8, size=96, image_format="png"), 6)
    write_png(data / "zz_flat.png", np.full((96, 96, 3), 9, np.uint8))
    cfg = {
        "datasets": {
            "cut": {
                "source": {"kind": "images", "path": "data/cutouts"},
                "features": {"kind": "morphology", "channel": 1, "shard_size": 5},
            }
        }
    }
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    d = tmp_path / "results" / "cut"
    cmd = [SNAKEMAKE, "-s", str(REPO / "workflow" / "Snakefile"), "--directory", str(tmp_path)]
    cmd += ["--configfile", str(tmp_path / "cfg.yaml"), "--cores", "2"]
    cmd += ["results/cut/scores.parquet", "results/cut/failures.csv"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    fails = pd.read_csv(d / "failures.csv", dtype=str)
    assert "zz_flat" in set(fails["id"])
    flat = fails.loc[fails["id"] == "zz_flat", "reason"].item()
    assert flat == "constant image (every pixel = 9)"
    scores = pd.read_parquet(d / "scores.parquet")
    ok = set(cat["id"].astype(str)) - set(fails["id"])
    assert len(ok) >= 6 and ok <= set(scores["id"].astype(str))
    feats = pd.read_parquet(d / "features.parquet")
    assert feats.shape[1] >= 14


def test_bad_parameters_and_a_psf_image(statmorph, tmp_path):
    from astropy.convolution import convolve_fft
    from astropy.modeling.models import Sersic2D

    from astroanom.errors import ConfigError

    with pytest.raises(ConfigError, match="features.psf is used only by the Sérsic fit"):
        build(psf=str(tmp_path / "psf.fits"))
    with pytest.raises(ConfigError, match=r"features.psf: cannot read '.*nothing.fits'"):
        build(psf=str(tmp_path / "nothing.fits"), sersic=True)
    with pytest.raises(ConfigError, match="features.size must be an integer >= 48 or null"):
        build(size=16)
    psf = gaussian(15, 2.0, 7, 7)
    path = write_fits(tmp_path / "psf.fits", 5 * psf)
    ext = build(size=48, sersic=True, psf=path)
    assert ext.psf.sum() == pytest.approx(1.0) and ext._psf_at(0.5).sum() == pytest.approx(1.0)
    x, y = grid(96)
    disc = Sersic2D(amplitude=1, r_eff=6, n=1, x_0=48, y_0=48, ellip=0.2, theta=0.3)(x, y)
    blurred = noisy(convolve_fft(disc, psf / psf.sum()), seed=7, sigma=2e-3)
    v, blind = values(ext, blurred), values(build(size=48, sersic=True), blurred)
    assert v["sersic_n"] == pytest.approx(1.0, abs=0.15)  # the PSF's blur fitted, not absorbed
    assert v["sersic_rhalf"] == pytest.approx(6.0, rel=0.05)
    assert blind["sersic_n"] < 0.8  # without the PSF the blur flattens the profile (n 0.72)
