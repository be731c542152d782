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

from dataclasses import dataclass

import cv2
import numpy as np

from astroanom.features.preprocess import Preprocessed, PreprocessFailure, sigma_clip_central

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
    s = np.sort(vals, axis=None)
    n = s.size
    virtual = (n - 1) * _QUANTILES
    prev = np.floor(virtual)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = -1
    nxt[above] = -1
    prev_i = prev.astype(np.intp)
    gamma = virtual - prev_i
    a = s[prev_i]
    b = s[nxt.astype(np.intp)]
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe")
    return out


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
    if not (np.isfinite([cx, cy, w, h, angle]).all() and minor > 1e-6):
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
    levels = _percentiles(vals)
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


def image_features(image: np.ndarray, n_sigma: float = 3.0, channel: int = 0) -> FeatureResult:
    """Preprocess (sigma clip + central contour) and extract the 21 ellipse features of one
    image (2-D, or (H, W, C) using ``channel``). Never raises for a bad image."""
    try:
        pre = sigma_clip_central(image, n_sigma=n_sigma, channel=channel)
        return FeatureResult(ellipse_features(pre))
    except (PreprocessFailure, EllipseFailure) as exc:
        return FeatureResult(None, str(exc))
    except cv2.error as exc:  # pragma: no cover - OpenCV rejects an unusual array
        return FeatureResult(None, f"OpenCV error: {str(exc).strip().splitlines()[-1]}")
