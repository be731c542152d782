"""Compiled merge of two sorted runs of row indices (used by :mod:`astroanom.active.ranking`)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def merge_runs(key: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out`` (a.size + b.size,) = the rows of ``a`` and ``b`` merged by increasing
    ``key[row]``; ``a`` and ``b`` are each sorted by it (NaN last), and on ties (NaN with NaN
    included) a row of ``a`` comes first: merging the stable sorts of two consecutive row
    ranges gives the stable sort of their union."""
    i = j = k = 0
    na, nb = a.size, b.size
    while i < na and j < nb:
        ka, kb = key[a[i]], key[b[j]]
        # b first only when strictly smaller (NaN counts as larger than any number)
        if kb < ka or (ka != ka and kb == kb):
            out[k] = b[j]
            j += 1
        else:
            out[k] = a[i]
            i += 1
        k += 1
    while i < na:
        out[k] = a[i]
        i += 1
        k += 1
    while j < nb:
        out[k] = b[j]
        j += 1
        k += 1
