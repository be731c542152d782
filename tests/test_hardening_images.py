"""Issue 9 hardening of image input: JPEGs with bytes after their end marker, and FITS images
with non-finite pixels at the centre."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from astroanom.features.ellipse import image_features
from astroanom.features.ellipse_extractor import EllipseExtractor
from astroanom.features.preprocess import PreprocessFailure, sigma_clip_central
from astroanom.sources.imageio import ImageReadError, load_image

NONFINITE_RADIUS = 3  # px, the documented rule (astroanom.features.preprocess.NONFINITE_RADIUS)


def _blob(size: int = 64, radius: float = 8.0, dtype=np.uint8) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    img = 10 + 200 * np.exp(-((xx - size / 2) ** 2 + (yy - size / 2) ** 2) / (2 * radius**2))
    return img.astype(dtype)


def _jpeg(img: np.ndarray, progressive: bool = False) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)]
    ok, buf = cv2.imencode(".jpg", img, params)
    assert ok
    return buf.tobytes()


# -- item 6: bytes after the JPEG end marker -----------------------------------------------------
@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize(
    "tail",
    [b"\x00" * 100, bytes(range(256)) * 2, b"\xff\xd9" + b"x" * 80, b"\r\n" * 64],
    ids=["zeros", "all-bytes", "second-eoi", "crlf"],
)
def test_jpeg_with_trailing_bytes_is_read_like_opencv(tmp_path, tail, progressive):
    raw = _jpeg(np.dstack([_blob()] * 3), progressive)
    path = tmp_path / "g.jpg"
    path.write_bytes(raw + tail)
    got = load_image(path)
    ref = cv2.imdecode(np.frombuffer(raw + tail, np.uint8), cv2.IMREAD_UNCHANGED)[:, :, ::-1]
    assert np.array_equal(got, ref)
    clean = tmp_path / "clean.jpg"
    clean.write_bytes(raw)
    assert np.array_equal(got, load_image(clean))


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_jpeg_is_still_refused(tmp_path, keep):
    raw = _jpeg(np.dstack([_blob(128)] * 3))
    path = tmp_path / "t.jpg"
    path.write_bytes(raw[: int(len(raw) * keep)])
    with pytest.raises(ImageReadError, match="truncated JPEG"):
        load_image(path)


def test_truncated_jpeg_with_a_thumbnail_marker_in_its_header_is_refused(tmp_path):
    """An FF D9 inside a header segment (e.g. an EXIF thumbnail) is not the image's end."""
    raw = _jpeg(np.dstack([_blob(128)] * 3))
    payload = b"Exif\x00\x00" + b"\xff\xd8thumb\xff\xd9"
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    with_thumb = raw[:2] + app1 + raw[2:]
    path = tmp_path / "t.jpg"
    path.write_bytes(with_thumb)
    assert load_image(path).shape == (128, 128, 3)  # complete: fine
    path.write_bytes(with_thumb[: len(with_thumb) // 2])
    with pytest.raises(ImageReadError, match="truncated JPEG"):
        load_image(path)


# -- item 11: non-finite pixels at the centre of a FITS image ------------------------------------
def _fits(path, data):
    from astropy.io import fits

    fits.writeto(path, data.astype(np.float32), overwrite=True)
    return str(path)


def test_nan_at_the_centre_is_a_failure_with_reason(tmp_path):
    clean = _blob(64, 8.0, np.float32)
    holed = clean.copy()
    holed[30:34, 30:34] = np.nan  # masked pixels at the centre
    objects = pd.DataFrame(
        {
            "id": ["clean", "holed"],
            "image_path": [
                _fits(tmp_path / "clean.fits", clean),
                _fits(tmp_path / "holed.fits", holed),
            ],
        }
    )
    X, reasons = EllipseExtractor().extract(objects)
    assert reasons[0] is None and np.isfinite(X[0]).all()
    assert reasons[1] == "16 non-finite pixel(s) (NaN/inf) within 3 px of the image centre"
    assert np.isnan(X[1]).all()


def test_nan_inside_the_source_off_centre_is_a_failure():
    img = _blob(64, 8.0, np.float32)
    img[32, 38] = np.nan  # 6 px from the centre, inside the blob
    with pytest.raises(PreprocessFailure, match="1 non-finite pixel.* inside or bordering"):
        sigma_clip_central(img)
    img = _blob(64, 8.0, np.float32)
    img[32, 38] = np.inf
    assert image_features(img).reason.startswith("1 non-finite pixel")


def test_nan_notch_at_the_source_edge_is_a_failure():
    img = _blob(64, 8.0, np.float32)
    pre = sigma_clip_central(img)
    x, y, w, h = pre.bbox
    img[y + h // 2, x + w - 1 :] = np.nan  # cut the source's right edge to the border
    with pytest.raises(PreprocessFailure, match="inside or bordering the central source"):
        sigma_clip_central(img)


def test_nan_far_from_the_source_is_ignored():
    img = _blob(64, 6.0, np.float32)
    ref = image_features(img)
    img[:6, :6] = np.nan  # a masked corner, as at the edge of a survey footprint
    img[60:, 50:] = -np.inf
    res = image_features(img)
    assert ref.reason is None and res.reason is None
    assert res.values.shape == ref.values.shape and np.isfinite(res.values).all()


def test_centre_box_edge():
    """A NaN 3 px from the centre is caught by the box; 4 px away it is caught only if it is in
    the source: on a source-less noise image the reason stays 'no source'."""
    img = _blob(64, 8.0, np.float32)
    img[32 + NONFINITE_RADIUS, 32] = np.nan
    with pytest.raises(PreprocessFailure, match="within 3 px of the image centre"):
        sigma_clip_central(img)
    img = _blob(64, 8.0, np.float32)
    img[32 + NONFINITE_RADIUS + 1, 32] = np.nan
    with pytest.raises(PreprocessFailure, match="inside or bordering"):
        sigma_clip_central(img)
    noise = np.random.default_rng(0).normal(10, 1, (64, 64)).astype(np.float32)
    noise[32 + NONFINITE_RADIUS + 1, 32] = np.nan
    with pytest.raises(PreprocessFailure, match="encloses the image centre"):
        sigma_clip_central(noise)
