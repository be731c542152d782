"""Ellipse-fitting morphology features (paper Appendix B, steps 3-6): 21 numbers per image.

On the preprocessed central source (zero outside the central contour):

- thresholds at the 90, 80, 70, 60, 50 and 0 percentiles of the source's (non-zero) pixels;
- for each, the external OpenCV contour of ``pixels >= threshold`` nearest the image centre
  (the one enclosing it, else the closest) and an OpenCV least-squares ellipse fit;
- per level: **residual** = area of the symmetric difference between the filled ellipse and the
  filled contour / area of the filled contour (dimensionless, 0 for a perfect ellipse);
  **offset** = distance from the ellipse centre to the 90th-percentile ellipse's centre (pixels);
  **aspect** = (major/minor axis) / (that of the 90th-percentile ellipse);
  **theta** = |major-axis angle - that of the 90th|, folded onto 0..90 degrees.

Features: the six residuals, then offset, aspect, theta for the five outer levels (80..0).
Failures never raise from :func:`image_features`: they come back as a reason string.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_right
from dataclasses import dataclass

import cv2
import numpy as np

from astroanom.features.preprocess import (
    CentralSource,
    Preprocessed,
    PreprocessFailure,
    find_central_source,
    sigma_clip_central,
    to_plane,
)

PERCENTILES: tuple[int, ...] = (90, 80, 70, 60, 50, 0)
ELLIPSE_FEATURE_NAMES: tuple[str, ...] = tuple(
    [f"residual_p{p}" for p in PERCENTILES]
    + [f"{q}_p{p}" for p in PERCENTILES[1:] for q in ("offset", "aspect", "theta")]
)
N_FEATURES = len(ELLIPSE_FEATURE_NAMES)  # 21


class EllipseFailure(Exception):
    """The ellipse features cannot be computed; ``str(exc)`` is the recorded reason."""


@dataclass(frozen=True)
class Ellipse:
    """A fitted ellipse: centre (x, y) in pixels, full axes major >= minor (pixels), angle of
    the major axis in degrees on [0, 180)."""

    cx: float
    cy: float
    major: float
    minor: float
    angle: float


_QUANTILES = np.true_divide(np.asarray(PERCENTILES), 100)


def _percentiles(vals: np.ndarray) -> np.ndarray:
    """``np.percentile(vals, PERCENTILES)`` (default linear method), bit for bit, from one sort.

    Replicates numpy's index, weight and interpolation arithmetic (numpy 2.x ``_quantile`` and
    ``_lerp``) on the sorted values instead of numpy's generic partition path, which costs ~8x
    more for these ~10^4-pixel sources; tests/test_feature_equivalence.py checks the identity.
    """
    return _lerp_percentiles(np.sort(vals, axis=None).__getitem__, vals.size)


def _percentiles_integral(vals: np.ndarray) -> np.ndarray:
    """:func:`_percentiles` of non-negative integer values (the pixels of an 8- or 16-bit
    image, any dtype): the sorted values at the few indices needed come from a histogram
    instead of a sort."""
    return _lerp_percentiles(_sorted_from_counts(vals), vals.size)


def _levels(vals: np.ndarray, integral: bool) -> np.ndarray:
    """The PERCENTILES thresholds of a source's pixel values (``integral``: see Preprocessed)."""
    return _percentiles_integral(vals) if integral else _percentiles(vals)


def _lerp_percentiles(take, n: int) -> np.ndarray:
    """numpy's linear-method percentile arithmetic given ``take(idx)`` = sorted values at idx."""
    virtual = (n - 1) * _QUANTILES
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = -1
    nxt[above] = -1
    prev_i = prev.astype(np.intp)
    gamma = virtual - prev_i
    a = take(prev_i)
    b = take(nxt.astype(np.intp))
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe")
    return out


