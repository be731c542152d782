"""Compiled (numba) kernel of :func:`astroanom.features.ellipse.contour_centroids`; imported on
first use of the ``astronomaly`` preset, and only when numba imports.

The shoelace sums of integer contours are exact int64 integers; they are scaled by the same
doubles, in the same order, as ``cv2.moments`` and the numpy path, so the truncated centroids
are the same bits. ``cache=True`` keeps the compiled code on disk (compiled once per machine).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def shoelace_centroids(
    pts: np.ndarray, lengths: np.ndarray, half: float, sixth: float
) -> np.ndarray:
    """Truncated centroids (k, 2) float64 of k closed integer polygons stored one after the
    other in ``pts`` (N, 2) int32, ``lengths`` (k,) points each; (0, 0) for zero area."""
    k = lengths.shape[0]
    out = np.zeros((k, 2), dtype=np.float64)
    start = 0
    for j in range(k):
        n = lengths[j]
        a00 = np.int64(0)
        a10 = np.int64(0)
        a01 = np.int64(0)
        xp = np.int64(pts[start + n - 1, 0])
        yp = np.int64(pts[start + n - 1, 1])
        for i in range(start, start + n):
            x = np.int64(pts[i, 0])
            y = np.int64(pts[i, 1])
            d = xp * y - x * yp
            a00 += d
            a10 += d * (xp + x)
            a01 += d * (yp + y)
            xp = x
            yp = y
        start += n
        if a00 != 0:
            sign = 1.0 if a00 > 0 else -1.0
            m00 = float(a00) * (sign * half)
            out[j, 0] = math.trunc(float(a10) * (sign * sixth) / m00)
            out[j, 1] = math.trunc(float(a01) * (sign * sixth) / m00)
    return out
