"""Image preprocessing of the ellipse-fitting chain (paper Appendix B, steps 1-2).

1. Sigma-clipped statistics of the image (3 sigma, iterated, as ``astropy.stats.sigma_clipped_stats``
   with its defaults: median centre, population standard deviation, at most 5 iterations).
2. Threshold at ``median + n_sigma * std`` and keep only the OpenCV contour that encloses the image
   centre (filled); every other pixel is set to 0.

The clip is computed on the *distinct values* of the image with their counts: a clip only ever
keeps a contiguous range of sorted values, so median, mean and standard deviation of the kept
pixels follow from cumulative counts and sums in O(log n) per iteration. For 8-bit images the
distinct values come from one ``bincount`` (exact, ~0.3 ms for 424x424); float images are sorted
once (exact), or a fixed strided subsample of at most ``max_pixels`` is used for very large ones.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

DEFAULT_SIGMA = 3.0
DEFAULT_MAXITERS = 5
NONFINITE_RADIUS = 3  # px: a NaN/inf this close to the centre (7x7 box) fails the image


@dataclass(frozen=True)
class ClipStats:
    """Sigma-clipped mean, median and std (same units as the pixels) and pixels kept."""

    mean: float
    median: float
    std: float
    n_kept: int


class PreprocessFailure(Exception):
    """The image cannot be preprocessed; ``str(exc)`` is the reason recorded for the object."""


def _values_counts(image: np.ndarray, max_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct finite values (k,) of ``image`` and their counts (k,)."""
    if image.dtype == np.uint8 and image.ndim == 2 and image.size < (1 << 24):
        # float32 counts are exact below 2**24 pixels; ~1.5x faster than bincount
        counts = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel()
        values = np.flatnonzero(counts)
        return values.astype(np.float64), counts[values].astype(np.float64)
    if image.dtype == np.uint8 or image.dtype == np.uint16:
        counts = np.bincount(image.ravel())
        values = np.flatnonzero(counts)
        return values.astype(np.float64), counts[values].astype(np.float64)
    flat = image.ravel()
    flat = flat[np.isfinite(flat)]
    if flat.size > max_pixels:
        step = -(-flat.size // max_pixels)
        flat = flat[::step]
    values, counts = np.unique(flat.astype(np.float64), return_counts=True)
    return values, counts.astype(np.float64)


def _as_list(a: np.ndarray) -> list[float]:
    return a.tolist()


def _as_array(a: np.ndarray) -> np.ndarray:
    return a


def _median(cum: Sequence[float], values: Sequence[float], a: int, b: int) -> float:
    """Median of the pixels with values[a:b]; ``cum`` = cumulative counts with a leading 0."""
    base = cum[a]
    n = cum[b] - base
    # 0-based ranks of the lower and upper middle element among the kept pixels
    lo_rank, hi_rank = (n - 1) // 2, n // 2
    i_lo = bisect_right(cum, base + lo_rank) - 1
    i_hi = bisect_right(cum, base + hi_rank) - 1
    return 0.5 * (float(values[i_lo]) + float(values[i_hi]))


def sigma_clipped_stats(
    image: np.ndarray,
    sigma: float = DEFAULT_SIGMA,
    maxiters: int = DEFAULT_MAXITERS,
    max_pixels: int = 1 << 20,
) -> ClipStats:
    """Iterative ``sigma`` clipping about the median; NaN/inf pixels are ignored.

    Agrees with ``astropy.stats.sigma_clipped_stats(image, sigma=sigma, maxiters=maxiters)``
    to floating-point round-off when the image has at most ``max_pixels`` finite pixels
    (tested in tests/test_preprocess.py). Raises :class:`PreprocessFailure` if no pixel is finite.
    """
    values, counts = _values_counts(np.ascontiguousarray(image), max_pixels)
    if values.size == 0:
        raise PreprocessFailure("no finite pixel values (all NaN or inf)")
    ref = values[values.size // 2]  # shift for numerically stable sums of squares
    shifted = values - ref
    # the loop runs on Python floats (the same IEEE doubles without numpy's per-call cost);
    # many distinct values (float images) stay arrays, which bisect indexes just as well
    seq = _as_list if values.size <= 65536 else _as_array
    cum = seq(np.concatenate([[0.0], np.cumsum(counts)]))
    s1 = seq(np.concatenate([[0.0], np.cumsum(counts * shifted)]))
    s2 = seq(np.concatenate([[0.0], np.cumsum(counts * shifted * shifted)]))
    vals = seq(values)
    a, b = 0, len(vals)
    for _ in range(maxiters):
        n = cum[b] - cum[a]
        med = _median(cum, vals, a, b)
        mean = (s1[b] - s1[a]) / n
        std = math.sqrt(max((s2[b] - s2[a]) / n - mean * mean, 0.0))
        na = bisect_left(vals, med - sigma * std)
        nb = bisect_right(vals, med + sigma * std)
        na, nb = max(na, a), min(nb, b)
        if (na, nb) == (a, b) or nb <= na:
            break
        a, b = na, nb
    n = cum[b] - cum[a]
    mean = (s1[b] - s1[a]) / n
    std = math.sqrt(max((s2[b] - s2[a]) / n - mean * mean, 0.0))
    return ClipStats(float(mean + float(ref)), float(_median(cum, vals, a, b)), std, int(n))


def to_plane(image: np.ndarray, channel: int = 0) -> np.ndarray:
    """The 2-D plane the features use: ``image`` itself if 2-D, else channel ``channel`` of an
    (H, W, C) array. Raises :class:`PreprocessFailure` for other shapes."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] >= 1:
        return image[:, :, min(channel, image.shape[2] - 1)]
    raise PreprocessFailure(f"expected a 2-D image or (H, W, C) array, got shape {image.shape}")


def central_mask(
    binary: np.ndarray, centre: tuple[int, int] | None = None
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """Filled region of the external contour of ``binary`` (uint8 0/1, (H, W)) that encloses
    ``centre`` (x, y; default the image centre), cropped to its bounding box, and the box
    (x, y, w, h) in pixels; None if no contour encloses the centre.

    Equivalent to ``cv2.findContours(RETR_EXTERNAL)`` + point-in-polygon test + filled
    ``drawContours``, without a Python loop over the (often hundreds of) noise contours: the
    background reachable from the border (4-connected) is flood-filled, what remains is
    foreground plus enclosed holes, and the 8-connected piece of it holding the centre is the
    filled external contour.
    """
    h, w = binary.shape
    cx, cy = centre if centre is not None else (w // 2, h // 2)
    if binary[cy, cx]:
        found = _central_mask_fg(binary, cx, cy)
        if found is not None:
            return found
    return central_mask_full_frame(binary, (cx, cy))


def central_mask_full_frame(
    binary: np.ndarray, centre: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """:func:`central_mask` by flood-filling the whole frame's border-connected background:
    always valid, slower than the bounding-box path; the reference that path is tested against."""
    h, w = binary.shape
    cx, cy = centre
    pad = cv2.copyMakeBorder(binary, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(pad, None, (0, 0), 2, flags=4)
    filled = (pad != 2).view(np.uint8)
    if not filled[cy + 1, cx + 1]:
        return None
    region = np.zeros((h + 4, w + 4), dtype=np.uint8)
    flags = 8 | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    _, _, _, (x, y, bw, bh) = cv2.floodFill(filled, region, (cx + 1, cy + 1), 1, flags=flags)
    # mask pixel (i + 1, j + 1) <-> filled pixel (i, j) <-> binary pixel (i - 1, j - 1)
    return region[y + 1 : y + 1 + bh, x + 1 : x + 1 + bw], (x - 1, y - 1, bw, bh)


def _central_mask_fg(
    binary: np.ndarray, cx: int, cy: int
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """:func:`central_mask` when the centre pixel is foreground, touching only the central
    source instead of the whole (noisy) background; None when it cannot decide.

    ``binary`` holds 0 and 1 only. The 8-connected foreground component C holding the centre
    is flood-filled. If a straight run of background pixels joins C to the image edge (up,
    down, left or right of the centre), C is not nested in another source's hole, and its
    filled external contour is C plus the pixels that no 4-connected path of non-C pixels joins
    to the border, computed in C's bounding box padded by one pixel. This equals the full-frame construction because with
    (8, 4) connectivity no other component can seal a region together with C or touch C's
    filled region; checked pixel for pixel against the full-frame path on random masks in
    tests/test_feature_equivalence.py.

    Without such a run (a noisy low cut) C may still be shown not nested: a component whose
    contour encloses C must cross every ray from C to the edge and have a bounding box holding
    C's; if no component met by the ray with the fewest foreground pixels has one
    (:func:`_ray_meets_encloser`), C's filled region is the answer. Otherwise the caller falls
    back to the full frame.
    """
    h, w = binary.shape
    # C's pixels are set to 2 in a copy (OpenCV's plain flood fill: faster than filling a mask)
    marks = binary.copy()
    _, _, _, (x, y, bw, bh) = cv2.floodFill(marks, None, (cx, cy), _MARK, flags=8)
    col = marks[:, cx] == _MARK
    row = marks[cy, :] == _MARK
    top = int(np.argmax(col))
    bottom = h - 1 - int(np.argmax(col[::-1]))
    left = int(np.argmax(row))
    right = w - 1 - int(np.argmax(row[::-1]))
    # the four rays from C's extreme pixels on the centre column and row to the image edge:
    # (foreground pixels on the ray, its pixel coordinates from an index along it)
    rays = (
        (binary[:top, cx], lambda i: (cx, i)),
        (binary[bottom + 1 :, cx], lambda i: (cx, bottom + 1 + i)),
        (binary[cy, :left], lambda i: (i, cy)),
        (binary[cy, right + 1 :], lambda i: (right + 1 + i, cy)),
    )
    counts = [int(np.count_nonzero(r)) for r, _ in rays]
    best = int(np.argmin(counts))
    # C's pixels in its box, with a 1-pixel ring of background around it
    win = np.zeros((bh + 2, bw + 2), dtype=np.uint8)
    np.equal(marks[y : y + bh, x : x + bw], _MARK, out=win[1:-1, 1:-1].view(bool))
    if counts[best] and _ray_meets_encloser(marks, rays[best], (x, y, bw, bh)):
        return None
    cv2.floodFill(win, None, (0, 0), 2, flags=4)
    return (win[1:-1, 1:-1] != 2).view(np.uint8), (x, y, bw, bh)


#: the value :func:`_central_mask_fg` gives flood-filled components in its copy of the 0/1 mask
_MARK = 2


def _ray_meets_encloser(marks: np.ndarray, ray, box) -> bool:
    """Whether a foreground component met by ``ray`` (pixels, index -> (x, y)) has a bounding
    box containing ``box`` (x, y, w, h, the central component C's): the only components that
    could enclose C. Each is flood-filled (8-connected) once in ``marks`` (the 0/1 mask with
    C's pixels already set to 2, which it extends); a C inside another component's contour
    always answers True, because a straight ray (a 4-connected path) cannot leave an
    8-connected closed curve without meeting it."""
    pixels, at = ray
    x, y, bw, bh = box
    for i in np.flatnonzero(pixels).tolist():
        px, py = at(i)
        if marks[py, px] == _MARK:
            continue  # a component already filled
        _, _, _, (dx, dy, dw, dh) = cv2.floodFill(marks, None, (px, py), _MARK, flags=8)
        if dx <= x and dy <= y and dx + dw >= x + bw and dy + dh >= y + bh:
            return True
    return False


@dataclass
class Preprocessed:
    """Central source of one image, cropped to its contour's bounding box ``bbox`` (x, y, w, h):
    ``image`` (h, w) float32 with every pixel outside the central contour set to 0; the full
    image's ``shape`` (H, W); the clip statistics and threshold used (pixel units)."""

    image: np.ndarray
    bbox: tuple[int, int, int, int]
    shape: tuple[int, int]
    stats: ClipStats
    threshold: float
    #: the pixels are non-negative integers (an 8- or 16-bit image), which faster paths use
    integral: bool = False

    @property
    def centre(self) -> tuple[float, float]:
        """The full image's centre (x, y) in the coordinates of the crop."""
        return (self.shape[1] // 2 - self.bbox[0], self.shape[0] // 2 - self.bbox[1])

    def full(self) -> np.ndarray:
        """The preprocessed image at full size (H, W), zero outside the central contour."""
        out = np.zeros(self.shape, dtype=np.float32)
        x, y, w, h = self.bbox
        out[y : y + h, x : x + w] = self.image
        return out


def _nonfinite_touching(bad: np.ndarray, mask: np.ndarray, bbox: tuple[int, int, int, int]) -> int:
    """Number of ``bad`` (H, W) pixels inside ``mask`` (h, w; at ``bbox`` x, y, w, h) or
    8-adjacent to it (a NaN notch cut into the source's edge counts too)."""
    x, y, w, h = bbox
    H, W = bad.shape
    x0, y0, x1, y1 = max(x - 1, 0), max(y - 1, 0), min(x + w + 1, W), min(y + h + 1, H)
    grown = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    grown[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = mask
    grown = cv2.dilate(grown, np.ones((3, 3), dtype=np.uint8))
    return int(np.count_nonzero(bad[y0:y1, x0:x1] & grown.astype(bool)))


def greater_8bit(plane: np.ndarray, threshold: float) -> np.ndarray:
    """``(plane > threshold)`` as uint8 0/1 for a uint8 ``plane``, compared in uint8: on integers
    ``> t`` is ``> floor(t)``. (``cv2.threshold`` gives the same pixels but splits a full frame
    across OpenCV's thread pool, whose hand-over costs more CPU than the comparison on a busy
    machine.)"""
    v = math.floor(threshold)
    if v < 0 or v >= 255:
        return np.full(plane.shape, int(v < 0), dtype=np.uint8)
    return np.greater(plane, v).view(np.uint8)


@dataclass
class CentralSource:
    """The central source of a 2-D image: its filled-contour ``mask`` (h, w) uint8 at ``bbox``
    (x, y, w, h), the image with NaN/inf replaced by the clipped median (``finite``, (H, W)),
    the clip statistics and the threshold used."""

    mask: np.ndarray
    bbox: tuple[int, int, int, int]
    finite: np.ndarray
    stats: ClipStats
    threshold: float

    def full_mask(self) -> np.ndarray:
        """Boolean (H, W): True inside the central contour."""
        out = np.zeros(self.finite.shape[:2], dtype=bool)
        x, y, w, h = self.bbox
        out[y : y + h, x : x + w] = self.mask.astype(bool)
        return out


def find_central_source(
    plane: np.ndarray, n_sigma: float = DEFAULT_SIGMA, threshold_sigma: float | None = None
) -> CentralSource:
    """Steps 1-2 of Appendix B on a 2-D image: sigma-clipped statistics (``n_sigma``), the cut
    at ``median + threshold_sigma * std`` (default ``n_sigma``), the contour enclosing the centre.

    Raises :class:`PreprocessFailure` (reason in the message) for an all-NaN or constant image,
    when no source above the threshold encloses the centre, or when a non-finite pixel (NaN/inf,
    e.g. a masked or saturated region of a FITS cutout) lies within ``NONFINITE_RADIUS`` pixels
    of the centre or inside the central source's filled contour: its value is unknown, so the
    features would describe a guess. Non-finite pixels elsewhere are ignored.
    """
    plane = np.ascontiguousarray(plane)
    if plane.shape[0] < 3 or plane.shape[1] < 3:
        raise PreprocessFailure(f"image too small ({plane.shape[1]}x{plane.shape[0]} pixels)")
    stats = sigma_clipped_stats(plane, sigma=n_sigma)
    finite = plane if plane.dtype.kind in "ui" else np.nan_to_num(plane, nan=stats.median)
    bad = None if plane.dtype.kind in "ui" else ~np.isfinite(plane)
    if bad is not None and bad.any():
        cy, cx, r = plane.shape[0] // 2, plane.shape[1] // 2, NONFINITE_RADIUS
        near = int(bad[max(cy - r, 0) : cy + r + 1, max(cx - r, 0) : cx + r + 1].sum())
        if near:
            raise PreprocessFailure(
                f"{near} non-finite pixel(s) (NaN/inf) within {r} px of the image centre"
            )
    else:
        bad = None
    if stats.std == 0.0 and (finite == stats.median).all():
        raise PreprocessFailure(f"constant image (every pixel = {stats.median:g})")
    cut_sigma = n_sigma if threshold_sigma is None else threshold_sigma
    threshold = stats.median + cut_sigma * stats.std
    if plane.dtype == np.uint8:
        binary = greater_8bit(plane, threshold)
    else:
        binary = np.ascontiguousarray((finite > threshold).view(np.uint8))
    found = central_mask(binary)
    if found is None:
        raise PreprocessFailure(
            f"no source above {cut_sigma:g} sigma (threshold {threshold:.4g}) encloses the image centre"
        )
    mask, (x, y, w, h) = found
    if bad is not None:
        inside = _nonfinite_touching(bad, mask, (x, y, w, h))
        if inside:
            raise PreprocessFailure(
                f"{inside} non-finite pixel(s) (NaN/inf) inside or bordering the central source"
            )
    return CentralSource(mask, (x, y, w, h), finite, stats, float(threshold))


def sigma_clip_central(
    image: np.ndarray,
    n_sigma: float = DEFAULT_SIGMA,
    channel: int = 0,
    threshold_sigma: float | None = None,
) -> Preprocessed:
    """Steps 1-2 of Appendix B on one image (2-D, or (H, W, C) using ``channel``).

    The clip statistics use ``n_sigma``; the cut is at ``median + threshold_sigma * std``
    (default ``threshold_sigma = n_sigma``, the paper's 3 sigma; Astronomaly's code uses 1).
    Failures as :func:`find_central_source`.
    """
    src = find_central_source(
        to_plane(np.asarray(image), channel), n_sigma=n_sigma, threshold_sigma=threshold_sigma
    )
    x, y, w, h = src.bbox
    crop = src.finite[y : y + h, x : x + w]
    out = np.where(src.mask.view(bool), crop, 0).astype(np.float32)
    integral = src.finite.dtype.kind == "u" and src.finite.dtype.itemsize <= 2
    return Preprocessed(out, src.bbox, src.finite.shape[:2], src.stats, src.threshold, integral)
