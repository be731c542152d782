"""The shared loop of the image feature extractors (the plug-in contract in docs/architecture.md):
read each object's cutout with :func:`astroanom.sources.imageio.load_image`, compute one feature
row, and turn every failure into a NaN row plus a reason, never an exception.

A subclass sets ``name`` (the prefix used by :mod:`astroanom.features.combine`), implements
:meth:`ImageExtractor.names` and :meth:`ImageExtractor.compute` (one image -> 1-D float array),
and raises :class:`FeatureFailure` (or :class:`~astroanom.features.preprocess.PreprocessFailure`)
with the reason when an image cannot be used.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.features.preprocess import (
    ClipStats,
    PreprocessFailure,
    find_central_source,
    sigma_clipped_stats,
)
from astroanom.params import Param
from astroanom.progress import Progress
from astroanom.sources.imageio import ImageReadError, load_image

log = logging.getLogger("astroanom.features")


#: Parameters many image extractors declare (each names them in its ``PARAMS``).
CHANNEL = Param(int, 0, "colour channel (0 = red)", minimum=0)
N_SIGMA = Param(
    float, 3.0, "sigma-clipping threshold of the central-source cut", exclusive_minimum=0
)
N_THREADS = Param(int, 1, "images processed at once in a shard job", minimum=1)


class FeatureFailure(Exception):
    """The features of one image cannot be computed; ``str(exc)`` is the recorded reason."""


def select_plane(image: np.ndarray, channel: int) -> np.ndarray:
    """Band ``channel`` of an (H, W, C) image, or the 2-D image itself (``channel`` must be 0).

    Unlike :func:`astroanom.features.preprocess.to_plane` an out-of-range channel is an error
    (:class:`FeatureFailure`), not silently the last band.
    """
    if image.ndim == 2:
        if channel != 0:
            raise FeatureFailure(f"image has 1 band; band index {channel} requested")
        return image
    if image.ndim == 3:
        if not 0 <= channel < image.shape[2]:
            raise FeatureFailure(
                f"image has {image.shape[2]} bands; band index {channel} requested"
            )
        return image[:, :, channel]
    raise FeatureFailure(f"expected a 2-D image or (H, W, C) array, got shape {image.shape}")


def background_subtracted(plane: np.ndarray, n_sigma: float = 3.0) -> np.ndarray:
    """float64 copy of ``plane`` minus its sigma-clipped median; NaN/inf pixels set to 0
    (the background). Raises :class:`PreprocessFailure` when no pixel is finite."""
    med = sigma_clipped_stats(plane, sigma=n_sigma).median
    out = np.asarray(plane, dtype=np.float64) - med
    out[~np.isfinite(out)] = 0.0
    return out


def central_source(plane: np.ndarray, n_sigma: float = 3.0) -> tuple[np.ndarray, ClipStats]:
    """Boolean mask (H, W) of the central source of a 2-D image and the clip statistics: the
    paper's cut (:func:`astroanom.features.preprocess.find_central_source`, which the ellipse
    features use too). Raises :class:`PreprocessFailure` with the reason when there is none."""
    src = find_central_source(plane, n_sigma=n_sigma)
    return src.full_mask(), src.stats


def check_channel(channel: object) -> int:
    """Validate a band index parameter (a non-negative int)."""
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or channel < 0:
        raise ConfigError(f"features.channel must be a band index 0, 1, 2, ..., got {channel!r}")
    return int(channel)


class ImageExtractor:
    """Base class: ``extract`` over a manifest shard with an ``image_path`` column.

    ``n_threads`` (>= 1) images are processed concurrently (OpenCV and numpy release the GIL);
    rows stay in manifest order, and at most ``n_threads`` images are in memory at once.
    """

    reads = "image"
    name = "image"

    #: Objects per feature-extraction job (``features.shard_size``'s default): images cost
    #: about 2-10 ms each.
    SHARD_SIZE = 2000

    def __init__(self, n_threads: int) -> None:
        if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
            raise ConfigError(f"features.n_threads must be an integer >= 1, got {n_threads!r}")
        self.n_threads = n_threads

    def names(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute(self, image: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Feature row (len(names()),) of one image (H, W) or (H, W, C)."""
        raise NotImplementedError

    def compute_safe(self, image: np.ndarray) -> tuple[np.ndarray | None, str | None]:
        """:meth:`compute` with failures returned as a reason string (never raises)."""
        try:
            row = np.asarray(self.compute(image), dtype=np.float64)
        except (FeatureFailure, PreprocessFailure) as exc:
            return None, str(exc)
        except cv2.error as exc:  # pragma: no cover - OpenCV rejects an unusual array
            return None, f"OpenCV error: {str(exc).strip().splitlines()[-1]}"
        if row.shape != (len(self.names()),):
            raise RuntimeError(  # a programming error in the extractor, not bad data
                f"{type(self).__name__}.compute returned shape {row.shape}, "
                f"expected ({len(self.names())},)"
            )
        if not np.isfinite(row).all():
            bad = [n for n, v in zip(self.names(), row, strict=True) if not np.isfinite(v)]
            return None, f"non-finite feature value(s): {', '.join(bad[:5])}"
        return row, None

    def _one(self, path: str) -> tuple[np.ndarray | None, str | None]:
        try:
            image = load_image(path)
        except ImageReadError as exc:
            return None, f"read: {exc}"
        return self.compute_safe(image)

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        """(n, len(names())) float64 with NaN rows for failures, and a reason per object."""
        paths = image_paths(objects, type(self).__name__)
        return run_rows(
            self._one, paths, objects["id"].astype(str).tolist(), self.n_threads, len(self.names())
        )


def image_paths(objects: pd.DataFrame, who: str) -> list[str]:
    """The ``image_path`` column as strings; :class:`ConfigError` if the manifest lacks it."""
    for col in ("id", "image_path"):
        if col not in objects.columns:
            raise ConfigError(
                f"{who} reads images but the objects table has no {col!r} column "
                f"(columns: {list(objects.columns)[:10]}); use an image source"
            )
    return objects["image_path"].astype(str).tolist()


def run_rows(
    one, paths: Sequence[str], ids: Sequence[str], n_threads: int, width: int
) -> tuple[np.ndarray, list[str | None]]:
    """Apply ``one(path) -> (row | None, reason | None)`` to every path (``n_threads`` at a
    time, order kept) and stack the rows into (n, width) float64 with NaN for failures."""
    X = np.full((len(paths), width), np.nan)
    reasons: list[str | None] = []
    if n_threads == 1:
        results = map(one, paths)
    else:
        pool = ThreadPoolExecutor(max_workers=n_threads)
        results = pool.map(one, paths)  # yields in order; at most n_threads run at a time
    bar = Progress("image features", len(paths), "objects", logger=log)
    try:
        for k, (row, reason) in enumerate(results):
            if row is not None:
                X[k] = row
            else:
                log.warning("%s failed: %s", ids[k], reason)
            reasons.append(reason)
            bar.advance()
        bar.done()
    finally:
        if n_threads > 1:
            pool.shutdown()
    return X, reasons
