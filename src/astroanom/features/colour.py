"""Colour features of multi-band images: colour indices between bands inside the central source,
so that sources with unusual colours (e.g. "green peas", strong [OIII] emission in r) stand out
even when their shape is ordinary (the ellipse features are colour-blind).

The central source is found on the reference band ``channel`` with the paper's cut (sigma-clipped
median + ``n_sigma`` std, the filled contour enclosing the centre;
:func:`astroanom.features.image_extractor.central_source`). In every band b the flux is
F_b = sum over the source of (pixel - clipped median of band b). For each pair of neighbouring
bands (a, b) in the order given:

- ``colour_{a}_{b}`` = -2.5 log10(F_a / F_b) (a colour index in magnitudes; ``measure="ratio"``
  gives F_a / F_b instead);
- ``gradient_{a}_{b}`` = colour of the inner half of the source minus colour of the outer half
  (the source's pixels above / below the median reference-band flux), in the same units:
  0 for a source of one colour, negative when the core is relatively brighter in a than the
  outskirts.

For JPEG/PNG cutouts the three channels are the bands, in RGB order (``bands: [r, g, b]``).
A band with no positive flux inside the source is a failure with the reason, not a number.
"""

from __future__ import annotations

import numpy as np

from astroanom.errors import ConfigError
from astroanom.features.image_extractor import (
    N_SIGMA,
    N_THREADS,
    FeatureFailure,
    ImageExtractor,
    central_source,
    check_channel,
)
from astroanom.features.preprocess import sigma_clipped_stats
from astroanom.params import Param, Params, declared

_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _colour(fa: float, fb: float, kind: str, what: str) -> float:
    if not (fa > 0 and fb > 0):
        raise FeatureFailure(
            f"{what}: flux {fa:.4g} / {fb:.4g} is not positive in both bands; no colour"
        )
    return -2.5 * np.log10(fa / fb) if kind == "colour" else fa / fb


@declared
class ColourExtractor(ImageExtractor):
    """Colour indices and colour gradients between neighbouring bands (see module docstring).

    ``bands``: names of the image's bands in channel order (>= 2; they name the features and
    fix how many channels an image must have); ``channel``: index of the band that defines the
    central source.
    """

    name = "colour"

    PARAMS = Params(
        bands=Param(
            list,
            ["r", "g", "b"],
            "band names in the image's band order (JPEG/PNG: r, g, b)",
            items={"type": "string"},
            extra={"minItems": 2},
        ),
        channel=Param(int, 0, "band whose central source defines the aperture", minimum=0),
        n_sigma=N_SIGMA,
        measure=Param(
            str,
            "colour",
            "colour: -2.5 log10(F_a/F_b) in mag; ratio: F_a/F_b",
            enum=("colour", "ratio"),
        ),
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        bands: list[str] | tuple[str, ...],
        channel: int,
        n_sigma: float,
        measure: str,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        bands = [str(b) for b in bands]
        if len(bands) < 2 or len(set(bands)) != len(bands):
            raise ConfigError(
                f"features.bands must list at least two distinct band names, got {bands!r}"
            )
        bad = [b for b in bands if not b or not set(b) <= _NAME_OK]
        if bad:
            raise ConfigError(f"features.bands: use letters, digits, '_' or '-' only, got {bad!r}")
        self.bands = bands
        self.channel = check_channel(channel)
        if self.channel >= len(bands):
            raise ConfigError(
                f"features.channel {channel} is not one of the {len(bands)} bands {bands}"
            )
        if measure not in ("colour", "ratio"):
            raise ConfigError(f"features.measure must be 'colour' or 'ratio', got {measure!r}")
        self.n_sigma, self.measure = float(n_sigma), measure

    def names(self) -> list[str]:
        pairs = list(zip(self.bands[:-1], self.bands[1:], strict=True))
        return [f"colour_{a}_{b}" for a, b in pairs] + [f"gradient_{a}_{b}" for a, b in pairs]

    def compute(self, image: np.ndarray) -> np.ndarray:
        nb = len(self.bands)
        if image.ndim != 3 or image.shape[2] < nb:
            got = 1 if image.ndim == 2 else image.shape[2] if image.ndim == 3 else image.shape
            raise FeatureFailure(f"image has {got} band(s); the colour features need {nb}")
        mask, _ = central_source(image[:, :, self.channel], self.n_sigma)
        ref = np.asarray(image[:, :, self.channel], dtype=np.float64)[mask]
        inner = ref >= np.median(ref)
        total = np.empty(nb)
        core = np.empty(nb)
        for i in range(nb):
            plane = image[:, :, i]
            bg = sigma_clipped_stats(plane, sigma=self.n_sigma).median
            vals = np.nan_to_num(np.asarray(plane, dtype=np.float64)[mask] - bg)
            total[i] = vals.sum()
            core[i] = vals[inner].sum()
        outer = total - core
        colours, grads = [], []
        for i in range(nb - 1):
            a, b = self.bands[i], self.bands[i + 1]
            c = _colour(total[i], total[i + 1], self.measure, f"{a}-{b}")
            c_in = _colour(core[i], core[i + 1], self.measure, f"{a}-{b} inner half")
            c_out = _colour(outer[i], outer[i + 1], self.measure, f"{a}-{b} outer half")
            colours.append(c)
            grads.append(c_in - c_out)
        return np.asarray(colours + grads, dtype=np.float64)