def _sorted_from_counts(vals: np.ndarray):
    """``np.sort(vals)[idx]`` (negative idx from the end) for non-negative integer values,
    from their histogram: element i of the sorted array is the first value whose cumulative
    count exceeds i. Returns a function of the index array, giving ``vals.dtype``."""
    cum = np.cumsum(np.bincount(vals.astype(np.intp)))
    n = vals.size

    def take(idx: np.ndarray) -> np.ndarray:
        idx = np.where(idx < 0, idx + n, idx)
        return np.searchsorted(cum, idx, side="right").astype(vals.dtype)

    return take


def _nearest_contour(binary: np.ndarray, centre: tuple[float, float]) -> np.ndarray | None:
    """The external contour of ``binary`` (uint8 0/1) enclosing ``centre``, else the closest."""
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    if len(contours) == 1:
        return contours[0]
    dist = [cv2.pointPolygonTest(c, centre, True) for c in contours]
    return contours[int(np.argmax(dist))]


def fit_ellipse(contour: np.ndarray, level: int) -> Ellipse:
    """OpenCV ellipse fit of a contour (k, 1, 2); :class:`EllipseFailure` if degenerate."""
    if len(contour) < 5:
        raise EllipseFailure(
            f"p{level} contour has {len(contour)} < 5 points; cannot fit an ellipse"
        )
    (cx, cy), (w, h), angle = cv2.fitEllipse(contour)
    major, minor = (w, h) if w >= h else (h, w)
    if not (all(map(math.isfinite, (cx, cy, w, h, angle))) and minor > 1e-6):
        raise EllipseFailure(f"p{level} ellipse fit is degenerate (axes {w:.3g} x {h:.3g})")
    theta = angle if w >= h else angle + 90.0
    return Ellipse(float(cx), float(cy), float(major), float(minor), float(theta % 180.0))


def ellipse_residual(contour: np.ndarray, ell: Ellipse) -> float:
    """Symmetric-difference area of filled ellipse and filled contour / contour area."""
    pts = contour.reshape(-1, 2)
    half = 0.5 * ell.major + 2.0
    x0 = int(np.floor(min(pts[:, 0].min(), ell.cx - half))) - 1
    y0 = int(np.floor(min(pts[:, 1].min(), ell.cy - half))) - 1
    x1 = int(np.ceil(max(pts[:, 0].max(), ell.cx + half))) + 2
    y1 = int(np.ceil(max(pts[:, 1].max(), ell.cy + half))) + 2
    shape = (y1 - y0, x1 - x0)
    filled = np.zeros(shape, dtype=np.uint8)
    cv2.drawContours(filled, [contour], 0, 1, thickness=-1, offset=(-x0, -y0))
    drawn = np.zeros(shape, dtype=np.uint8)
    box = ((ell.cx - x0, ell.cy - y0), (ell.major, ell.minor), ell.angle)
    cv2.ellipse(drawn, box, 1, thickness=-1)
    area = np.count_nonzero(filled)
    return float(np.count_nonzero(filled != drawn)) / max(area, 1)


def ellipse_features(pre: Preprocessed) -> np.ndarray:
    """The 21 features (float64, order :data:`ELLIPSE_FEATURE_NAMES`) of a preprocessed source.

    Raises :class:`EllipseFailure` with the reason when a level has no usable contour.
    """
    img = pre.image
    nonzero = img != 0
    vals = img[nonzero]
    if vals.size < 5:
        raise EllipseFailure(f"central source has only {vals.size} pixels")
    levels = _levels(vals, pre.integral)
    centre = (float(pre.centre[0]), float(pre.centre[1]))
    ellipses: list[Ellipse] = []
    residuals: list[float] = []
    for p, t in zip(PERCENTILES, levels, strict=True):
        binary = (nonzero & (img >= t)).view(np.uint8)
        contour = _nearest_contour(binary, centre)
        if contour is None:
            raise EllipseFailure(f"no contour at the p{p} level (threshold {t:.4g})")
        ell = fit_ellipse(contour, p)
        ellipses.append(ell)
        residuals.append(ellipse_residual(contour, ell))
    ref = ellipses[0]
    ref_aspect = ref.major / ref.minor
    rel: list[float] = []
    for ell in ellipses[1:]:
        dtheta = abs(ell.angle - ref.angle) % 180.0
        rel += [
            float(np.hypot(ell.cx - ref.cx, ell.cy - ref.cy)),
            (ell.major / ell.minor) / ref_aspect,
            min(dtheta, 180.0 - dtheta),
        ]
    out = np.asarray(residuals + rel, dtype=np.float64)
    if not np.isfinite(out).all():
        raise EllipseFailure("non-finite feature value")
    return out


