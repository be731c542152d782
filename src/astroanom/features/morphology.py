"""The field's non-parametric morphology of the central source, measured by statmorph
(Rodriguez-Gomez et al. 2019, MNRAS 483, 4140; optional extra ``astroanom[morphology]``).

Measures (``names()`` order; radii in pixels of the input image):

- ``gini``: Gini coefficient of the pixel fluxes in statmorph's Petrosian segmap (0 = all
  pixels equal, 1 = all light in one pixel; Lotz et al. 2004);
- ``m20``: log10 of the second moment of the brightest 20 % of the light over the total
  (more negative = one bright nucleus; > -1.5 or so = several bright clumps; Lotz et al. 2004);
- ``concentration``: C = 5 log10(r80 / r20) of circular apertures (Conselice 2003; 2.7 for an
  exponential disc, 5.2 for a de Vaucouleurs profile; a 2-D Gaussian has
  5 log10(sqrt(ln 5 / ln 1.25)) = 2.145 of its total flux, 2.141 of the 99.75 % that statmorph's
  1.5 rpetro aperture holds, worked out in tests/test_morphology.py);
- ``asymmetry``: A, flux of |I - I rotated 180 deg| / flux, at the centre that minimises it,
  background-corrected (0 symmetric; mergers > 0.35; Conselice 2000);
- ``smoothness``: S (clumpiness), residual flux after a boxcar smoothing of 0.25 rpetro;
- ``multimode``, ``intensity``, ``deviation``: the MID statistics (Freeman et al. 2013; Peth et
  al. 2016): area ratio of the two largest clumps, flux ratio of the two brightest watershed
  regions, distance of the brightest peak from the centroid / sqrt(area / pi); each ~0 for one
  smooth source, near 1 for a double;
- ``shape_asymmetry``: asymmetry of the binary detection mask (tidal features; Pawlik 2016);
- ``outer_asymmetry``: asymmetry outside the half-light ellipse (Wen et al. 2014);
- ``ellipticity``: 1 - b/a from the second moments about the asymmetry centre;
- ``rpetro``, ``r20``, ``r80``: circular Petrosian radius (eta = 0.2) and the radii holding 20 %
  and 80 % of the flux within 1.5 rpetro (pixels; sizes, which C alone does not carry);
- with ``sersic: true``: ``sersic_n`` (index) and ``sersic_rhalf`` (half-light semi-major axis,
  pixels) of a single 2-D Sérsic fit (astropy ``Sersic2D``, PSF-convolved if ``psf`` is given).

Left out, on purpose: ``gini_m20_bulge`` and ``gini_m20_merger`` (linear in gini and m20, so no
new information for a detector), orientations and centres (not morphology), ``elongation`` (=
1 / (1 - ellipticity)), the elliptical and half-light radii (they repeat the circular ones; the
elliptical Petrosian radius is still computed, as the Gini segmap needs it), ``sn_per_pixel``
and the sky numbers (data quality), the Sérsic amplitude and chi^2 (they depend on the
arbitrary weight map of a JPEG). Only the listed quantities are evaluated (statmorph's default
evaluates every one, the Sérsic fit included): ~10 % faster without the fit, ~10x with it.

The input statmorph sees, per image:

- the band ``channel`` minus the sigma-clipped median (NaN/inf pixels masked);
- the segmentation map: label 1 the central source (the cut the ellipse features use,
  :func:`astroanom.features.preprocess.find_central_source`), label 2 every other connected
  region above the same threshold of >= :data:`NEIGHBOUR_MIN_AREA` pixels when
  ``mask_neighbours`` (statmorph masks other labels, the usual way to exclude neighbours);
- the noise: with ``gain`` (electrons per image unit, for FITS cutouts in counts) statmorph's
  own Poisson + sky weight map; without (JPEG/PNG cutouts, or unknown), a constant weight map
  equal to the background noise: the clipped standard deviation, with the quantisation noise of
  an integer image (1/12 unit^2) added in variance, or 1e-3 of the peak for a noiseless float
  image. It weighs only the Sérsic fit and statmorph's S/N; the non-parametric measures do not
  use it;
- ``size``: an image larger than ``size`` on a side is first reduced (flux-averaging
  ``cv2.INTER_AREA``) so its longer side is ``size``; statmorph costs ~ the number of pixels of
  its stamp (~6 s for a 424x424 galaxy at full size, ~0.4 s at 128), and docs/images.md gives
  the effect on the values. Radii are given back in input pixels.

statmorph's ``flag`` (0 good, 1 suspect, 2 bad, 4 catastrophic) above ``max_flag`` (default 1)
fails the image, as does ``flag_sersic`` above it with ``sersic: true``, or any measure it
returns as -99 or NaN; the reason carries the flag and statmorph's warnings of that image
(never printed; statmorph runs ``verbose`` so that a flag 1 has its warning too). Flag 1 is kept
by default: statmorph sets it when its Gini and MID segmaps disagree or the Gini segmap is in
pieces, which is what mergers and irregulars do, the objects these measures are for.

statmorph runs one image at a time per process (a lock: Python's warning capture is process
global), so ``n_threads`` overlaps only the reading and the cut; the workflow's parallelism is
its shard jobs (``SHARD_SIZE`` 200, which a ``combine`` with a morphology part takes too).
"""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from astroanom.errors import ConfigError
from astroanom.features.image_extractor import (
    CHANNEL,
    N_SIGMA,
    N_THREADS,
    FeatureFailure,
    ImageExtractor,
    check_channel,
    select_plane,
)
from astroanom.features.preprocess import find_central_source, sigma_clipped_stats
from astroanom.params import Param, Params, declared

