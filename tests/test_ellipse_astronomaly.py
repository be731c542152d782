"""The "astronomaly" ellipse preset: each of the original code's six deviations from Appendix
B's text changes a value in a way worked out by hand on a small constructed image."""

import cv2
import numpy as np
import pytest

from astroanom.features.ellipse import (
    ASTRONOMALY_FEATURE_NAMES,
    ELLIPSE_FEATURE_NAMES,
    EllipseFailure,
    RawEllipse,
    _nearest_contour,
    astronomaly_features,
    astronomaly_residual,
    astronomaly_theta,
    ellipse_features,
    feature_names,
    fit_raw_ellipse,
    image_features,
    nearest_centroid_contour,
)
from astroanom.features.preprocess import (
    ClipStats,
    Preprocessed,
    sigma_clip_central,
    sigma_clipped_stats,
)

NAMES = list(ASTRONOMALY_FEATURE_NAMES)


def _pre(img: np.ndarray) -> Preprocessed:
    """A preprocessed source as is (no cut): the whole frame is the crop."""
    h, w = img.shape
    return Preprocessed(img.astype(np.float32), (0, 0, w, h), (h, w), ClipStats(0, 0, 1, 1), 0.0)


def _bump(size=201, cx=100.0, cy=100.0, a=12.0, b=6.0, deg=0.0, amp=100.0):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    t = np.deg2rad(deg)
    u = (xx - cx) * np.cos(t) + (yy - cy) * np.sin(t)
    v = -(xx - cx) * np.sin(t) + (yy - cy) * np.cos(t)
    return amp * np.exp(-0.5 * ((u / a) ** 2 + (v / b) ** 2))


def test_names_30_columns_paper_21_first():
    assert len(NAMES) == 30 and feature_names("paper") == ELLIPSE_FEATURE_NAMES
    assert NAMES[:21] == list(ELLIPSE_FEATURE_NAMES)
    assert NAMES[21:24] == ["offset_p90", "aspect_p90", "theta_p90"]
    assert NAMES[24:] == [f"abs_aspect_p{p}" for p in (90, 80, 70, 60, 50, 0)]
    with pytest.raises(ValueError, match="astronomaly"):
        feature_names("table1")


def test_constants_and_absolute_aspects_on_an_ellipse():
    """Smooth 2:1 elliptical profile: constants are 0, 1, 0; absolute aspect ~2 at every level;
    relative aspect = absolute / absolute of p90 exactly."""
    img = np.rint(_bump(a=24.0, b=12.0, deg=30.0) + 1.0)
    f = dict(zip(NAMES, astronomaly_features(_pre(img)), strict=True))
    assert (f["offset_p90"], f["aspect_p90"], f["theta_p90"]) == (0.0, 1.0, 0.0)
    for p in (90, 80, 70, 60, 50, 0):
        assert f[f"abs_aspect_p{p}"] == pytest.approx(2.0, rel=0.1)
    for p in (80, 70, 60, 50, 0):
        assert f[f"aspect_p{p}"] == pytest.approx(f[f"abs_aspect_p{p}"] / f["abs_aspect_p90"])


def test_deviation3_simple_chain_keeps_only_corners():
    """An octagon: CHAIN_APPROX_SIMPLE keeps its 8 vertices, NONE every boundary pixel; the
    preset's fit is the fit of the 8 vertices, which differs from the full-boundary fit."""
    verts = np.array(
        [[40, 20], [60, 20], [80, 40], [80, 60], [60, 80], [40, 80], [20, 60], [20, 40]]
    )
    binary = np.zeros((101, 101), dtype=np.uint8)
    cv2.fillPoly(binary, [verts.reshape(-1, 1, 2).astype(np.int32)], 1)
    simple, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    full, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    assert len(simple[0]) == 8 and len(full[0]) > 100
    assert {tuple(p) for p in simple[0].reshape(-1, 2)} == {tuple(v) for v in verts}
    ell = fit_raw_ellipse(simple[0], (101, 101), 90)
    (_, _), (w8, h8), _ = cv2.fitEllipse(verts.astype(np.float32))
    assert (ell.w, ell.h) == pytest.approx((w8, h8))
    (_, _), (wf, hf), _ = cv2.fitEllipse(full[0])
    assert abs(ell.w - wf) > 1.0  # the vertex-only fit is a different circle


def test_deviation3_rectangle_has_four_points_and_fails_the_image():
    """Nested rectangles: every level's SIMPLE contour has 4 points -> the preset fails the
    image (< 5 points); the paper preset (all points) computes its features."""
    img = np.zeros((101, 101))
    for half, v in ((30, 10.0), (24, 20.0), (18, 30.0), (12, 40.0), (8, 50.0), (5, 60.0)):
        img[50 - half : 51 + half, 50 - half // 2 : 51 + half // 2] = v
    with pytest.raises(EllipseFailure, match="4 < 5 points"):
        astronomaly_features(_pre(img))
    assert ellipse_features(_pre(img)).shape == (21,)


def test_deviation4_theta_not_folded_to_acute():
    assert astronomaly_theta(170.0, 10.0) == 70.0  # the paper's fold gives 20
    assert astronomaly_theta(10.0, 170.0) == 70.0
    assert astronomaly_theta(100.0, 10.0) == 90.0  # exactly 90 stays
    assert astronomaly_theta(350.0, 10.0) == 250.0  # only one subtraction of 90
    assert astronomaly_theta(45.0, 5.0) == 40.0


def test_deviation5_residual_over_image_area():
    """A filled 21x21 square (441 px) and a disjoint drawn ellipse: the residual is
    (441 + ellipse pixels) / (H * W), so doubling the frame divides it by 4."""
    binary = np.zeros((100, 100), dtype=np.uint8)
    binary[40:61, 40:61] = 1
    contour = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0][0]
    ell = RawEllipse(10.2, 9.8, 8.4, 6.0, 30.4)  # drawn at (10, 10), half-axes (4, 3), 30 deg
    drawn = np.zeros((100, 100), dtype=np.uint8)
    cv2.ellipse(drawn, (10, 10), (4, 3), 30, 0, 360, 1, thickness=-1)
    n_ell = int(drawn.sum())
    assert astronomaly_residual(contour, ell, (100, 100)) == (441 + n_ell) / 10_000
    assert astronomaly_residual(contour, ell, (200, 200)) == (441 + n_ell) / 40_000