@dataclass
class FeatureResult:
    """Features (21,) of one image, or None and the reason it failed."""

    values: np.ndarray | None
    reason: str | None = None


def image_features(
    image: np.ndarray, n_sigma: float = 3.0, channel: int = 0, preset: str = "paper"
) -> FeatureResult:
    """Preprocess (sigma clip + central contour) and extract the ellipse features of one
    image (2-D, or (H, W, C) using ``channel``). Never raises for a bad image.

    ``preset="paper"``: Appendix B's text, 21 features. ``preset="astronomaly"``: the original
    code's six deviations (see :func:`astronomaly_features`), 30 features; its central cut is at
    median + 1 std of the ``n_sigma``-clipped statistics.
    """
    check_preset(preset)
    try:
        if preset == "astronomaly":
            plane = to_plane(np.asarray(image), channel)
            if plane.dtype == np.uint8:  # JPEG/PNG cutouts: the source's own 8-bit pixels
                src = find_central_source(
                    plane, n_sigma=n_sigma, threshold_sigma=ASTRONOMALY_CUT_SIGMA
                )
                return FeatureResult(astronomaly_features_8bit(src))
            pre = sigma_clip_central(plane, n_sigma=n_sigma, threshold_sigma=ASTRONOMALY_CUT_SIGMA)
            return FeatureResult(astronomaly_features(pre))
        pre = sigma_clip_central(image, n_sigma=n_sigma, channel=channel)
        return FeatureResult(ellipse_features(pre))
    except (PreprocessFailure, EllipseFailure) as exc:
        return FeatureResult(None, str(exc))
    except cv2.error as exc:  # pragma: no cover - OpenCV rejects an unusual array
        return FeatureResult(None, f"OpenCV error: {str(exc).strip().splitlines()[-1]}")


# ------------------------------------------------------------------------------------------
# The "astronomaly" preset: what the original code (Astronomaly's shape_features.py and
# image_preprocessing.py) computes, which departs from Appendix B's text in six ways:
# 1. central cut at median + 1 std (clip statistics still 3 sigma);
# 2. level masks are ``pixel > level`` (not >=);
# 3. contours with CHAIN_APPROX_SIMPLE (compressed points);
# 4. theta = |raw OpenCV angle difference| mod 360, then d > 90 -> d - 90;
# 5. residual = differing pixels of filled ellipse (integer-rounded) and filled contour / image
#    area (H * W);
# 6. per level the contour whose (integer) centroid is nearest the first level's centroid (the
#    first level: nearest the image centre); a contour with < 5 points, no contour, or an
#    ellipse centre outside the image fails the whole image.

PRESETS: tuple[str, ...] = ("paper", "astronomaly")
ASTRONOMALY_CUT_SIGMA = 1.0
ASTRONOMALY_FEATURE_NAMES: tuple[str, ...] = (
    ELLIPSE_FEATURE_NAMES
    + ("offset_p90", "aspect_p90", "theta_p90")
    + tuple(f"abs_aspect_p{p}" for p in PERCENTILES)
)


def check_preset(preset: str) -> None:
    """Raise ValueError naming the known presets if ``preset`` is not one of them."""
    if preset not in PRESETS:
        raise ValueError(f"unknown ellipse feature preset {preset!r}; use one of {list(PRESETS)}")


