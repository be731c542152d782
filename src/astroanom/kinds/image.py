"""Objects that are images (cutouts: FITS, PNG, JPEG), one file per object (``image_path``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from astroanom.errors import AstroanomError
from astroanom.kinds.base import ObjectKind, RunObjects, TopObjects, View

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

#: Shorter side of the export's thumbnails, in pixels (small cutouts are enlarged).
THUMBNAIL_MIN_SIZE = 160
#: Longer side of the export's thumbnails at most, in pixels (larger cutouts are reduced by an
#: integer factor, area average; the page shows them 280 px wide).
THUMBNAIL_MAX_SIZE = 320
#: JPEG quality of the export's thumbnails (a 424 x 424 colour cutout: ~10 KB, not 335 KB PNG;
#: 50 synthetic galaxies: 18.6 KB at 85, 13.6 KB at 75, no difference seen at twice the size).
THUMBNAIL_JPEG_QUALITY = 75
#: Longest side of a cutout as the labeller shows it, in pixels (larger ones are reduced by
#: area averaging before their colours are mapped).
DISPLAY_MAX_PX = 1024


def raw_png(image: np.ndarray) -> bytes:
    """PNG of an image as loaded, without display choices: 8-bit data as it is, other data
    (FITS, 16-bit PNG) stretched linearly from the 0.5 to the 99.5 percentile."""
    import cv2
    import numpy as np

    img = image
    if img.dtype != np.uint8:
        a = np.nan_to_num(np.asarray(img, dtype=np.float64))
        lo, hi = np.percentile(a, [0.5, 99.5])
        img = np.clip((a - lo) / (hi - lo if hi > lo else 1.0) * 255, 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] >= 3:
        img = np.ascontiguousarray(img[:, :, 2::-1])  # RGB(A) -> BGR for OpenCV
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise AstroanomError("cannot encode the image as PNG")
    return buf.tobytes()


def jpeg_bytes(img: np.ndarray, min_size: int = 0, quality: int = THUMBNAIL_JPEG_QUALITY) -> bytes:
    """JPEG of a uint8 (H, W) grey or (H, W, 3) RGB image, enlarged by an integer factor
    (nearest neighbour) until its shorter side is at least ``min_size`` px."""
    import cv2
    import numpy as np

    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise AstroanomError(f"expected a uint8 (H, W) or (H, W, 3) image, got {img.dtype}")
    factor = -(-int(min_size) // max(1, min(img.shape[:2]))) if min_size else 1
    if factor > 1:
        img = np.repeat(np.repeat(img, factor, axis=0), factor, axis=1)
    if img.ndim == 3:
        img = np.ascontiguousarray(img[:, :, ::-1])  # RGB -> BGR for OpenCV
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 array
        raise AstroanomError("cannot encode the image as JPEG")
    return buf.tobytes()


class ImageKind(ObjectKind):
    name = "image"
    plural = "images"
    columns = ("image_path",)
    default_features = {"kind": "ellipse"}
    display_options = True
    view_thread_safe = True  # OpenCV only: not serialised with the matplotlib views

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        from astroanom.kinds.image_display import parse_display

        return parse_display(query)

    def load(self, run: RunObjects, oid: str) -> np.ndarray:
        """The cutout as the feature pipeline reads it ((H, W) or (H, W, C))."""
        from astroanom.sources.imageio import load_image

        return load_image(run.file(oid, "image_path"))

    def labeller_view(self, run: RunObjects) -> View:
        """The cutout reduced to :data:`DISPLAY_MAX_PX` (so a huge one costs what a small one
        does once read); with display choices (stretch, limits, band, composite) through
        :mod:`astroanom.kinds.image_display`, without them :func:`raw_png`. A file that cannot
        be read is an :class:`AstroanomError` naming it; choices the image cannot take (band 99
        of 3) a ``ValueError`` naming the object."""
        import astropy.visualization  # noqa: F401  (the composite's; ~1 s on first use otherwise)

        from astroanom.kinds.image_display import reduce_to, render_image

        def view(oid: str, display: Mapping[str, Any]) -> bytes:
            path = run.file(oid, "image_path")
            try:
                image = reduce_to(self.load(run, oid), DISPLAY_MAX_PX)
            except Exception as err:  # ImageReadError and decoder errors alike
                raise AstroanomError(f"cannot read image {path} of object {oid}: {err}") from err
            if not display:
                return raw_png(image)
            try:
                return render_image(image, **display)
            except ValueError as err:
                raise ValueError(f"object {oid}: {err}") from None

        return view

    def thumbnail(self, run: RunObjects, oid: str, display: Mapping[str, Any]) -> bytes:
        """JPEG of the cutout for the export page: reduced to at most
        :data:`THUMBNAIL_MAX_SIZE` px (before the colours are mapped, as the labeller does),
        small ones enlarged until the shorter side is at least :data:`THUMBNAIL_MIN_SIZE` px,
        with the display choices of :func:`astroanom.kinds.image_display.display_array`
        (default: asinh, auto colours)."""
        from astroanom.kinds.image_display import display_array, reduce_to

        image = reduce_to(self.load(run, oid), THUMBNAIL_MAX_SIZE)
        return jpeg_bytes(display_array(image, **display), THUMBNAIL_MIN_SIZE)

    def top_figure(self, top: TopObjects) -> Figure:
        from astroanom.plots import overview

        paths = top.objects["image_path"].to_numpy()[top.rows]
        return overview.top_images(paths, top.ids, top.scores, top.title)


KIND = ImageKind()