log = logging.getLogger("astroanom.features")

#: (feature name, statmorph attribute), the non-parametric measures.
MEASURES: tuple[tuple[str, str], ...] = (
    ("gini", "gini"),
    ("m20", "m20"),
    ("concentration", "concentration"),
    ("asymmetry", "asymmetry"),
    ("smoothness", "smoothness"),
    ("multimode", "multimode"),
    ("intensity", "intensity"),
    ("deviation", "deviation"),
    ("shape_asymmetry", "shape_asymmetry"),
    ("outer_asymmetry", "outer_asymmetry"),
    ("ellipticity", "ellipticity_asymmetry"),
    ("rpetro", "rpetro_circ"),
    ("r20", "r20"),
    ("r80", "r80"),
)
#: The Sérsic fit's, with ``sersic: true``.
SERSIC_MEASURES: tuple[tuple[str, str], ...] = (
    ("sersic_n", "sersic_n"),
    ("sersic_rhalf", "sersic_rhalf"),
)
#: Measures in pixels: divided by the reduction factor to come back in input pixels.
RADII = frozenset({"rpetro", "r20", "r80", "sersic_rhalf"})
#: Smallest region (pixels) above the threshold that is masked as a neighbour.
NEIGHBOUR_MIN_AREA = 5
#: statmorph's invalid value.
INVALID = -99.0
FLAG_WORDS = {0: "good", 1: "suspect", 2: "bad", 4: "catastrophic"}
#: What statmorph's commonest flag warnings mean for a cutout (appended to the reason).
HINTS = {
    "Image is not background-subtracted.": "the sky box statmorph found holds light of the "
    "source (the cutout is small for it) or the sky is not flat",
    "[skybox] Skybox not found.": "no pixel box free of sources: the source fills the cutout",
}
#: statmorph is measured one image at a time per process: Python's warning filters (used to
#: capture its warnings per image) are process-global.
_LOCK = threading.Lock()


class StatmorphResult:
    """statmorph's values of one source (attribute -> float), its two flags, the warnings that
    raised each flag (``causes``, ``sersic_causes``) and all its warnings (``messages``)."""

    def __init__(
        self,
        values: dict[str, float],
        flag: int,
        flag_sersic: int,
        causes: list[str],
        sersic_causes: list[str],
        messages: list[str],
    ) -> None:
        self.values, self.flag, self.flag_sersic = values, flag, flag_sersic
        self.causes, self.sersic_causes, self.messages = causes, sersic_causes, messages

    def why(self, sersic: bool = False, limit: int = 3) -> str:
        """The warnings that raised the flag (``sersic``: flag_sersic), else every warning: the
        first ``limit`` distinct ones, joined (or "no warning")."""
        uniq = list(dict.fromkeys((self.sersic_causes if sersic else self.causes) or self.messages))
        more = f" (+{len(uniq) - limit} more)" if len(uniq) > limit else ""
        told = [f"{m} ({HINTS[m]})" if m in HINTS else m for m in uniq[:limit]]
        return "; ".join(told) + more if uniq else "no warning"