def feature_names(preset: str = "paper") -> tuple[str, ...]:
    """Column names of a preset: 21 for "paper", 30 for "astronomaly" (the 21, then the
    constants offset_p90 = 0, aspect_p90 = 1, theta_p90 = 0, then the six absolute aspects)."""
    check_preset(preset)
    return ELLIPSE_FEATURE_NAMES if preset == "paper" else ASTRONOMALY_FEATURE_NAMES


@dataclass(frozen=True)
class RawEllipse:
    """``cv2.fitEllipse`` output as is: centre (x, y) and full axes (w, h) in pixels, angle in
    degrees (OpenCV's, of the w axis; w may be the shorter one)."""

    cx: float
    cy: float
    w: float
    h: float
    angle: float


def astronomaly_theta(angle: float, ref: float) -> float:
    """Deviation 4: |angle - ref| mod 360, minus 90 if above 90 (degrees; 160 -> 70)."""
    d = abs(angle - ref) % 360.0
    return d - 90.0 if d > 90.0 else d


def astronomaly_aspect(w: float, h: float) -> float:
    """Axis ratio >= 1 of a raw fit; 1 for a zero axis or a ratio above 100."""
    if w == 0 or h == 0:
        return 1.0
    a = h / w
    if a < 1:
        a = 1.0 / a
    return 1.0 if a > 100 else float(a)


def contour_centroid(contour: np.ndarray) -> tuple[int, int]:
    """Centroid (x, y) of a contour polygon from its moments, truncated to int; (0, 0) if the
    polygon has zero area (as the original code leaves it)."""
    m = cv2.moments(contour)
    if m["m00"] == 0:
        return 0, 0
    return int(m["m10"] / m["m00"]), int(m["m01"] / m["m00"])


def nearest_centroid_contour(
    contours: tuple[np.ndarray, ...] | list[np.ndarray], ref: tuple[float, float]
) -> int:
    """Deviation 6: index of the contour whose centroid is nearest ``ref`` (x, y; first wins)."""
    cen = np.array([contour_centroid(c) for c in contours], dtype=np.float64)
    return int(np.argmin(np.hypot(cen[:, 0] - ref[0], cen[:, 1] - ref[1])))


def fit_raw_ellipse(contour: np.ndarray, shape: tuple[int, int], level: int) -> RawEllipse:
    """OpenCV fit of a full-frame contour; :class:`EllipseFailure` for < 5 points, an OpenCV
    error, a NaN, or a centre outside [0, H] (the original code's test, H = rows)."""
    if len(contour) < 5:
        raise EllipseFailure(
            f"p{level} contour has {len(contour)} < 5 points (CHAIN_APPROX_SIMPLE); "
            "the astronomaly preset fails the image"
        )
    try:
        (cx, cy), (w, h), angle = cv2.fitEllipse(contour)
    except cv2.error as exc:
        raise EllipseFailure(f"p{level} ellipse fit failed in OpenCV") from exc
    if not all(map(math.isfinite, (cx, cy, w, h, angle))):
        raise EllipseFailure(f"p{level} ellipse fit is not finite")
    if cx < 0 or cy < 0 or cx > shape[0] or cy > shape[0]:
        raise EllipseFailure(f"p{level} ellipse centre ({cx:.1f}, {cy:.1f}) lies outside the image")
    return RawEllipse(float(cx), float(cy), float(w), float(h), float(angle))


