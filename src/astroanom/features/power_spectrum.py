"""Radially averaged power spectrum of one band: where the image's structure lives in spatial
frequency (smooth discs at low k, spiral arms and knots at higher k, noise flat).

The band is background-subtracted (sigma-clipped median; NaN -> background), optionally
multiplied by a 2-D Hann window (less leakage from the cutout's edges), Fourier transformed, and
|F|^2 averaged in ``n_bins`` equal-width annuli of radial frequency k = sqrt(kx^2 + ky^2) on
(0, 0.5] cycles/pixel (the DC term and the corners beyond Nyquist are left out). Each feature is
the mean power in its annulus divided by the mean power over all annuli pixels, i.e. relative to
a white spectrum (= 1 for pure white noise); ``log`` (default) gives log10 of that.
A pure sinusoid of frequency f cycles/pixel puts its power in the annulus holding f.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from astroanom.errors import ConfigError
from astroanom.features.image_extractor import (
    CHANNEL,
    N_SIGMA,
    N_THREADS,
    FeatureFailure,
    ImageExtractor,
    background_subtracted,
    check_channel,
    select_plane,
)
from astroanom.params import Param, Params, declared


@lru_cache(maxsize=8)
def _annuli(shape: tuple[int, int], n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the half-plane ``rfft2`` grid of an image of ``shape``: bin index (H * (W//2+1),) of
    every frequency (-1 outside (0, 0.5]), its weight (how many full-plane frequencies it stands
    for: 2, or 1 for the kx = 0 and Nyquist columns, which have no mirror), and the full-plane
    pixel count per bin (n_bins,). Power is Hermitian-symmetric for a real image, so weighted
    half-plane sums equal full-plane sums exactly."""
    h, w = shape
    ky = np.fft.fftfreq(h)[:, None]
    kx = np.fft.rfftfreq(w)[None, :]
    k = np.sqrt(kx * kx + ky * ky).ravel()
    idx = np.minimum((k * 2 * n_bins).astype(np.intp), n_bins - 1)
    idx[(k == 0) | (k > 0.5)] = -1
    weight = np.full((h, kx.size), 2.0)
    weight[:, 0] = 1.0
    if w % 2 == 0:
        weight[:, -1] = 1.0
    weight = weight.ravel()
    counts = np.bincount(idx[idx >= 0], weights=weight[idx >= 0], minlength=n_bins)
    return idx, weight, counts


@lru_cache(maxsize=8)
def _hann(shape: tuple[int, int]) -> np.ndarray:
    return np.outer(np.hanning(shape[0]), np.hanning(shape[1]))


def radial_power(plane: np.ndarray, n_bins: int, window: bool = True) -> np.ndarray:
    """Mean |FFT|^2 per annulus (n_bins,) relative to the mean over all annuli, of a 2-D
    background-subtracted image. Raises :class:`FeatureFailure` for an empty annulus or no power."""
    shape = (int(plane.shape[0]), int(plane.shape[1]))
    idx, weight, counts = _annuli(shape, n_bins)
    if (counts == 0).any():
        raise FeatureFailure(
            f"image {shape[1]}x{shape[0]} is too small for {n_bins} frequency bins "
            f"(bin {int(np.argmin(counts))} is empty); lower features.n_bins"
        )
    img = plane * _hann(shape) if window else plane
    f = np.fft.rfft2(img).ravel()
    power = f.real * f.real + f.imag * f.imag
    keep = idx >= 0
    total = np.bincount(idx[keep], weights=(power * weight)[keep], minlength=n_bins)
    mean_all = total.sum() / counts.sum()
    if not mean_all > 0:
        raise FeatureFailure("image has no power above the background (constant image)")
    return (total / counts) / mean_all


@declared
class PowerSpectrumExtractor(ImageExtractor):
    """``n_bins`` radially averaged power-spectrum values of band ``channel``."""

    name = "power"

    PARAMS = Params(
        channel=CHANNEL,
        n_bins=Param(int, 16, "radial frequency bins", minimum=1),
        window=Param(bool, True, "apply a Hann window first"),
        log=Param(bool, True, "log of the binned power"),
        n_sigma=N_SIGMA,
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        channel: int,
        n_bins: int,
        window: bool,
        log: bool,
        n_sigma: float,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        self.channel = check_channel(channel)
        if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
            raise ConfigError(f"features.n_bins must be an integer >= 1, got {n_bins!r}")
        self.n_bins, self.window, self.log, self.n_sigma = n_bins, bool(window), bool(log), n_sigma

    def names(self) -> list[str]:
        w = 0.5 / self.n_bins
        return [f"power_k{(i + 0.5) * w:.4f}" for i in range(self.n_bins)]

    def compute(self, image: np.ndarray) -> np.ndarray:
        plane = background_subtracted(select_plane(image, self.channel), self.n_sigma)
        p = radial_power(plane, self.n_bins, self.window)
        if self.log:
            floor = np.finfo(np.float64).tiny
            return np.log10(np.maximum(p, floor))
        return p
