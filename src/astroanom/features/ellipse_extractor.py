"""The ellipse-fitting features (:mod:`astroanom.features.ellipse`) on a chosen band, behind the
extractor contract (``reads``, ``names``, ``extract``): the paper's 21 (``preset: paper``) or
the original code's 30 (``preset: astronomaly``)."""

from __future__ import annotations

import numpy as np

from astroanom.errors import ConfigError
from astroanom.features.ellipse import PRESETS, feature_names, image_features
from astroanom.features.image_extractor import (
    CHANNEL,
    N_SIGMA,
    N_THREADS,
    FeatureFailure,
    ImageExtractor,
    check_channel,
    select_plane,
)
from astroanom.params import Param, Params, declared


@declared
class EllipseExtractor(ImageExtractor):
    """Ellipse features of band ``channel`` (index into the image's bands; 0 for 2-D images),
    with the central source cut at ``n_sigma`` sigma above the clipped median."""

    name = "ellipse"

    PARAMS = Params(
        channel=CHANNEL,
        n_sigma=N_SIGMA,
        preset=Param(
            str,
            "paper",
            "paper: Appendix B's text (21 features); astronomaly: the original code's six "
            "deviations (30 columns)",
            enum=("paper", "astronomaly"),
        ),
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        channel: int,
        n_sigma: float,
        preset: str,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        if preset not in PRESETS:
            raise ConfigError(f"features.preset must be one of {sorted(PRESETS)}, got {preset!r}")
        self.preset = preset
        self.channel = check_channel(channel)
        if not n_sigma > 0:
            raise ConfigError(f"features.n_sigma must be > 0, got {n_sigma!r}")
        self.n_sigma = float(n_sigma)

    def names(self) -> list[str]:
        return list(feature_names(self.preset))

    def compute(self, image: np.ndarray) -> np.ndarray:
        plane = select_plane(image, self.channel)
        res = image_features(plane, n_sigma=self.n_sigma, preset=self.preset)
        if res.values is None:
            raise FeatureFailure(str(res.reason))
        return res.values
