"""Image display for the labeller and the export: stretches (linear, sqrt, log, asinh) between
percentile limits or IRAF's zscale limits (``astropy.visualization.ZScaleInterval``), colour
composites of three bands (Lupton et al. 2004 asinh composite via
``astropy.visualization.make_lupton_rgb``, or three independently stretched bands), and PNG bytes.

Pure functions of arrays (no Flask, no global state): :func:`render_image` takes an image as
:func:`astroanom.sources.imageio.load_image` returns it, (H, W) or (H, W, C), and the display
choices, and returns PNG bytes. Owned by the image kind (the labeller and the export both use it;
the export does not import the labeller).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

STRETCHES = ("linear", "sqrt", "log", "asinh")
MODES = ("auto", "band", "composite", "rgb")
#: how the limits are chosen: the ``lo``/``hi`` percentiles, or zscale (IRAF/ds9's)
INTERVALS = ("percentile", "zscale")
#: ``stretch=zscale`` in a request: ds9's "zscale" view, linear between zscale limits
ZSCALE_STRETCH = "zscale"

#: softening of the log and asinh stretches (on data scaled to 0..1 between the limits)
LOG_A = 1000.0
ASINH_A = 0.1
#: largest Lupton softening ``q`` a plot request may ask for (beyond it the picture is blank)
Q_MAX = 1000.0


def limits(plane: np.ndarray, lo: float = 0.5, hi: float = 99.5) -> tuple[float, float]:
    """The ``lo`` and ``hi`` percentiles of the finite pixels (vmin < vmax guaranteed unless the
    image is constant, where both are its value)."""
    if not 0.0 <= lo < hi <= 100.0:
        raise ValueError(f"percentile limits must satisfy 0 <= lo < hi <= 100, got {lo}, {hi}")
    vals = np.asarray(plane, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return 0.0, 0.0
    vmin, vmax = np.percentile(vals, [lo, hi])
    if vmax <= vmin:  # e.g. mostly-empty images: fall back to the full range
        vmin, vmax = float(vals.min()), float(vals.max())
    return float(vmin), float(vmax)


def zscale_limits(plane: np.ndarray) -> tuple[float, float]:
    """IRAF's zscale limits of the finite pixels (``astropy.visualization.ZScaleInterval``
    with its defaults: 1000 regularly spaced samples, contrast 0.25; deterministic). They
    follow the sky background and its noise, so faint structure shows and a bright star does
    not set the scale. Falls back to the full range where zscale gives vmin >= vmax."""
    from astropy.visualization import ZScaleInterval

    vals = np.asarray(plane, dtype=np.float64)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return 0.0, 0.0
    vmin, vmax = ZScaleInterval().get_limits(vals)
    if not vmax > vmin:
        vmin, vmax = float(vals.min()), float(vals.max())
    return float(vmin), float(vmax)


def interval_limits(
    plane: np.ndarray, lo: float = 0.5, hi: float = 99.5, interval: str = "percentile"
) -> tuple[float, float]:
    """(vmin, vmax) of ``plane`` by ``interval``: the ``lo``/``hi`` percentiles
    (:func:`limits`) or zscale (:func:`zscale_limits`, ``lo``/``hi`` unused)."""
    if interval == "percentile":
        return limits(plane, lo, hi)
    if interval == "zscale":
        return zscale_limits(plane)
    raise ValueError(f"unknown interval {interval!r}; use one of {', '.join(INTERVALS)}")


def stretch(
    plane: np.ndarray,
    kind: str = "asinh",
    lo: float = 0.5,
    hi: float = 99.5,
    vlim: tuple[float, float] | None = None,
    interval: str = "percentile",
) -> np.ndarray:
    """float32 (H, W) in [0, 1]: pixels scaled linearly to [0, 1] between the limits (the
    ``lo``/``hi`` percentiles, zscale's with ``interval="zscale"``, or ``vlim`` = (vmin,
    vmax)), clipped, then

    - linear: t;  sqrt: sqrt(t);
    - log:   log10(1 + a t) / log10(1 + a), a = 1000 (as ds9);
    - asinh: asinh(t / a) / asinh(1 / a), a = 0.1.

    These are ``astropy.visualization``'s ``LinearStretch``, ``SqrtStretch``,
    ``LogStretch(a=1000)`` and ``AsinhStretch(a=0.1)``, written in numpy so that a grey view
    does not import astropy (``tests/test_image_views.py`` checks they agree to the bit).
    NaN pixels (e.g. cutout padding) become 0 (black).
    """
    if kind not in STRETCHES:
        raise ValueError(f"unknown stretch {kind!r}; use one of {', '.join(STRETCHES)}")
    vmin, vmax = vlim if vlim is not None else interval_limits(plane, lo, hi, interval)
    x = np.asarray(plane, dtype=np.float64)
    t = (x - vmin) / (vmax - vmin) if vmax > vmin else np.zeros_like(x)
    t = np.clip(np.nan_to_num(t, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    if kind == "sqrt":
        t = np.sqrt(t)
    elif kind == "log":
        t = np.log10(1.0 + LOG_A * t) / np.log10(1.0 + LOG_A)
    elif kind == "asinh":
        t = np.arcsinh(t / ASINH_A) / np.arcsinh(1.0 / ASINH_A)
    return t.astype(np.float32)


def to_uint8(t: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 0..255 (rounded)."""
    return np.clip(np.rint(np.asarray(t) * 255.0), 0, 255).astype(np.uint8)