def test_deviation2_strict_threshold_at_the_minimum():
    """A plateau of value 1 (disc r = 40 at x = 100) under a plateau of 2 (disc r = 30 at
    x = 110) under a smooth bump at x = 110: the p0 level is exactly 1; '>=' keeps the r = 40
    disc (offset_p0 = 10 px from the bump), '>' keeps the r = 30 disc (offset_p0 = 0)."""
    img = np.zeros((201, 201), dtype=np.float64)
    cv2.circle(img, (100, 100), 40, 1.0, thickness=-1)
    cv2.circle(img, (110, 100), 30, 2.0, thickness=-1)
    img += _bump(cx=110.0, a=8.0, b=8.0) * (img > 1.5)
    paper = dict(zip(ELLIPSE_FEATURE_NAMES, ellipse_features(_pre(img)), strict=True))
    orig = dict(zip(NAMES, astronomaly_features(_pre(img)), strict=True))
    assert paper["offset_p0"] == pytest.approx(10.0, abs=0.5)
    assert orig["offset_p0"] == pytest.approx(0.0, abs=0.5)


def test_deviation2_flat_source_fails_with_strict_threshold():
    """All source pixels equal: every level equals that value; nothing is '>' it."""
    img = np.zeros((101, 101))
    cv2.circle(img, (50, 50), 20, 7.0, thickness=-1)
    with pytest.raises(EllipseFailure, match="no contour at the p90 level"):
        astronomaly_features(_pre(img))
    assert np.isfinite(ellipse_features(_pre(img))).all()


def test_deviation1_central_cut_one_std():
    """Sky 20 with isolated pixels of 24 (1 in 4), a faint disc of 23 (r = 40) and a core of
    60 (r = 8): the clipped median is 20; a cut at median + 1 std keeps the faint disc, the 3
    sigma cut only the core."""
    img = np.full((201, 201), 20, dtype=np.uint8)
    img[::2, ::2] = 24
    cv2.circle(img, (100, 100), 40, 23, thickness=-1)
    cv2.circle(img, (100, 100), 8, 60, thickness=-1)
    core = np.zeros_like(img)
    cv2.circle(core, (100, 100), 8, 1, thickness=-1)
    disc = np.zeros_like(img)
    cv2.circle(disc, (100, 100), 40, 1, thickness=-1)
    st = sigma_clipped_stats(img)
    assert st.median == 20.0
    one = sigma_clip_central(img, threshold_sigma=1.0)
    three = sigma_clip_central(img)
    assert one.threshold == pytest.approx(st.median + st.std)
    assert three.threshold == pytest.approx(st.median + 3 * st.std)
    assert 21.0 < one.threshold < 23.0 and 24.0 < three.threshold < 60.0
    assert np.count_nonzero(three.full()) == int(core.sum())
    n_one = np.count_nonzero(one.full())
    assert int(disc.sum()) <= n_one <= int(disc.sum()) + 2 * np.pi * 41  # + touching 24s


def test_deviation6_nearest_centroid_not_the_enclosing_contour():
    """Two squares: A = [20, 80]^2 (centroid (50, 50)) encloses the point (70, 70);
    B = [82, 88]^2 (centroid (85, 85)) is nearer by centroid (21.2 vs 28.3 px)."""
    binary = np.zeros((101, 101), dtype=np.uint8)
    binary[20:81, 20:81] = 1
    binary[82:89, 82:89] = 1
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    b = nearest_centroid_contour(contours, (70.0, 70.0))
    assert cv2.boundingRect(contours[b]) == (82, 82, 7, 7)
    assert cv2.boundingRect(_nearest_contour(binary, (70.0, 70.0))) == (20, 20, 61, 61)


def test_deviation6_centre_outside_the_image_fails():
    """Points on an arc of a circle centred at (-50, 50), r = 60: the fitted centre is outside."""
    phi = np.linspace(-0.5, 0.5, 40)
    pts = np.stack([-50 + 60 * np.cos(phi), 50 + 60 * np.sin(phi)], axis=1)
    contour = np.rint(pts).astype(np.int32).reshape(-1, 1, 2)
    with pytest.raises(EllipseFailure, match="outside the image"):
        fit_raw_ellipse(contour, (101, 101), 0)


def test_image_features_presets_and_failure_reason():
    img = np.clip(np.rint(_bump(a=24.0, b=12.0, deg=30.0, amp=180.0) + 10.0), 0, 255)
    img = img.astype(np.uint8)
    paper = image_features(img)
    assert paper.values is not None and paper.values.shape == (21,)
    orig = image_features(img, preset="astronomaly")
    assert orig.values is not None and orig.values.shape == (30,)
    flat = np.zeros((64, 64), dtype=np.uint8)
    flat[20:44, 20:44] = 200
    flat[29:35, 29:35] = 220  # 36 of 576 px (6 %): the p90 level is 200, '> 200' a 4-point square
    res = image_features(flat, preset="astronomaly")
    assert res.values is None and "< 5 points" in res.reason
    with pytest.raises(ValueError, match="unknown ellipse feature preset"):
        image_features(img, preset="table1")
