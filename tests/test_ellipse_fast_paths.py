"""The fast paths of the ellipse features give exactly (bit for bit) what the plain full-frame
computations give: contour centroids against ``cv2.moments``, histogram percentiles against
``np.percentile``, the windowed residual against full-size drawings, the ray test of the central
mask against the full-frame flood fill, and the whole ``astronomaly`` preset against its
full-frame reference on synthetic galaxies and noisy images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from astroanom.features import ellipse, preprocess
from astroanom.sources.imageio import load_image
from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate


def _contours(binary, method=cv2.CHAIN_APPROX_SIMPLE):
    return cv2.findContours(binary, cv2.RETR_EXTERNAL, method)[0]


def test_centroids_by_hand():
    # rectangle x 10..20, y 4..8 (drawn as a filled block): polygon centroid (15, 6);
    # a single pixel and a 1-pixel line have zero area -> (0, 0) as the original code leaves it
    img = np.zeros((30, 40), np.uint8)
    img[4:9, 10:21] = 1
    img[20, 30] = 1
    img[25, 2:9] = 1
    cs = _contours(img)
    got = {
        tuple(map(tuple, c.reshape(-1, 2)[:1])): tuple(v)
        for c, v in zip(cs, ellipse.contour_centroids(cs), strict=True)
    }
    assert got[((10, 4),)] == (15.0, 6.0)
    assert got[((30, 20),)] == (0.0, 0.0)
    assert got[((2, 25),)] == (0.0, 0.0)
    # a clockwise polygon (negative signed area) has the same centroid: a triangle with
    # vertices (0, 0), (0, 9), (9, 0) -> (3, 3)
    tri = np.array([[[0, 0]], [[9, 0]], [[0, 9]]], np.int32)
    for c in (tri, tri[::-1].copy()):
        assert (
            tuple(ellipse.contour_centroids([c, c])[0]) == (3.0, 3.0) == ellipse.contour_centroid(c)
        )


def test_centroids_match_cv2_moments_on_random_masks():
    rng = np.random.default_rng(3)
    n_sets = 0
    for k in range(400):
        h, w = (int(v) for v in rng.integers(5, 120, 2))
        binary = (rng.random((h, w)) < rng.uniform(0.05, 0.7)).astype(np.uint8)
        if k % 2:
            binary = cv2.dilate(binary, np.ones((3, 3), np.uint8))
        for method in (cv2.CHAIN_APPROX_SIMPLE, cv2.CHAIN_APPROX_NONE):
            cs = _contours(binary, method)
            if not cs:
                continue
            ref = np.array([ellipse.contour_centroid(c) for c in cs], dtype=np.float64)
            np.testing.assert_array_equal(ellipse.contour_centroids(cs), ref)  # compiled
            np.testing.assert_array_equal(ellipse._numpy_centroids(cs), ref)
            n_sets += 1
    assert n_sets > 700


def test_integral_percentiles_match_numpy_bit_for_bit():
    rng = np.random.default_rng(4)
    for k in range(1500):
        n = int(rng.integers(1, 4000 if k % 2 else 12))
        top = [3, 256, 65536][k % 3]
        v = rng.integers(0, top, n).astype(
            [np.float32, np.float64, np.uint8][k % 3] if top <= 256 else np.float32
        )
        ref = np.percentile(v, ellipse.PERCENTILES)
        got = ellipse._percentiles_integral(v)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)


def test_windowed_residual_matches_full_frame_drawings():
    rng = np.random.default_rng(5)
    shape = (64, 80)
    n = 0
    for _ in range(600):
        binary = np.zeros(shape, np.uint8)
        cx, cy = (int(v) for v in rng.integers(-5, 85, 2))
        ax = (int(rng.integers(2, 40)), int(rng.integers(2, 40)))
        cv2.ellipse(binary, (cx, cy), ax, int(rng.integers(0, 180)), 0, 360, 1, -1)
        binary |= (rng.random(shape) < 0.05).astype(np.uint8)
        for c in _contours(binary):
            if len(c) < 5:
                continue
            (ex, ey), (ew, eh), ang = cv2.fitEllipse(c)
            # also ellipses far larger than the image and centred on its edge
            scale = float(rng.choice([1.0, 1.0, 3.0, 20.0]))
            ell = ellipse.RawEllipse(ex, ey, ew * scale, eh * scale, ang)
            ref = ellipse.astronomaly_residual(c, ell, shape)
            assert ellipse._residual_in_window(c, ell, shape) == ref
            n += 1
    assert n > 500
    assert not ellipse._BUFFERS.get(shape).any()  # the reused frame is left clean


def _noisy_mask(rng, nested: bool) -> np.ndarray:
    """A central blob in salt noise (every straight ray to the edge meets noise), sometimes
    inside a ring (nested) and sometimes beside a large neighbour."""
    h, w = 61, 67
    b = (rng.random((h, w)) < rng.uniform(0.15, 0.35)).astype(np.uint8)
    cy, cx = h // 2, w // 2
    r = int(rng.integers(2, 7))
    cv2.circle(b, (cx, cy), r, 1, -1)
    cv2.circle(b, (cx, cy), r + 1, 0, 1)  # cut it free of the noise
    if nested:
        cv2.circle(b, (cx, cy), r + 6, 1, 2)
    else:
        cv2.rectangle(b, (2, 2), (int(rng.integers(5, 20)), h - 3), 1, -1)
    return b


def test_central_mask_ray_test_matches_full_frame(monkeypatch):
    rng = np.random.default_rng(6)
    seen: list[bool] = []
    real = preprocess._ray_meets_encloser

    def spy(*args):
        seen.append(real(*args))
        return seen[-1]

    monkeypatch.setattr(preprocess, "_ray_meets_encloser", spy)
    for k in range(600):
        b = _noisy_mask(rng, nested=k % 3 == 0)
        if k % 5 == 0:
            b = cv2.dilate(b, np.ones((2, 2), np.uint8))
        h, w = b.shape
        ref = preprocess.central_mask_full_frame(b.copy(), (w // 2, h // 2))
        got = preprocess.central_mask(b.copy())
        assert (ref is None) == (got is None)
        if ref is not None:
            assert ref[1] == got[1]
            np.testing.assert_array_equal(ref[0], got[0])
    assert seen.count(True) > 50 and seen.count(False) > 50  # both answers exercised


def test_clip_on_many_distinct_float_values_matches_astropy():
    from astropy.stats import sigma_clipped_stats

    rng = np.random.default_rng(7)
    img = rng.normal(10.0, 2.0, (300, 300)).astype(np.float64)
    img[:20, :20] += 500.0
    got = preprocess.sigma_clipped_stats(img)
    mean, median, std = sigma_clipped_stats(img, sigma=3.0, maxiters=5)
    assert got.mean == pytest.approx(mean, rel=1e-12)
    assert got.median == pytest.approx(median, rel=1e-12)
    assert got.std == pytest.approx(std, rel=1e-9)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    cat = generate(tmp_path_factory.mktemp("fast"), SyntheticGalaxyConfig(n_objects=200), seed=11)
    out = [load_image(p) for p in cat["image_path"]]
    rng = np.random.default_rng(8)
    for k in range(60):  # noisy 8-bit and float cutouts, some not square
        h, w = (96, 96) if k % 2 else (80, 112)
        yy, xx = np.mgrid[:h, :w]
        q = (xx - w / 2) ** 2 / rng.uniform(20, 300) + (yy - h / 2) ** 2 / rng.uniform(20, 300)
        img = 120 * np.exp(-q) + rng.normal(20, 6, (h, w))
        out.append(np.clip(img, 0, 255).astype(np.uint8) if k % 3 else img.astype(np.float32))
    return out


def test_astronomaly_preset_equals_full_frame_reference(images):
    n_ok = 0
    for img in images:
        res = ellipse.image_features(img, preset="astronomaly")
        try:
            pre = preprocess.sigma_clip_central(img, threshold_sigma=ellipse.ASTRONOMALY_CUT_SIGMA)
        except preprocess.PreprocessFailure as exc:
            assert res.values is None and res.reason == str(exc)
            continue
        try:
            ref = ellipse.astronomaly_features_full_frame(pre)
        except ellipse.EllipseFailure as exc:
            assert res.values is None and res.reason == str(exc)
            continue
        assert res.values is not None
        assert res.values.tobytes() == ref.tobytes()
        n_ok += 1
    assert n_ok > 150


def test_paper_preset_integral_levels_equal_sorted_levels(images):
    """The paper preset on 8-bit images (histogram percentiles) equals the same preprocessed
    source with the sort-based percentiles (Preprocessed.integral switched off)."""
    n_ok = 0
    for img in images:
        try:
            pre = preprocess.sigma_clip_central(img)
        except preprocess.PreprocessFailure:
            continue
        plain = preprocess.Preprocessed(pre.image, pre.bbox, pre.shape, pre.stats, pre.threshold)
        try:
            ref = ellipse.ellipse_features(plain)
        except ellipse.EllipseFailure as exc:
            with pytest.raises(ellipse.EllipseFailure, match=str(exc)[:20]):
                ellipse.ellipse_features(pre)
            continue
        assert ellipse.ellipse_features(pre).tobytes() == ref.tobytes()
        n_ok += pre.integral
    assert n_ok > 150