def lupton_composite(
    image: np.ndarray,
    rgb: Sequence[int] | None = None,
    q: float = 3.0,
    hi: float = 99.5,
) -> np.ndarray:
    """uint8 (H, W, 3) RGB asinh composite of bands ``rgb`` = (red, green, blue) indices
    (default :func:`default_rgb`: bands listed blue to red).

    Each band's background (its median) is subtracted; the linear range is
    set so that the ``hi`` percentile of the mean intensity maps to full scale; ``q`` is
    Lupton's softening (-> 0: linear; larger: fainter parts brighter, highlights compressed). Colours are kept: a pixel's
    three bands are scaled by the same factor.
    """
    from astropy.visualization import make_lupton_rgb

    bands = []
    for i in _check_rgb(image, rgb):
        b = np.asarray(image[:, :, i], dtype=np.float64)
        b = np.nan_to_num(b - np.nanmedian(b) if np.isfinite(b).any() else b, nan=0.0)
        bands.append(b)
    intensity = (bands[0] + bands[1] + bands[2]) / 3.0
    top = float(np.percentile(intensity, hi))
    span = top if top > 0 else float(intensity.max()) if intensity.max() > 0 else 1.0
    # astropy's Lupton mapping: y(I) = asinh(q I / stretch) * 0.1 / asinh(0.1 q), full scale at
    # y = 1; choose stretch so that I = span (the hi percentile) is exactly full scale
    q = max(float(q), 1e-3)
    stretch_ = q * span / np.sinh(np.arcsinh(0.1 * q) / 0.1)
    return make_lupton_rgb(bands[0], bands[1], bands[2], minimum=0.0, stretch=stretch_, Q=q)


def stretched_composite(
    image: np.ndarray,
    rgb: Sequence[int] | None = None,
    kind: str = "asinh",
    lo: float = 0.5,
    hi: float = 99.5,
    interval: str = "percentile",
) -> np.ndarray:
    """uint8 (H, W, 3): the three bands ``rgb`` each stretched between its own limits."""
    return np.dstack(
        [
            to_uint8(stretch(image[:, :, i], kind, lo, hi, interval=interval))
            for i in _check_rgb(image, rgb)
        ]
    )


