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


def hdu_layout(hdul) -> str:
    """What a FITS file holds, for messages: ``HDU 0 PrimaryHDU (no data); HDU 1 BinTableHDU
    'CAT' table of 12 rows x 3 columns``."""
    parts = []
    for i, h in enumerate(hdul):
        kind = type(h).__name__
        name = f" {h.name!r}" if h.name and h.name != "PRIMARY" else ""
        data = getattr(h, "data", None)
        if data is None:
            what = "no data"
        elif h.is_image:
            what = "image " + " x ".join(str(n) for n in data.shape) + " (numpy axis order)"
        else:
            what = f"table of {len(data)} rows x {len(data.columns)} columns"
        parts.append(f"HDU {i} {kind}{name} {what}")
    return "; ".join(parts)


_EXPECTS = (
    "the images source reads the first image HDU with data: 2 axes (y, x) or 3 (planes, y, x), "
    "up to 4 planes, or more when the header key BANDS names them (e.g. BANDS = 'u,g,r,i,z')"
)


def _load_fits(path: Path) -> np.ndarray:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            hdu = next((h for h in hdul if h.is_image and h.data is not None), None)
            layout = hdu_layout(hdul)
            data = None if hdu is None else hdu.data
            bands = None if hdu is None else hdu.header.get("BANDS")
    except (OSError, ValueError, TypeError) as exc:
        raise ImageReadError(f"unreadable FITS file: {exc}") from exc
    if data is None:
        table = "; a table of features is source.kind: table" if "table of" in layout else ""
        raise ImageReadError(f"FITS file has no image data ({layout}); {_EXPECTS}{table}")
    arr = np.asarray(data, dtype=np.float32)
    # (C, H, W) -> (H, W, C): up to 4 planes, or any number named by a BANDS header key
    # (the multi-band cutouts of sources/fits_mosaic.py)
    named = isinstance(bands, str) and len(bands.split(",")) == (arr.shape[0] if arr.ndim else 0)
    if arr.ndim == 3 and (arr.shape[0] <= 4 < arr.shape[2] or named):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim not in (2, 3):
        raise ImageReadError(f"FITS image has {arr.ndim} dimensions ({layout}); {_EXPECTS}")
    if arr.ndim == 3 and arr.shape[2] > 4 and not named:
        have = (
            f"BANDS = {bands!r} names {len(bands.split(','))}"
            if isinstance(bands, str)
            else "no BANDS key"
        )
        raise ImageReadError(
            f"FITS cube of {data.shape[0]} planes of {data.shape[1]} x {data.shape[2]} pixels "
            f"({have}; {layout}); {_EXPECTS}: add BANDS with {data.shape[0]} names, or write "
            "one cutout of up to 4 planes per file"
        )
    if not np.isfinite(arr).any():
        raise ImageReadError("FITS image has no finite pixel (all NaN or inf)")
    return arr


def jpeg_has_end(raw: bytes) -> bool:
    """Whether the JPEG in ``raw`` has its end-of-image marker (FF D9) after the image data.

    The header segments (length-prefixed; they may hold an EXIF thumbnail with its own FF D9)
    are skipped up to the first start-of-scan (FF DA); in the scan data every FF byte is
    followed by 00 or a restart marker, so an FF D9 after it is the end of the image. Bytes
    after the marker (padding, appended data) are ignored, as OpenCV and Pillow do.
    """
    pos, n = 2, len(raw)
    while pos + 4 <= n:
        if raw[pos] != 0xFF:
            return False  # not a marker where one must be: corrupt header
        marker = raw[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return False  # end of image before any scan
        if marker == 0xDA:
            return raw.find(b"\xff\xd9", pos + 2) != -1
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        pos += 2 + int.from_bytes(raw[pos + 2 : pos + 4], "big")
    return False


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
    if raw[:2] == b"\xff\xd8" and not jpeg_has_end(raw):
        raise ImageReadError("truncated JPEG (no end-of-image marker)")
    img = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise ImageReadError("cannot decode image (corrupt or unsupported format)")
    if img.ndim == 3:
        img = img[:, :, 2::-1] if img.shape[2] >= 3 else img[:, :, :1]  # BGR(A) -> RGB
    return img