def astronomaly_residual(contour: np.ndarray, ell: RawEllipse, shape: tuple[int, int]) -> float:
    """Deviation 5: pixels that differ between the filled contour and the filled ellipse drawn
    with integer-rounded centre, half-axes and angle, / (H * W) of the full image."""
    filled = np.zeros(shape, dtype=np.uint8)
    cv2.drawContours(filled, [contour], 0, 1, thickness=-1)
    drawn = np.zeros(shape, dtype=np.uint8)
    centre = (int(np.round(ell.cx)), int(np.round(ell.cy)))
    axes = (int(np.round(ell.w)) // 2, int(np.round(ell.h)) // 2)
    cv2.ellipse(drawn, centre, axes, int(np.round(ell.angle)), 0, 360, 1, thickness=-1)
    return float(np.count_nonzero(filled != drawn)) / float(shape[0] * shape[1])


#: OpenCV's contour-moment scale factors (``cv::contourMoments``): m00 = a00 / 2 and
#: m10 = a10 / 6 as multiplications by these doubles, negated for clockwise contours.
_HALF = 0.5
_SIXTH = 0.16666666666666666666666666666667


def contour_centroids(contours: tuple[np.ndarray, ...] | list[np.ndarray]) -> np.ndarray:
    """:func:`contour_centroid` of every contour at once: (k, 2) float64 of the integer-truncated
    centroids (x, y), (0, 0) for a zero-area polygon.

    Integer contours make OpenCV's shoelace sums exact integers (below 2**53 for any image that
    fits in memory), so they are computed here in int64 and scaled by the same doubles in the same
    order as ``cv2.moments``: bit for bit the same centroids (tests/test_feature_equivalence.py).
    """
    kernel = _compiled_centroids()
    if kernel is not None:
        lengths = np.fromiter(map(len, contours), dtype=np.int64, count=len(contours))
        pts = np.concatenate(contours).reshape(-1, 2)
        return kernel(pts, lengths, _HALF, _SIXTH)
    return _numpy_centroids(contours)


_KERNEL: list = []


def _compiled_centroids():
    """The numba kernel (:mod:`astroanom.features._ellipse_numba`), or None without numba."""
    if not _KERNEL:
        try:
            from astroanom.features._ellipse_numba import shoelace_centroids
        except ImportError:  # pragma: no cover - numba is a dependency
            shoelace_centroids = None
        _KERNEL.append(shoelace_centroids)
    return _KERNEL[0]


def _numpy_centroids(contours: tuple[np.ndarray, ...] | list[np.ndarray]) -> np.ndarray:
    """:func:`contour_centroids` in numpy (int64 shoelace sums over the concatenated points)."""
    lengths = np.fromiter(map(len, contours), dtype=np.intp, count=len(contours))
    pts = np.concatenate(contours).reshape(-1, 2).astype(np.int64)
    starts = np.zeros(len(contours), dtype=np.intp)
    np.cumsum(lengths[:-1], out=starts[1:])
    prev = np.arange(-1, len(pts) - 1, dtype=np.intp)
    prev[starts] = starts + lengths - 1
    p = pts[prev]
    terms = np.empty((len(pts), 3), dtype=np.int64)
    np.subtract(p[:, 0] * pts[:, 1], pts[:, 0] * p[:, 1], out=terms[:, 0])  # x_prev*y - x*y_prev
    np.multiply(terms[:, :1], pts + p, out=terms[:, 1:])
    a = np.add.reduceat(terms, starts, axis=0).astype(np.float64)  # a00, a10, a01 per contour
    sign = np.where(a[:, 0] > 0, 1.0, -1.0)[:, None]
    m00 = a[:, :1] * (sign * _HALF)
    area = m00 != 0
    cen = np.trunc(a[:, 1:] * (sign * _SIXTH) / np.where(area, m00, 1.0))
    cen[~area[:, 0]] = 0.0
    return cen


def _nearest_centroid(contours: tuple[np.ndarray, ...], ref: tuple[float, float]) -> int:
    """:func:`nearest_centroid_contour` with the centroids from :func:`contour_centroids`."""
    if len(contours) == 1:
        return 0
    d = contour_centroids(contours) - ref
    return int(np.argmin(np.hypot(d[:, 0], d[:, 1])))


def _nearest_with_centroid(
    contours: tuple[np.ndarray, ...], ref: tuple[float, float]
) -> tuple[int, tuple[float, float]]:
    """:func:`_nearest_centroid` and that contour's :func:`contour_centroid` (as floats)."""
    if len(contours) == 1:
        cx, cy = contour_centroid(contours[0])
        return 0, (float(cx), float(cy))
    cen = contour_centroids(contours)
    d = cen - ref
    i = int(np.argmin(np.hypot(d[:, 0], d[:, 1])))
    return i, (float(cen[i, 0]), float(cen[i, 1]))


class _FrameBuffers(threading.local):
    """One zeroed uint8 frame per thread and image shape, reused by the residual: drawing into
    the full frame keeps OpenCV's rasterisation exactly that of :func:`astronomaly_residual`,
    and only the window that holds the drawings is counted and cleared afterwards."""

    def __init__(self) -> None:
        self.shape: tuple[int, int] | None = None
        self.frame = np.zeros((0, 0), dtype=np.uint8)

    def get(self, shape: tuple[int, int]) -> np.ndarray:
        if self.shape != shape:
            self.frame = np.zeros(shape, dtype=np.uint8)
            self.shape = shape
        return self.frame


_BUFFERS = _FrameBuffers()


def _residual_in_window(contour: np.ndarray, ell: RawEllipse, shape: tuple[int, int]) -> float:
    """:func:`astronomaly_residual`, drawing into one reused frame and counting only inside the
    union of the contour's bounding box and the ellipse's (centre +- longest half-axis + 2 px,
    which bounds OpenCV's filled ellipse polygon), clipped to the image.

    The filled contour F is drawn with 1 and counted (|F|), then the filled ellipse E over it
    with 2: the window then holds ``nz`` = |F - E| + |E| non-zero pixels summing to
    ``s`` = |F - E| + 2 |E|, and the pixels that differ, |F - E| + |E - F|, are
    ``3 nz - s - |F|`` (exact integers; one frame touched instead of two)."""
    frame = _BUFFERS.get(shape)
    # round(): ties to even, as np.round
    centre = (round(ell.cx), round(ell.cy))
    axes = (round(ell.w) // 2, round(ell.h) // 2)
    bx, by, bw, bh = cv2.boundingRect(contour)
    r = max(axes) + 2
    x0 = max(min(bx, centre[0] - r), 0)
    y0 = max(min(by, centre[1] - r), 0)
    x1 = min(max(bx + bw, centre[0] + r + 1), shape[1])
    y1 = min(max(by + bh, centre[1] + r + 1), shape[0])
    win = frame[y0:y1, x0:x1]
    try:
        cv2.drawContours(frame, [contour], 0, 1, thickness=-1)
        n_filled = cv2.countNonZero(win)
        cv2.ellipse(frame, centre, axes, round(ell.angle), 0, 360, 2, thickness=-1)
        nz = cv2.countNonZero(win)
        n = 3 * nz - int(cv2.sumElems(win)[0]) - n_filled
    finally:
        win[...] = 0
    return n / float(shape[0] * shape[1])


def astronomaly_features(pre: Preprocessed) -> np.ndarray:
    """The 30 features (order :data:`ASTRONOMALY_FEATURE_NAMES`) as the original code computes
    them on the full-frame preprocessed image; :class:`EllipseFailure` fails the whole image.

    Works on the central source's crop (every pixel outside it is 0, so the full frame's
    contours are the crop's, found with OpenCV's ``offset``), with percentiles from one sort,
    vectorised contour centroids, and the residual counted in a window: bit for bit the
    full-frame computation (tests/test_feature_equivalence.py holds that reference).
    :func:`astronomaly_features_8bit` is the same on an 8-bit source's own pixels.
    """
    img = pre.image
    shape = (int(pre.shape[0]), int(pre.shape[1]))
    offset = (int(pre.bbox[0]), int(pre.bbox[1]))
    vals = img[img > 0]
    if vals.size == 0:
        raise EllipseFailure("central source has no positive pixel")
    levels = _levels(vals, pre.integral)

    def contours_at(t: np.float64) -> tuple[np.ndarray, ...]:
        binary = (img > t).view(np.uint8)
        return cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=offset)[
            0
        ]

    return _astronomaly_levels(levels, [float(t) for t in levels], contours_at, shape)


def astronomaly_features_8bit(src: CentralSource) -> np.ndarray:
    """:func:`astronomaly_features` of an 8-bit image's central source, from its uint8 pixels.

    ``src`` comes from :func:`~astroanom.features.preprocess.find_central_source` on a uint8
    plane (the preprocessed image is then those pixels, 0 outside the central contour, as
    :func:`~astroanom.features.preprocess.sigma_clip_central` builds it in float32). On
    integers ``pixel > t`` is ``pixel > floor(t)``, so each level is one integer comparison of
    the uint8 crop, and levels with the same floor share one binary image and its contours.
    The contours of a level are found in the bounding box of its pixels (from the row and
    column maxima; OpenCV pads the image with zeros, so a tighter box around the same pixels
    gives the same contours), not in the whole source's box. The percentiles come from the
    crop's histogram. Bit for bit :func:`astronomaly_features` of the float32 crop
    (tests/test_ellipse_fast_paths.py).
    """
    x, y, w, h = src.bbox
    crop = src.finite[y : y + h, x : x + w] * src.mask  # mask is 0/1: zero outside the contour
    shape = (int(src.finite.shape[0]), int(src.finite.shape[1]))
    counts = cv2.calcHist([crop], [0], None, [256], [0, 256]).ravel()
    counts[0] = 0  # the positive pixels only
    cum = np.cumsum(counts.astype(np.int64)).tolist()
    n = cum[-1]
    if n == 0:
        raise EllipseFailure("central source has no positive pixel")
    levels = _levels_from_cumulative(cum, n)
    rows = _PixelBox(crop.max(axis=1))
    cols = _PixelBox(crop.max(axis=0))

    def contours_at(t: float) -> tuple[np.ndarray, ...]:
        v = math.floor(t)  # levels lie in [1, 255]: pixels > t are pixels > v
        r0, r1 = rows.span(v)
        if r0 >= r1:
            return ()
        c0, c1 = cols.span(v)
        binary = np.greater(crop[r0:r1, c0:c1], v).view(np.uint8)
        return cv2.findContours(
            binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x + c0, y + r0)
        )[0]

    keys = [float(math.floor(t)) for t in levels]
    return _astronomaly_levels(levels, keys, contours_at, shape)