def default_rgb(n_bands: int) -> tuple[int, int, int]:
    """Bands shown as (red, green, blue) by default for an image of ``n_bands`` >= 3 bands
    listed from short to long wavelength (g, r, z; u, g, r, i, z): the last band is red, the
    middle one green, the first blue, e.g. (2, 1, 0) for g, r, z."""
    return (n_bands - 1, n_bands // 2, 0)


def _check_rgb(image: np.ndarray, rgb: Sequence[int] | None) -> list[int]:
    n = image.shape[2] if image.ndim == 3 else 1
    idx = list(default_rgb(n)) if rgb is None else [int(i) for i in rgb]
    if len(idx) != 3 or not all(0 <= i < n for i in idx):
        raise ValueError(f"rgb must be three band indices below {n}, got {list(rgb)}")
    return idx


def reduce_to(image: np.ndarray, max_size: int) -> np.ndarray:
    """``image`` (H, W) or (H, W, C) reduced by an integer factor (area average, OpenCV's
    ``INTER_AREA``) until its longer side is at most ``max_size`` pixels; as it is if it fits.
    Done before any percentile or colour mapping, so a 20000 x 20000 cutout costs what a
    1000 x 1000 one does after it is read."""
    h, w = image.shape[:2]
    factor = -(-max(h, w) // max(1, int(max_size)))
    if factor <= 1:
        return image
    size = (max(1, w // factor), max(1, h // factor))  # OpenCV takes (width, height)
    a = image if image.dtype != np.float16 else image.astype(np.float32)
    if a.ndim == 2 or a.shape[2] <= 4:
        out = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
        return out.reshape(size[1], size[0], *a.shape[2:])
    planes = [cv2.resize(a[:, :, k], size, interpolation=cv2.INTER_AREA) for k in range(a.shape[2])]
    return np.dstack(planes)


def png_bytes(img: np.ndarray, min_size: int = 0) -> bytes:
    """PNG of a uint8 (H, W) grey or (H, W, 3) RGB image, enlarged by an integer factor (nearest
    neighbour, pixels stay square) until its shorter side is at least ``min_size``."""
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"expected uint8 (H, W) or (H, W, 3), got {img.dtype} {img.shape}")
    factor = max(1, -(-int(min_size) // max(1, min(img.shape[:2])))) if min_size else 1
    if factor > 1:
        img = np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)
    if img.ndim == 3:
        img = np.ascontiguousarray(img[:, :, ::-1])  # RGB -> BGR for OpenCV
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 array
        raise ValueError("cannot encode the image as PNG")
    return buf.tobytes()


def display_array(
    image: np.ndarray,
    mode: str = "auto",
    band: int = 0,
    kind: str = "asinh",
    lo: float = 0.5,
    hi: float = 99.5,
    rgb: Sequence[int] | None = None,
    composite: str = "lupton",
    q: float = 3.0,
    interval: str = "percentile",
) -> np.ndarray:
    """uint8 display image of ``image`` (H, W) or (H, W, C), its limits by ``interval``
    (``lo``/``hi`` percentiles, or zscale; not the Lupton composite's):

    - ``band``: band ``band`` alone, stretched (grey);
    - ``composite``: bands ``rgb`` as red, green, blue (default: the bands are listed from blue
      to red, see :func:`default_rgb`); ``composite`` "lupton" (asinh, colours
      kept; uses ``q`` and ``hi``) or "stretch" (each band stretched with ``kind``/``lo``/``hi``);
    - ``rgb``: an 8-bit colour picture (JPEG/PNG, channels stored R, G, B: default ``rgb``
      (0, 1, 2)) with one stretch on all three channels;
    - ``auto``: ``rgb`` for 8-bit 3-channel images, ``composite`` for >= 3 bands, else ``band``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown display mode {mode!r}; use one of {', '.join(MODES)}")
    n = image.shape[2] if image.ndim == 3 else 1
    if mode == "auto":
        mode = "rgb" if n >= 3 and image.dtype == np.uint8 else "composite" if n >= 3 else "band"
    if mode == "band":
        if not 0 <= band < n:
            raise ValueError(f"band {band} requested; the image has {n} band(s)")
        plane = image if image.ndim == 2 else image[:, :, band]
        return to_uint8(stretch(plane, kind, lo, hi, interval=interval))
    if n < 3:
        raise ValueError(f"a colour view needs 3 bands; the image has {n}")
    if mode == "rgb":
        idx = _check_rgb(image, (0, 1, 2) if rgb is None else rgb)  # JPEG/PNG: stored as RGB
        vlim = interval_limits(image[:, :, idx], lo, hi, interval)  # one scale: colours kept
        return np.dstack([to_uint8(stretch(image[:, :, i], kind, vlim=vlim)) for i in idx])
    if composite == "lupton":
        return lupton_composite(image, rgb, q=q, hi=hi)
    if composite == "stretch":
        return stretched_composite(image, rgb, kind, lo, hi, interval)
    raise ValueError(f"unknown composite {composite!r}; use lupton or stretch")


def render_image(image: np.ndarray, min_size: int = 0, **display: object) -> bytes:
    """PNG bytes of :func:`display_array` (``display`` = its keyword choices)."""
    return png_bytes(display_array(np.asarray(image), **display), min_size)  # type: ignore[arg-type]


def render_file(path: str | os.PathLike[str], min_size: int = 0, **display: object) -> bytes:
    """Read a cutout with :func:`~astroanom.sources.imageio.load_image` and render it; raises
    :class:`~astroanom.sources.imageio.ImageReadError` for an unreadable file."""
    from astroanom.sources.imageio import load_image

    return render_image(load_image(path), min_size, **display)


def parse_display(query: Mapping[str, str]) -> dict[str, Any]:
    """Validated display choices from request parameters (all optional strings):
    ``mode``, ``band``, ``stretch`` (-> ``kind``; ``zscale`` is linear between zscale limits,
    ds9's view), ``interval`` (percentile or zscale), ``lo``, ``hi``, ``rgb`` ("2,1,0"),
    ``composite``, ``q``. Raises ``ValueError`` naming the bad parameter."""
    out: dict[str, Any] = {}

    def num(key: str, cast: type) -> Any:
        try:
            return cast(query[key])
        except (TypeError, ValueError):
            raise ValueError(f"display parameter {key}={query[key]!r} is not a number") from None

    if "mode" in query:
        if query["mode"] not in MODES:
            raise ValueError(f"display parameter mode={query['mode']!r}: use one of {MODES}")
        out["mode"] = query["mode"]
    if "stretch" in query:
        if query["stretch"] == ZSCALE_STRETCH:
            out["kind"], out["interval"] = "linear", "zscale"
        elif query["stretch"] not in STRETCHES:
            raise ValueError(
                f"display parameter stretch={query['stretch']!r}: use one of "
                f"{(*STRETCHES, ZSCALE_STRETCH)}"
            )
        else:
            out["kind"] = query["stretch"]
    if "interval" in query:
        if query["interval"] not in INTERVALS:
            raise ValueError(
                f"display parameter interval={query['interval']!r}: use one of {INTERVALS}"
            )
        out["interval"] = query["interval"]
    if "composite" in query:
        if query["composite"] not in ("lupton", "stretch"):
            raise ValueError(f"display parameter composite={query['composite']!r}: lupton|stretch")
        out["composite"] = query["composite"]
    if "band" in query:
        out["band"] = num("band", int)
    for key in ("lo", "hi", "q"):
        if key in query:
            out[key] = num(key, float)
    if "q" in out and not 0.0 < out["q"] <= Q_MAX:
        raise ValueError(f"display parameter q={query['q']!r}: a number above 0, at most {Q_MAX:g}")
    lo, hi = out.get("lo", 0.5), out.get("hi", 99.5)
    if not 0.0 <= lo < hi <= 100.0:
        raise ValueError(f"display percentiles must satisfy 0 <= lo < hi <= 100, got {lo}, {hi}")
    if "rgb" in query:
        try:
            rgb = tuple(int(v) for v in str(query["rgb"]).split(","))
        except ValueError:
            raise ValueError(
                f"display parameter rgb={query['rgb']!r}: three band indices"
            ) from None
        if len(rgb) != 3 or min(rgb) < 0:
            raise ValueError(f"display parameter rgb={query['rgb']!r}: three band indices")
        out["rgb"] = rgb
    return out
