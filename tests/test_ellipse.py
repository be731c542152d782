"""Ellipse-fitting features (Appendix B): exact cases, rotation invariance, blends."""

import cv2
import numpy as np
import pytest

from astroanom.features.ellipse import (
    ELLIPSE_FEATURE_NAMES,
    ellipse_residual,
    fit_ellipse,
    image_features,
)

NAMES = list(ELLIPSE_FEATURE_NAMES)


def _profile(size=201, centres=((100.0, 100.0, 1.0),), a=30.0, b=15.0, angle_deg=30.0):
    """Sum of smooth elliptical Gaussians (amplitude 200 each) on a flat sky of 10, uint8."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    t = np.deg2rad(angle_deg)
    img = np.full((size, size), 10.0)
    for cx, cy, amp in centres:
        u = (xx - cx) * np.cos(t) + (yy - cy) * np.sin(t)
        v = -(xx - cx) * np.sin(t) + (yy - cy) * np.cos(t)
        img += 200.0 * amp * np.exp(-0.5 * ((u / a) ** 2 + (v / b) ** 2))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_filled_ellipse_gives_zero_residual_and_drawn_aspect():
    canvas = np.zeros((200, 200), dtype=np.uint8)
    cv2.ellipse(canvas, ((100.0, 100.0), (120.0, 60.0), 35.0), 1, thickness=-1)
    contours, _ = cv2.findContours(canvas, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    ell = fit_ellipse(contours[0], 90)
    assert ell.major / ell.minor == pytest.approx(2.0, rel=0.02)
    assert ell.angle == pytest.approx(35.0, abs=1.0)
    assert ell.cx == pytest.approx(100.0, abs=0.5) and ell.cy == pytest.approx(100.0, abs=0.5)
    assert ellipse_residual(contours[0], ell) < 0.03


def test_elliptical_profile_features():
    f = image_features(_profile()).values
    assert f is not None and f.shape == (21,)
    feats = dict(zip(NAMES, f, strict=True))
    for p in (90, 80, 70, 60, 50):
        assert feats[f"residual_p{p}"] < 0.05
    for p in (80, 70, 60, 50):  # concentric, aligned isophotes of the same shape
        assert feats[f"offset_p{p}"] < 0.5
        assert feats[f"aspect_p{p}"] == pytest.approx(1.0, abs=0.05)
        assert feats[f"theta_p{p}"] < 2.0


@pytest.mark.parametrize("angle", [90, 37])
def test_rotation_invariance(angle):
    """Stated tolerance: residual +-0.02, offset +-0.5 px, aspect +-3 %, theta +-2 degrees."""
    img = _profile(centres=((100.0, 100.0, 1.0), (112.0, 96.0, 0.4)))
    if angle == 90:
        rot = np.rot90(img).copy()
    else:
        m = cv2.getRotationMatrix2D((100.0, 100.0), angle, 1.0)
        rot = cv2.warpAffine(img, m, img.shape[::-1], flags=cv2.INTER_LINEAR, borderValue=10)
    f0, f1 = image_features(img).values, image_features(rot).values
    for name, a, b in zip(NAMES, f0, f1, strict=True):
        tol = {"residual": 0.02, "offset": 0.5, "aspect": 0.03 * a, "theta": 2.0}[
            name.split("_")[0]
        ]
        assert abs(a - b) <= tol, (name, a, b)


def test_two_overlapping_blobs_have_larger_offset_and_residual():
    one = image_features(_profile(a=20.0, b=20.0)).values
    two = image_features(
        _profile(centres=((100.0, 100.0, 1.0), (135.0, 100.0, 0.7)), a=20.0, b=20.0)
    ).values
    offsets = [NAMES.index(f"offset_p{p}") for p in (80, 70, 60, 50, 0)]
    residuals = [NAMES.index(f"residual_p{p}") for p in (90, 80, 70, 60, 50, 0)]
    assert two[offsets].max() > one[offsets].max() + 2.0
    assert two[residuals].max() > 3.0 * one[residuals].max()


def test_failure_is_a_reason_not_an_exception():
    res = image_features(np.zeros((50, 50), dtype=np.uint8))
    assert res.values is None and "constant image" in res.reason
