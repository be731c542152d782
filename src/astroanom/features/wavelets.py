"""Wavelet-coefficient statistics of one band (PyWavelets): how the image's energy splits over
scales and directions, and how sparse (peaky) the details are at each scale.

The band is background-subtracted (sigma-clipped median; NaN -> background) and decomposed with
``pywt.wavedec2(..., level=levels, mode="periodization")`` (an orthogonal transform for
orthogonal wavelets, so energy is conserved: sum of all squared coefficients = sum of squared
pixels). Features, level 1 = finest scale:

- ``energy_l{j}_{h,v,d}``: sum of squared horizontal / vertical / diagonal detail coefficients
  at level j divided by the total energy (all features plus ``energy_approx`` sum to 1 for an
  orthogonal wavelet); 0 everywhere for a constant image (no structure);
- ``energy_approx``: the same for the coarsest approximation;
- ``kurtosis_l{j}``: excess kurtosis of the level's detail coefficients (0 for Gaussian noise,
  large for sparse, point-like structure); 0 when the level holds no energy.

pywt's naming: the horizontal detail (cH) responds to change along the rows (axis 0, i.e.
horizontal edges), the vertical detail (cV) to change along the columns (axis 1).
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
    background_subtracted,
    check_channel,
    select_plane,
)
from astroanom.params import Param, Params, declared


def _pywt():
    try:
        import pywt
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigError("the wavelet features need PyWavelets: pip install PyWavelets") from exc
    return pywt


def wavelet_stats(plane: np.ndarray, wavelet: str, levels: int) -> np.ndarray:
    """(3 * levels + 1 + levels,) features of a 2-D background-subtracted image (see module)."""
    pywt = _pywt()
    w = pywt.Wavelet(wavelet)
    max_level = pywt.dwt_max_level(min(plane.shape), w.dec_len)
    if levels > max_level:
        raise FeatureFailure(
            f"image {plane.shape[1]}x{plane.shape[0]} allows at most {max_level} levels of "
            f"{wavelet!r}; {levels} requested (lower features.levels)"
        )
    coeffs = pywt.wavedec2(plane, w, mode="periodization", level=levels)
    approx, details = coeffs[0], coeffs[1:][::-1]  # details finest (level 1) first
    energies = np.empty(3 * levels)
    kurt = np.zeros(levels)
    for j, lvl in enumerate(details):
        n, s4 = 0, 0.0
        for k, c in enumerate(lvl):
            sq = np.square(c)  # element-wise, not BLAS dot: no thread oversubscription
            energies[3 * j + k] = float(sq.sum())
            s4 += float(np.square(sq).sum())
            n += sq.size
        m2 = energies[3 * j : 3 * j + 3].sum() / n
        if m2 > 0:
            kurt[j] = (s4 / n) / (m2 * m2) - 3.0
    approx_e = float(np.square(approx).sum())
    total = approx_e + float(energies.sum())
    if total > 0:
        energies, approx_e = energies / total, approx_e / total
    return np.concatenate([energies, [approx_e], kurt])


@declared
class WaveletExtractor(ImageExtractor):
    """Energy fractions per level and direction, and detail kurtosis per level, of band
    ``channel`` with wavelet ``wavelet`` (any discrete PyWavelets name, default "haar")."""

    name = "wavelets"

    PARAMS = Params(
        channel=CHANNEL,
        wavelet=Param(str, "haar", "a discrete PyWavelets wavelet name"),
        levels=Param(int, 4, "decomposition levels", minimum=1),
        n_sigma=N_SIGMA,
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        channel: int,
        wavelet: str,
        levels: int,
        n_sigma: float,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        self.channel = check_channel(channel)
        pywt = _pywt()
        if wavelet not in pywt.wavelist(kind="discrete"):
            raise ConfigError(
                f"features.wavelet {wavelet!r} is not a discrete PyWavelets wavelet "
                "(e.g. haar, db2, sym4, coif1)"
            )
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
            raise ConfigError(f"features.levels must be an integer >= 1, got {levels!r}")
        self.wavelet, self.levels, self.n_sigma = wavelet, levels, n_sigma

    def names(self) -> list[str]:
        out = [f"energy_l{j}_{d}" for j in range(1, self.levels + 1) for d in ("h", "v", "d")]
        return out + ["energy_approx"] + [f"kurtosis_l{j}" for j in range(1, self.levels + 1)]

    def compute(self, image: np.ndarray) -> np.ndarray:
        plane = background_subtracted(select_plane(image, self.channel), self.n_sigma)
        return wavelet_stats(plane, self.wavelet, self.levels)