class _TracedFlag:
    """A statmorph flag attribute that, when it rises, records the warnings issued since it
    last changed (statmorph warns, then raises the flag) in ``<name>_causes``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_traced_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else obj.__dict__.get(self.slot, 0)

    def __set__(self, obj: Any, value: int) -> None:
        caught = obj.__dict__.get("_caught", [])
        seen = obj.__dict__.get(self.slot + "_seen", 0)
        if value > self.__get__(obj):
            causes = obj.__dict__.setdefault(self.name + "_causes", [])
            causes += [str(w.message).strip() for w in caught[seen:]]
        obj.__dict__[self.slot] = value
        obj.__dict__[self.slot + "_seen"] = len(caught)


@functools.cache
def _morphology_class(quantities: tuple[str, ...]) -> Any:
    """statmorph's ``SourceMorphology`` evaluating only ``quantities`` (and what they need)
    instead of all of them (its ``_calculate_morphology`` evaluates every lazy property, the
    Sérsic fit included), with its flags traced (:class:`_TracedFlag`). Should a later
    statmorph not call that hook, all are computed: slower, same values."""
    try:
        import statmorph
    except ImportError as exc:  # pragma: no cover - checked by the plug-in loader first
        raise ConfigError(
            "features.kind 'morphology' needs the optional package 'statmorph': "
            "pip install 'astroanom[morphology]'"
        ) from exc

    class _Subset(statmorph.SourceMorphology):
        _quantities = quantities
        flag = _TracedFlag()
        flag_sersic = _TracedFlag()

        def __init__(self, *args: Any, caught: list[Any], **kwargs: Any) -> None:
            self._caught = caught  # warnings.catch_warnings' list, filled as statmorph warns
            super().__init__(*args, **kwargs)

        def _calculate_morphology(self) -> None:
            for q in self._quantities:
                getattr(self, q)

    return _Subset


def run_statmorph(
    image: np.ndarray,
    segmap: np.ndarray,
    quantities: Sequence[str],
    *,
    mask: np.ndarray | None = None,
    weightmap: np.ndarray | None = None,
    gain: float | None = None,
    psf: np.ndarray | None = None,
) -> StatmorphResult:
    """statmorph on label 1 of ``segmap`` (H, W ints; 0 background, other labels masked) of the
    background-subtracted ``image`` (H, W) float64: the ``quantities`` (statmorph attribute
    names), ``flag``, ``flag_sersic``, the warnings that raised each and all it issued
    (captured, not printed).

    Give ``weightmap`` (H, W, per-pixel sigma in image units) or ``gain``. Raises
    :class:`FeatureFailure` when statmorph itself raises.
    """
    cls = _morphology_class(tuple(quantities))
    with _LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            kwargs = {"mask": mask, "weightmap": weightmap, "gain": gain, "psf": psf}
            morph = cls(image, segmap, 1, verbose=True, caught=caught, **kwargs)
            values = {q: float(getattr(morph, q)) for q in quantities}
        except Exception as exc:  # a third-party failure on this image: its reason, not a crash
            raise FeatureFailure(f"statmorph error: {type(exc).__name__}: {exc}") from exc
    messages = [str(w.message).strip() for w in caught]
    causes = morph.__dict__.get("flag_causes", [])
    sersic_causes = morph.__dict__.get("flag_sersic_causes", [])
    return StatmorphResult(
        values, int(morph.flag), int(morph.flag_sersic), causes, sersic_causes, messages
    )


def reduce_factor(shape: tuple[int, ...], size: int | None) -> float:
    """Linear reduction factor f <= 1 that brings the longer side of ``shape`` to ``size``."""
    longest = max(shape[0], shape[1])
    return 1.0 if size is None or longest <= size else size / longest


def _resize(arr: np.ndarray, f: float) -> np.ndarray:
    h, w = arr.shape
    out = (max(round(w * f), 1), max(round(h * f), 1))
    return cv2.resize(
        np.ascontiguousarray(arr, dtype=np.float32), out, interpolation=cv2.INTER_AREA
    )


def neighbour_regions(binary: np.ndarray, central: np.ndarray, min_area: int) -> np.ndarray:
    """Boolean (H, W): the 8-connected regions of ``binary`` outside ``central`` with at least
    ``min_area`` pixels (the other sources above the threshold)."""
    rest = (binary & ~central).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=8)
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area)
    big = big[big > 0]
    return np.isin(labels, big) if big.size else np.zeros(binary.shape, dtype=bool)


def noise_sigma(image: np.ndarray, integer: bool, pixels_averaged: float) -> float:
    """Background noise (image units) of a background-subtracted ``image``: its clipped std,
    plus the quantisation variance 1/12 of an ``integer`` input averaged over
    ``pixels_averaged`` input pixels; 1e-3 of the peak when that is 0 (a noiseless image)."""
    var = sigma_clipped_stats(image).std ** 2
    if integer:
        var += 1.0 / (12.0 * pixels_averaged)
    sigma = float(np.sqrt(var))
    if sigma > 0:
        return sigma
    peak = float(np.max(image))
    if not peak > 0:
        raise FeatureFailure("no positive flux above the background")
    return 1e-3 * peak


def load_psf(path: str) -> np.ndarray:
    """A 2-D PSF image (FITS, PNG, ...) as float64 normalised to unit sum."""
    from astroanom.sources.imageio import ImageReadError, load_image
    from astroanom.sources.paths import data_path

    try:
        psf = np.asarray(load_image(str(data_path(path))), dtype=np.float64)
    except (ImageReadError, OSError) as exc:
        raise ConfigError(f"features.psf: cannot read {path!r}: {exc}") from exc
    if psf.ndim != 2 or not np.isfinite(psf).all() or not psf.sum() > 0:
        raise ConfigError(
            f"features.psf {path!r} must be a 2-D finite image with positive sum, "
            f"got shape {psf.shape}"
        )
    return psf / psf.sum()


@declared
class MorphologyExtractor(ImageExtractor):
    """statmorph's morphology of the central source of band ``channel`` (module docstring)."""

    name = "morphology"

    #: statmorph costs ~0.1-1 s per image: shard jobs of 200 images keep the cores busy.
    SHARD_SIZE = 200

    PARAMS = Params(
        channel=CHANNEL,
        n_sigma=N_SIGMA,
        size=Param(
            int,
            128,
            "longest side (pixels) an image is reduced to first (null: full size)",
            minimum=48,
            nullable=True,
        ),
        sersic=Param(bool, False, "also fit a 2-D Sérsic profile (sersic_n, sersic_rhalf)"),
        gain=Param(
            float,
            None,
            "electrons per image unit (FITS in counts); null: constant background-noise weight map",
            exclusive_minimum=0,
            nullable=True,
        ),
        psf=Param(str, None, "2-D PSF image (input pixels) for the Sérsic fit", nullable=True),
        max_flag=Param(int, 1, "highest statmorph flag kept (0 good, 1 suspect)", enum=(0, 1)),
        mask_neighbours=Param(bool, True, "mask other sources above the threshold"),
        n_threads=N_THREADS,
    )

    def __init__(
        self,
        channel: int,
        n_sigma: float,
        size: int | None,
        sersic: bool,
        gain: float | None,
        psf: str | None,
        max_flag: int,
        mask_neighbours: bool,
        n_threads: int,
    ) -> None:
        super().__init__(n_threads)
        self.channel = check_channel(channel)
        if not n_sigma > 0:
            raise ConfigError(f"features.n_sigma must be > 0, got {n_sigma!r}")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 48):
            raise ConfigError(f"features.size must be an integer >= 48 or null, got {size!r}")
        if gain is not None and not gain > 0:
            raise ConfigError(f"features.gain must be > 0 or null, got {gain!r}")
        if max_flag not in (0, 1):
            raise ConfigError(f"features.max_flag must be 0 or 1, got {max_flag!r}")
        if psf is not None and not sersic:
            raise ConfigError("features.psf is used only by the Sérsic fit: set sersic: true")
        self.n_sigma, self.size, self.sersic = float(n_sigma), size, bool(sersic)
        self.gain, self.max_flag, self.mask_neighbours = gain, int(max_flag), bool(mask_neighbours)
        self.psf = load_psf(psf) if psf is not None else None
        self.measures = MEASURES + (SERSIC_MEASURES if self.sersic else ())
        _morphology_class(self.quantities())  # a missing statmorph fails here, not per image

    def names(self) -> list[str]:
        return [name for name, _ in self.measures]

    def quantities(self) -> tuple[str, ...]:
        """The statmorph attributes evaluated, in ``names()`` order."""
        return tuple(attr for _, attr in self.measures)

    def inputs(
        self, plane: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float, float]:
        """statmorph's inputs from a 2-D band: background-subtracted image, segmap (1 central,
        2 neighbours), bad-pixel mask or None, noise sigma (image units), reduction factor."""
        src = find_central_source(plane, n_sigma=self.n_sigma)
        central = src.full_mask()
        image = np.asarray(src.finite, dtype=np.float64) - src.stats.median
        bad = None if plane.dtype.kind in "ui" else ~np.isfinite(plane)
        others = None
        if self.mask_neighbours:
            others = neighbour_regions(
                image > src.threshold - src.stats.median, central, NEIGHBOUR_MIN_AREA
            )
        f = reduce_factor(plane.shape, self.size)
        if f < 1.0:
            image = _resize(image, f).astype(np.float64)
            central = _resize(central, f) >= 0.5
            if others is not None:
                others = (_resize(others, f) >= 0.5) & ~central
            if bad is not None:
                bad = _resize(bad, f) > 0
            if not central.any():
                raise FeatureFailure(
                    f"the central source vanishes when the image is reduced to {self.size} px"
                )
        segmap = central.astype(np.int32)
        if others is not None:
            segmap[others] = 2
        if bad is not None:
            bad = bad if bad.any() else None
        sigma = noise_sigma(image, plane.dtype.kind in "ui", 1.0 / (f * f))
        return image, segmap, bad, sigma, f

    def _psf_at(self, f: float) -> np.ndarray | None:
        if self.psf is None or f >= 1.0:
            return self.psf
        small = _resize(self.psf, f).astype(np.float64)
        return small / small.sum()

    def compute(self, image: np.ndarray) -> np.ndarray:
        plane = select_plane(image, self.channel)
        img, segmap, bad, sigma, f = self.inputs(plane)
        if self.gain is not None:  # averaging 1/f^2 pixels multiplies the gain by 1/f^2
            weight, gain = None, self.gain / (f * f)
        else:
            weight, gain = np.full(img.shape, sigma), None
        psf = self._psf_at(f)
        res = run_statmorph(
            img, segmap, self.quantities(), mask=bad, weightmap=weight, gain=gain, psf=psf
        )
        if res.flag > self.max_flag:
            word = FLAG_WORDS.get(res.flag, "bad")
            raise FeatureFailure(f"statmorph flag {res.flag} ({word}): {res.why()}")
        if self.sersic and res.flag_sersic > self.max_flag:
            word = FLAG_WORDS.get(res.flag_sersic, "bad")
            why = res.why(sersic=True)
            raise FeatureFailure(f"statmorph flag_sersic {res.flag_sersic} ({word} fit): {why}")
        row = np.array([res.values[attr] for _, attr in self.measures], dtype=np.float64)
        invalid = [
            n
            for (n, _), v in zip(self.measures, row, strict=True)
            if v == INVALID or not np.isfinite(v)
        ]
        if invalid:
            raise FeatureFailure(
                f"statmorph returned no valid {', '.join(invalid[:5])}: {res.why()}"
            )
        if res.messages:
            log.debug("statmorph flag %d: %s", res.flag, res.why())
        for k, (name, _) in enumerate(self.measures):
            if name in RADII:
                row[k] /= f
        return row
