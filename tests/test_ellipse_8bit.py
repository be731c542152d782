"""The ``astronomaly`` preset's 8-bit path (``ellipse.astronomaly_features_8bit``) gives exactly
the values and failure reasons of the float32 crop path it replaces for JPEG/PNG cutouts: its
Python-float percentiles against ``np.percentile``, the running-maxima pixel box by hand, the
contours of a level's pixel box against the whole frame's, the uint8 comparison against the
float comparison, and the whole preset on synthetic galaxies and noisy 8-bit cutouts."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from astroanom.features import ellipse, preprocess
from astroanom.sources.imageio import load_image
from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate


def test_levels_from_cumulative_counts_match_numpy_bit_for_bit():
    rng = np.random.default_rng(21)
    for k in range(3000):
        n = int(rng.integers(1, 3000 if k % 2 else 12))
        v = rng.integers(1, int(rng.integers(2, 257)), n)
        if k % 7 == 0:
            v[:] = v[0]  # one value: every level is it
        cum = np.cumsum(np.bincount(v, minlength=256)).tolist()
        got = np.asarray(ellipse._levels_from_cumulative(cum, n))
        ref = np.percentile(v.astype(np.float32), ellipse.PERCENTILES)
        assert got.tobytes() == ref.tobytes()


def test_levels_by_hand():
    # values 1..10: p90 at virtual index 8.1 -> 9 + 0.1 * (10 - 9) = 9.1; p0 = 1; p50 = 5.5
    cum = np.cumsum(np.bincount(np.arange(1, 11), minlength=256)).tolist()
    got = ellipse._levels_from_cumulative(cum, 10)
    assert got[0] == pytest.approx(9.1) and got[4] == 5.5 and got[5] == 1.0


def test_pixel_box_span_by_hand():
    box = ellipse._PixelBox(np.array([0, 3, 1, 5, 0], np.uint8))
    assert box.span(0) == (1, 4)  # rows 1..3 hold a pixel > 0
    assert box.span(2) == (1, 4)
    assert box.span(3) == (3, 4)  # only row 3 holds a pixel > 3
    start, stop = box.span(5)
    assert start >= stop  # nothing > 5


def test_contours_of_a_pixel_box_equal_the_whole_frame():
    """OpenCV pads the image with zeros, so the external contours of the pixels of a level,
    found in their bounding box (touching its edges) with the box's offset, are the whole
    frame's: same order, same points."""
    rng = np.random.default_rng(22)
    n = 0
    for k in range(500):
        h, w = (int(v) for v in rng.integers(8, 90, 2))
        img = (rng.random((h, w)) * rng.uniform(1, 255)).astype(np.uint8)
        if k % 2:
            img = cv2.GaussianBlur(img, (5, 5), 0)
        v = int(rng.integers(0, max(int(img.max()), 1)))
        binary = np.greater(img, v).view(np.uint8)
        whole = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
        r0, r1 = ellipse._PixelBox(img.max(axis=1)).span(v)
        c0, c1 = ellipse._PixelBox(img.max(axis=0)).span(v)
        if r0 >= r1:
            assert not whole
            continue
        sub = np.greater(img[r0:r1, c0:c1], v).view(np.uint8)
        part = cv2.findContours(sub, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(c0, r0))[0]
        assert len(part) == len(whole)
        for a, b in zip(part, whole, strict=True):
            np.testing.assert_array_equal(a, b)
        n += 1
    assert n > 400


def test_greater_8bit_equals_the_float_comparison():
    rng = np.random.default_rng(23)
    plane = rng.integers(0, 256, (61, 77)).astype(np.uint8)
    for t in (-3.0, -0.5, 0.0, 0.5, 17.0, 17.999, 128.25, 254.5, 255.0, 300.0):
        got = preprocess.greater_8bit(plane, t)
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, (plane.astype(np.float64) > t).view(np.uint8))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    cat = generate(tmp_path_factory.mktemp("e8"), SyntheticGalaxyConfig(n_objects=150), seed=12)
    out = [load_image(p)[:, :, 0] for p in cat["image_path"]]
    rng = np.random.default_rng(24)
    for k in range(60):  # noisy 8-bit cutouts, some not square, some saturated at 255
        h, w = (96, 96) if k % 2 else (80, 112)
        yy, xx = np.mgrid[:h, :w]
        q = (xx - w / 2) ** 2 / rng.uniform(20, 300) + (yy - h / 2) ** 2 / rng.uniform(20, 300)
        img = rng.uniform(80, 400) * np.exp(-q) + rng.normal(20, 6, (h, w))
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def test_8bit_path_equals_float_crop_path(images):
    n_ok = n_fail = 0
    cut = ellipse.ASTRONOMALY_CUT_SIGMA
    for plane in images:
        assert plane.dtype == np.uint8
        try:
            src = preprocess.find_central_source(plane, threshold_sigma=cut)
        except preprocess.PreprocessFailure:
            continue
        pre = preprocess.sigma_clip_central(plane, threshold_sigma=cut)
        assert pre.integral
        try:
            ref = ellipse.astronomaly_features(pre)
        except ellipse.EllipseFailure as exc:
            with pytest.raises(ellipse.EllipseFailure) as got:
                ellipse.astronomaly_features_8bit(src)
            assert str(got.value) == str(exc)
            n_fail += 1
            continue
        assert ellipse.astronomaly_features_8bit(src).tobytes() == ref.tobytes()
        n_ok += 1
    assert n_ok > 150 and n_fail > 0


def test_image_features_takes_the_8bit_path_for_uint8(images, monkeypatch):
    calls = []
    real = ellipse.astronomaly_features_8bit

    def spy(src):
        calls.append(src.finite.dtype)
        return real(src)

    monkeypatch.setattr(ellipse, "astronomaly_features_8bit", spy)
    res = ellipse.image_features(np.dstack([images[0]] * 3), preset="astronomaly")
    assert res.values is not None and calls == [np.uint8]
    ellipse.image_features(images[0].astype(np.float32), preset="astronomaly")
    assert len(calls) == 1  # float images keep the float32 crop path
