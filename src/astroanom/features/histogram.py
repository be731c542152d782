"""Flux histogram of one band: the fraction of pixels in ``n_bins`` equal bins of brightness
between the background and the peak (how light is distributed, independent of the shape).

Pixel values v are mapped to t = (v - b) / (peak - b) with b the sigma-clipped median
(``background="median"``, default) or 0 (``"none"``, for already background-subtracted data),
over the whole image or the central source only (``region="central"``). Values below 0 count in
the first bin; the peak itself in the last. Features sum to 1.
"""

from __future__ import annotations

import numpy as np

from astroanom.errors import ConfigError
from astroanom.features.image_extractor import (
    CHANNEL,
    N_SIGMA,
    N_THREADS,
    FeatureFailure,
    ImageExtractor,
    central_source,
    check_channel,
    select_plane,
)
from astroanom.features.preprocess import sigma_clipped_stats
from astroanom.params import Param, Params, declared


def flux_histogram(values: np.ndarray, background: float, n_bins: int) -> np.ndarray:
    """Fractions (n_bins,) of ``values`` (finite, 1-D) in equal bins of (v - b)/(peak - b)."""
    if values.size == 0:
        raise FeatureFailure("no finite pixel to histogram")
    peak = float(values.max())
    if not peak > background:
        raise FeatureFailure(f"peak {peak:.4g} is not above the background {background:.4g}")
    t = (values.astype(np.float64) - background) / (peak - background)
    idx = np.clip((t * n_bins).astype(np.intp), 0, n_bins - 1)
    return np.bincount(idx, minlength=n_bins) / values.size


@declared
class HistogramExtractor(ImageExtractor):
    """``n_bins`` pixel fractions of band ``channel`` (see module docstring)."""

    name = "histogram"

    PARAMS = Params(
        channel=CHANNEL,
        n_bins=Param(int, 16, "histogram bins", minimum=1),
        region=Param(str, "image", "pixels counted", enum=("image", "central")),
        background=Param(str, "median", "background subtracted first", enum=("median", "none")),
        n_sigma=N_SIGMA,
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        channel: int,
        n_bins: int,
        region: str,
        background: str,
        n_sigma: float,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        self.channel = check_channel(channel)
        if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
            raise ConfigError(f"features.n_bins must be an integer >= 1, got {n_bins!r}")
        if region not in ("image", "central"):
            raise ConfigError(f"features.region must be 'image' or 'central', got {region!r}")
        if background not in ("median", "none"):
            raise ConfigError(f"features.background must be 'median' or 'none', got {background!r}")
        self.n_bins, self.region, self.background, self.n_sigma = (
            n_bins,
            region,
            background,
            n_sigma,
        )

    def names(self) -> list[str]:
        return [f"hist_{i:02d}" for i in range(self.n_bins)]

    def compute(self, image: np.ndarray) -> np.ndarray:
        plane = select_plane(image, self.channel)
        if self.region == "central":
            mask, stats = central_source(plane, self.n_sigma)
            values = np.asarray(plane, dtype=np.float64)[mask]
            values = values[np.isfinite(values)]
            b = stats.median if self.background == "median" else 0.0
        else:
            values = np.asarray(plane, dtype=np.float64).ravel()
            values = values[np.isfinite(values)]
            b = (
                sigma_clipped_stats(plane, sigma=self.n_sigma).median
                if (self.background == "median" and values.size)
                else 0.0
            )
        return flux_histogram(values, b, self.n_bins)