class _PixelBox:
    """First and last index along one axis of an 8-bit image holding a pixel > v, for any v,
    from the maxima ``peak`` (n,) across the other axis: the running maxima from either end are
    non-decreasing, so each end is one bisection."""

    def __init__(self, peak: np.ndarray) -> None:
        self.n = len(peak)
        self.head = np.maximum.accumulate(peak).tolist()
        self.tail = np.maximum.accumulate(peak[::-1]).tolist()

    def span(self, v: int) -> tuple[int, int]:
        """(start, stop) of the indices whose maximum is > v; start >= stop when none is."""
        return bisect_right(self.head, v), self.n - bisect_right(self.tail, v)


_QUANTILE_LIST: list[float] = _QUANTILES.tolist()


def _levels_from_cumulative(cum: list[int], n: int) -> list[float]:
    """:func:`_lerp_percentiles` in Python floats (the same IEEE double operations, in the same
    order, without numpy's per-call cost) for integer pixel values: ``cum[v]`` = number of the
    ``n`` values <= v, so the i-th smallest value is the first v with ``cum[v] > i``."""
    out = []
    for q in _QUANTILE_LIST:
        virtual = (n - 1) * q
        prev = -1 if virtual >= n - 1 else math.floor(virtual)
        nxt = -1 if prev == -1 else prev + 1
        gamma = virtual - prev
        a = float(bisect_right(cum, prev + n if prev < 0 else prev))
        b = float(bisect_right(cum, nxt + n if nxt < 0 else nxt))
        diff = b - a
        out.append(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)
    return out


