"""Hu's seven moment invariants of the central source (translation, rotation and scale
invariant shape numbers; Hu 1962), via ``cv2.moments`` / ``cv2.HuMoments``.

The image is first reduced to one band, and either cut to the central source (the paper's
sigma clip + central contour, :func:`astroanom.features.preprocess.sigma_clip_central`) or
background-subtracted as a whole; it is then divided by its peak so the invariants do not depend
on the brightness. (For an intensity image the normalised moments scale as 1/intensity.)

With unit peak, a circular Gaussian of any width sigma has h1 = eta20 + eta02 = 1/pi and
h2..h7 = 0, because mu00 = 2 pi sigma^2 and mu20 = mu02 = 2 pi sigma^4.

``transform="log"`` maps each invariant h to asinh(h / softening) / ln(10): sign-preserving,
continuous through 0 (where near-symmetric sources scatter), ~ sign(h) log10(2 |h| / softening)
for |h| >> softening; the invariants otherwise span ~20 decades.
"""

from __future__ import annotations

import cv2
import numpy as np

from astroanom.errors import ConfigError
from astroanom.features.image_extractor import (
    CHANNEL,
    N_SIGMA,
    N_THREADS,
    FeatureFailure,
    ImageExtractor,
    background_subtracted,
    central_source,
    check_channel,
    select_plane,
)
from astroanom.params import Param, Params, declared

HU_NAMES = tuple(f"hu{k}" for k in range(1, 8))


def hu_moments(plane: np.ndarray) -> np.ndarray:
    """The seven Hu invariants (7,) float64 of a 2-D intensity image (pixels >= 0 expected).

    Raises :class:`FeatureFailure` when the image has no positive flux.
    """
    img = np.ascontiguousarray(plane, dtype=np.float64)
    peak = float(img.max()) if img.size else 0.0
    if not peak > 0:
        raise FeatureFailure("no positive flux (peak <= 0); cannot form moments")
    m = cv2.moments(img / peak)
    return cv2.HuMoments(m).ravel().astype(np.float64)


@declared
class MomentsExtractor(ImageExtractor):
    """Hu moments of band ``channel``: ``region`` "central" (the central source, zero outside,
    the default) or "image" (the whole background-subtracted image, negative pixels set to 0);
    ``transform`` "log" (default) or "none"."""

    name = "moments"

    PARAMS = Params(
        channel=CHANNEL,
        region=Param(str, "central", "pixels measured", enum=("central", "image")),
        n_sigma=N_SIGMA,
        transform=Param(str, "log", "transform of the moments", enum=("log", "none")),
        softening=Param(float, 1.0e-8, "added before the log", exclusive_minimum=0),
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        channel: int,
        region: str,
        n_sigma: float,
        transform: str,
        softening: float,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        self.channel = check_channel(channel)
        if region not in ("central", "image"):
            raise ConfigError(f"features.region must be 'central' or 'image', got {region!r}")
        if transform not in ("log", "none"):
            raise ConfigError(f"features.transform must be 'log' or 'none', got {transform!r}")
        if not softening > 0:
            raise ConfigError(f"features.softening must be > 0, got {softening!r}")
        self.region, self.n_sigma = region, float(n_sigma)
        self.transform, self.softening = transform, float(softening)

    def names(self) -> list[str]:
        return list(HU_NAMES)

    def compute(self, image: np.ndarray) -> np.ndarray:
        plane = select_plane(image, self.channel)
        if self.region == "central":
            mask, stats = central_source(plane, self.n_sigma)
            # flux above the background inside the central source, 0 elsewhere
            vals = np.nan_to_num(np.asarray(plane, dtype=np.float64) - stats.median)
            img = np.where(mask, vals, 0.0)
        else:
            img = np.clip(background_subtracted(plane, self.n_sigma), 0.0, None)
        h = hu_moments(img)
        if self.transform == "log":
            return np.arcsinh(h / self.softening) / np.log(10.0)
        return h
