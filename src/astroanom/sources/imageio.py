"""Reading image cutouts (JPEG, PNG, FITS) into numpy arrays, with bad files reported, not raised
past the caller: :func:`load_image` raises :class:`ImageReadError` whose message is the reason."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")


class ImageReadError(Exception):
    """The file cannot be read as an image; ``str(exc)`` is the recorded reason."""


def is_fits(path: str | os.PathLike[str]) -> bool:
    name = str(path).lower()
    return name.endswith((".fits", ".fit", ".fts", ".fits.gz", ".fit.gz"))


def _load_fits(path: Path) -> np.ndarray:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            hdu = next((h for h in hdul if getattr(h, "data", None) is not None), None)
            data = None if hdu is None else hdu.data
            bands = None if hdu is None else hdu.header.get("BANDS")
    except (OSError, ValueError, TypeError) as exc:
        raise ImageReadError(f"unreadable FITS file: {exc}") from exc
    if data is None:
        raise ImageReadError("FITS file has no image data")
    arr = np.asarray(data, dtype=np.float32)
    # (C, H, W) -> (H, W, C): up to 4 planes, or any number named by a BANDS header key
    # (the multi-band cutouts of sources/fits_mosaic.py)
    named = isinstance(bands, str) and len(bands.split(",")) == (arr.shape[0] if arr.ndim else 0)
    if arr.ndim == 3 and (arr.shape[0] <= 4 < arr.shape[2] or named):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim not in (2, 3):
        raise ImageReadError(f"FITS image has {arr.ndim} dimensions; expected 2 or 3")
    if not np.isfinite(arr).any():
        raise ImageReadError("FITS image has no finite pixel (all NaN or inf)")
    return arr


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one cutout: (H, W) or (H, W, C) with colour channels in RGB order.

    JPEG/PNG come back as uint8 (or uint16 for 16-bit PNG), FITS as float32. Raises
    :class:`ImageReadError` for a missing, empty, truncated or undecodable file.
    """
    p = Path(path)
    if is_fits(p):
        if not p.is_file():
            raise ImageReadError("file not found")
        if p.stat().st_size == 0:
            raise ImageReadError("empty file (0 bytes)")
        return _load_fits(p)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise ImageReadError("file not found") from exc
    except OSError as exc:
        raise ImageReadError(f"cannot read file: {exc}") from exc
    if not raw:
        raise ImageReadError("empty file (0 bytes)")
    if raw[:2] == b"\xff\xd8" and b"\xff\xd9" not in raw[-64:]:
        raise ImageReadError("truncated JPEG (no end-of-image marker)")
    img = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise ImageReadError("cannot decode image (corrupt or unsupported format)")
    if img.ndim == 3:
        img = img[:, :, 2::-1] if img.shape[2] >= 3 else img[:, :, :1]  # BGR(A) -> RGB
    return img