def _astronomaly_levels(
    levels: np.ndarray | list[float], keys: list[float], contours_at, shape: tuple[int, int]
) -> np.ndarray:
    """The per-level loop of the astronomaly preset: for each level t (PERCENTILES order) the
    full-frame external contours ``contours_at(t)`` of pixels > t, found once per distinct key
    (levels with equal keys have the same binary image), the contour nearest the reference
    centroid, its raw fit and windowed residual (once per distinct contour), then the row."""
    ref: tuple[float, float] = (float(shape[0] // 2), float(shape[1] // 2))
    fits: list[RawEllipse] = []
    residuals: list[float] = []
    found: dict[float, tuple[np.ndarray, ...]] = {}  # contours once per distinct key
    done: dict[tuple[float, int], tuple[RawEllipse, float]] = {}
    # t stays a numpy float64: compared with a float32 image it must not be cast to float32
    for k, (p, t, key) in enumerate(zip(PERCENTILES, levels, keys, strict=True)):
        contours = found.get(key)
        if contours is None:
            contours = found[key] = contours_at(t)
        if not contours:
            raise EllipseFailure(f"no contour at the p{p} level (pixels > {t:.4g})")
        if k == 0:  # the first level's contour nearest the centre sets the reference
            i, ref = _nearest_with_centroid(contours, ref)
        else:
            i = _nearest_centroid(contours, ref)
        c = contours[i]
        hit = done.get((key, i))
        if hit is None:  # same binary, same contour: same fit
            ell = fit_raw_ellipse(c, shape, p)
            hit = done[(key, i)] = (ell, _residual_in_window(c, ell, shape))
        fits.append(hit[0])
        residuals.append(hit[1])
    return _astronomaly_row(fits, residuals)


def astronomaly_features_full_frame(pre: Preprocessed) -> np.ndarray:
    """:func:`astronomaly_features` computed plainly on the full frame (numpy percentiles,
    ``cv2.moments`` per contour, full-size drawings): the reference the fast path is tested
    against, and what the original code does step by step."""
    img = pre.full()
    shape = (int(img.shape[0]), int(img.shape[1]))
    vals = img[img > 0]
    if vals.size == 0:
        raise EllipseFailure("central source has no positive pixel")
    levels = np.percentile(vals, PERCENTILES)
    ref: tuple[float, float] = (float(shape[0] // 2), float(shape[1] // 2))
    fits: list[RawEllipse] = []
    residuals: list[float] = []
    for k, (p, t) in enumerate(zip(PERCENTILES, levels, strict=True)):
        binary = (img > t).view(np.uint8)
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            raise EllipseFailure(f"no contour at the p{p} level (pixels > {t:.4g})")
        c = contours[nearest_centroid_contour(contours, ref)]
        if k == 0:
            ref = tuple(float(v) for v in contour_centroid(c))  # type: ignore[assignment]
        ell = fit_raw_ellipse(c, shape, p)
        fits.append(ell)
        residuals.append(astronomaly_residual(c, ell, shape))
    return _astronomaly_row(fits, residuals)


def _astronomaly_row(fits: list[RawEllipse], residuals: list[float]) -> np.ndarray:
    """The 30 values from the six levels' raw fits and residuals (p90 first)."""
    r0 = fits[0]
    aspects = [astronomaly_aspect(e.w, e.h) for e in fits]
    offsets = [
        0.0 if (e.cx == 0 or e.cy == 0) else float(np.hypot(e.cx - r0.cx, e.cy - r0.cy))
        for e in fits
    ]
    rel_aspect = [a / aspects[0] for a in aspects]
    thetas = [astronomaly_theta(e.angle, r0.angle) for e in fits]
    rel: list[float] = []
    for j in range(1, len(fits)):
        rel += [offsets[j], rel_aspect[j], thetas[j]]
    out = np.asarray(
        residuals + rel + [offsets[0], rel_aspect[0], thetas[0]] + aspects, dtype=np.float64
    )
    if not np.isfinite(out).all():
        raise EllipseFailure("non-finite feature value")
    return out
