"""A learned image representation trained on the dataset itself (no downloaded weights): a
small CNN (:mod:`astroanom.features.encoder`, PyTorch, the optional extra
``astroanom[learned]``) trained self-supervised on the dataset's downsampled cutouts; its
embedding (``dim`` numbers per object) are the features.

It is a *trainable* extractor (docs/architecture.md, "Trainable extractors"): the workflow runs
its :meth:`LearnedImageExtractor.fit` once per run in the rule ``features_fit`` (the model under
``results/<run>/models/``), and builds it with ``model=`` that file for the feature shards. A
``model:`` in the config reuses a model trained elsewhere and nothing is trained.

Each cutout is prepared the same way for training and embedding (:func:`prepare`): the bands
``channels`` (all by default), the central ``crop`` fraction of the side, resampled to
``size`` x ``size`` (area averaging), each band's median (the sky) subtracted, divided by the
99.5th percentile of the cutout's values over all bands (one scale, so colours are kept) and
stretched by asinh(10 x) / asinh(10).

This module imports numpy only; OpenCV and torch are imported when used (the Snakefile reads
:attr:`LearnedImageExtractor.trainable` without importing anything heavy).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from astroanom.errors import AstroanomError, ConfigError
from astroanom.params import Param, Params, declared

log = logging.getLogger("astroanom.features.learned")

#: Fewest usable cutouts :meth:`LearnedImageExtractor.fit` trains on.
MIN_TRAIN = 8
#: The asinh stretch's softening: asinh(Q x) / asinh(Q) of x in units of the 99.5th percentile.
STRETCH_Q = 10.0
PERCENTILE = 99.5


class CutoutFailure(Exception):
    """One cutout cannot be prepared; ``str(exc)`` is the recorded reason."""


def torch_missing() -> AstroanomError:
    """The error for a missing PyTorch: what to install (the CPU wheel avoids GBs of CUDA)."""
    return AstroanomError(
        "features.kind 'learned' needs PyTorch (the optional extra astroanom[learned]): "
        "pip install 'astroanom[learned]' (on a machine without a GPU first "
        "pip install torch --index-url https://download.pytorch.org/whl/cpu, a 200 MB wheel "
        "instead of several GB of CUDA libraries; docs/images.md)"
    )


def _encoder() -> Any:
    try:
        from astroanom.features import encoder
    except ImportError as exc:
        if "torch" in str(exc):
            raise torch_missing() from exc
        raise
    return encoder


def prepare(
    image: np.ndarray, size: int, crop: float, channels: Sequence[int] | None
) -> np.ndarray:
    """(C, size, size) float32 of one cutout (H, W) or (H, W, B) (see the module docstring).

    Raises :class:`CutoutFailure` naming the problem (a missing band, no finite pixel, a flat
    cutout)."""
    import cv2

    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3:
        raise CutoutFailure(f"expected a 2-D image or (H, W, C) array, got shape {image.shape}")
    if channels is not None:
        bad = [c for c in channels if c >= img.shape[2]]
        if bad:
            raise CutoutFailure(f"image has {img.shape[2]} band(s); band index {bad[0]} requested")
        img = img[:, :, list(channels)]
    h, w = img.shape[:2]
    side = max(1, round(crop * min(h, w)))
    y0, x0 = (h - side) // 2, (w - side) // 2
    img = img[y0 : y0 + side, x0 : x0 + side]
    finite = np.isfinite(img)
    if not finite.any():
        raise CutoutFailure("no finite pixel in the cutout")
    sky = np.array([np.median(img[:, :, b][finite[:, :, b]]) for b in range(img.shape[2])])
    img = np.where(finite, img - sky.astype(np.float32), 0.0).astype(np.float32)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    small = small.reshape(size, size, img.shape[2])
    scale = float(np.percentile(np.abs(small), PERCENTILE))
    if not scale > 0:
        raise CutoutFailure("flat cutout (no signal above the sky after resampling)")
    out = np.arcsinh(STRETCH_Q * small / scale) / np.arcsinh(STRETCH_Q)
    return np.ascontiguousarray(out.transpose(2, 0, 1), dtype=np.float32)


@declared
class LearnedImageExtractor:
    """A self-supervised CNN embedding of each cutout (see the module docstring).

    Contract of a trainable extractor: ``trainable = True``; :meth:`fit` trains on the objects
    and writes the model; the constructor's ``model`` is the model file to embed with.
    """

    name = "learned"
    reads = "image"
    trainable = True
    SHARD_SIZE = 5000  # embedding costs well under a millisecond per cutout beside its reading

    PARAMS = Params(
        method=Param(
            str,
            "autoencoder",
            "self-supervised objective: autoencoder or simclr (contrastive)",
            enum=("simclr", "autoencoder"),
        ),
        dim=Param(int, 32, "embedding length (the number of features)", minimum=2, maximum=1024),
        size=Param(
            int,
            64,
            "side of the downsampled cutout in pixels (a multiple of 16)",
            minimum=16,
            maximum=512,
            extra={"multipleOf": 16},
        ),
        crop=Param(
            float,
            1.0,
            "central fraction of the cutout's side kept before downsampling",
            exclusive_minimum=0,
            maximum=1,
        ),
        channels=Param(
            list,
            None,
            "band indices used (null: every band of the image)",
            nullable=True,
            items={"type": "integer", "minimum": 0},
            extra={"minItems": 1},
        ),
        width=Param(int, 16, "channels of the first convolution (then 2x, 4x, 4x)", minimum=1),
        epochs=Param(int, 30, "passes over the training cutouts", minimum=1),
        batch_size=Param(int, 256, "cutouts per training step", minimum=2),
        learning_rate=Param(float, 0.002, "Adam's initial learning rate", exclusive_minimum=0),
        temperature=Param(float, 0.2, "simclr: NT-Xent temperature", exclusive_minimum=0),
        max_shift=Param(int, 4, "augmentation: largest shift in pixels (downsampled)", minimum=0),
        noise=Param(
            float, 0.05, "augmentation: largest Gaussian noise sd (stretched units)", minimum=0
        ),
        n_train=Param(
            int,
            None,
            "train on a seeded subsample of this many cutouts (null: all); every one is embedded",
            nullable=True,
            minimum=MIN_TRAIN,
        ),
        device=Param(
            str,
            "auto",
            "auto: a GPU (cuda, mps) if present, else the CPU",
            enum=("auto", "cpu", "cuda", "mps"),
        ),
        model=Param(
            str,
            None,
            "an already trained model file to embed with (e.g. another run's "
            "results/<name>/models/learned.model); null: train one in this run",
            nullable=True,
        ),
    )

    def __init__(
        self,
        method: str,
        dim: int,
        size: int,
        crop: float,
        channels: Sequence[int] | None,
        width: int,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        temperature: float,
        max_shift: int,
        noise: float,
        n_train: int | None,
        device: str,
        model: str | None,
        n_jobs: int = 1,
    ) -> None:
        if size % 16:
            raise ConfigError(f"features.size must be a multiple of 16, got {size}")
        if max_shift >= size // 2:
            raise ConfigError(
                f"features.max_shift {max_shift} must be below size / 2 ({size // 2})"
            )
        self.method, self.dim, self.size, self.crop = method, int(dim), int(size), float(crop)
        self.channels = None if channels is None else [int(c) for c in channels]
        self.width, self.epochs, self.batch_size = int(width), int(epochs), int(batch_size)
        self.learning_rate, self.temperature = float(learning_rate), float(temperature)
        self.max_shift, self.noise = int(max_shift), float(noise)
        self.n_train, self.device, self.model = n_train, device, model
        self.n_jobs = max(1, int(n_jobs))
        self._loaded: Any = None

    def names(self) -> list[str]:
        return [f"emb{k:03d}" for k in range(self.dim)]

    # -- cutouts -----------------------------------------------------------------------------

    def _one(self, path: str) -> tuple[np.ndarray | None, str | None]:
        from astroanom.sources.imageio import ImageReadError, load_image

        try:
            image = load_image(path)
        except ImageReadError as exc:
            return None, f"read: {exc}"
        try:
            return prepare(image, self.size, self.crop, self.channels), None
        except CutoutFailure as exc:
            return None, str(exc)

    def cutouts(self, objects: Any) -> tuple[np.ndarray, list[str | None]]:
        """(N, C, size, size) float32 of the objects' prepared cutouts (zeros where a cutout
        failed) and a reason per object (None if it is usable)."""
        from astroanom.features.image_extractor import image_paths

        paths = image_paths(objects, type(self).__name__)
        with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
            rows = list(pool.map(self._one, paths))
        shapes = {r.shape for r, _ in rows if r is not None}
        reasons = [why for _, why in rows]
        if len(shapes) > 1:  # cutouts with different numbers of bands
            common = max(shapes, key=lambda s: sum(r is not None and r.shape == s for r, _ in rows))
            for k, (r, _) in enumerate(rows):
                if r is not None and r.shape != common:
                    reasons[k] = f"image has {r.shape[0]} band(s); most have {common[0]}"
        shape = (
            next(iter(shapes))
            if len(shapes) == 1
            else common
            if shapes
            else (1, self.size, self.size)
        )
        data = np.zeros((len(rows), *shape), dtype=np.float32)
        for k, (r, _) in enumerate(rows):
            if reasons[k] is None:
                data[k] = r
        return data, reasons

    # -- the trainable-extractor contract ----------------------------------------------------

    def fit(
        self, objects: Any, model_path: str | os.PathLike[str], seed: int, n_jobs: int
    ) -> dict[str, Any]:
        """Train on the objects' cutouts (a seeded subsample of ``n_train`` of the usable ones
        if set) and write the model to ``model_path``. Returns the training's record (JSON):
        loss per epoch, seconds, device, threads, seed, n_train, failures."""
        enc = _encoder()
        self.n_jobs = max(1, int(n_jobs))
        t0 = time.perf_counter()
        data, reasons = self.cutouts(objects)
        usable = np.flatnonzero([r is None for r in reasons])
        t_read = time.perf_counter() - t0
        failed = [(str(i), r) for i, r in zip(objects["id"], reasons, strict=True) if r]
        if len(usable) < MIN_TRAIN:
            shown = "; ".join(f"{i}: {r}" for i, r in failed[:3])
            raise AstroanomError(
                f"features 'learned': only {len(usable)} of {len(objects)} cutouts are usable "
                f"for training, at least {MIN_TRAIN} are needed"
                + (f" (failures: {shown})" if shown else "")
                + "; fix the images or use another extractor"
            )
        rng = np.random.default_rng([int(seed), 0x7A1])
        if self.n_train is not None and len(usable) > self.n_train:
            usable = np.sort(rng.choice(usable, size=self.n_train, replace=False))
        log.info(
            "read %d cutouts in %.1f s (%d unusable); training on %d",
            len(objects),
            t_read,
            len(failed),
            len(usable),
        )
        arch = enc.Architecture(self.method, data.shape[1], self.size, self.width, self.dim)
        training = enc.Training(
            self.epochs,
            self.batch_size,
            self.learning_rate,
            self.temperature,
            self.max_shift,
            self.noise,
        )
        model, info = enc.train(data[usable], arch, training, seed, self.n_jobs, self.device)
        enc.save(model, model_path)
        log.info(
            "model written to %s (trained in %.1f s on %s)",
            model_path,
            info["seconds"],
            info["device"],
        )
        return {
            **info,
            "architecture": model["architecture"],
            "seed": int(seed),
            "n_objects": len(objects),
            "n_train": len(usable),
            "n_unusable": len(failed),
            "unusable_first": dict(failed[:10]),
            "read_seconds": t_read,
        }

    def _model(self) -> tuple[Any, Any]:
        if self._loaded is None:
            if self.model is None:
                raise ConfigError(
                    "features 'learned' has no trained model: the workflow trains one (rule "
                    "features_fit); in Python call fit() first or give model: <path>"
                )
            enc = _encoder()
            arch, net = enc.load(self.model)
            mine = {"dim": self.dim, "size": self.size, "width": self.width}
            theirs = {k: getattr(arch, k) for k in mine}
            if mine != theirs:
                diff = ", ".join(
                    f"{k} {theirs[k]} (features.{k}: {mine[k]})"
                    for k in mine
                    if mine[k] != theirs[k]
                )
                raise ConfigError(
                    f"model {self.model!r} was trained with {diff}; set those values or "
                    "train a new model"
                )
            self._loaded = (arch, net)
        return self._loaded

    def extract(self, objects: Any) -> tuple[np.ndarray, list[str | None]]:
        """(n, dim) float64 embeddings, NaN rows where a cutout failed; a reason per object."""
        arch, net = self._model()
        enc = _encoder()
        data, reasons = self.cutouts(objects)
        for k, r in enumerate(reasons):
            if r is None and data.shape[1] != arch.n_bands:
                reasons[k] = (
                    f"image has {data.shape[1]} band(s); the model was trained on {arch.n_bands}"
                )
        ok = np.flatnonzero([r is None for r in reasons])
        X = np.full((len(objects), self.dim), np.nan)
        if ok.size:
            X[ok] = enc.embed(net, data[ok], self.n_jobs, self.device, self.batch_size)
        for i, r in zip(objects["id"], reasons, strict=True):
            if r is not None:
                log.warning("%s failed: %s", i, r)
        return X, reasons
