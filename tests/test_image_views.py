"""Image display: stretch values by hand, percentile limits, composites keep colours, PNG bytes
decode to what was asked for."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from astroanom.kinds.image_display import (
    display_array,
    limits,
    lupton_composite,
    parse_display,
    render_file,
    render_image,
    stretch,
)


def decode(png: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    return img[:, :, ::-1] if img.ndim == 3 else img  # BGR -> RGB


def test_stretch_values_by_hand():
    """Ramp 0..100 with limits 0 and 100: t = x / 100; at t = 0.5 linear 0.5, sqrt 0.7071,
    log10(1 + 500) / log10(1001) = 0.89990, asinh(5) / asinh(10) = 0.77126."""
    ramp = np.linspace(0, 100, 101).reshape(1, -1)
    got = {k: stretch(ramp, k, lo=0, hi=100)[0, 50] for k in ("linear", "sqrt", "log", "asinh")}
    assert got["linear"] == pytest.approx(0.5)
    assert got["sqrt"] == pytest.approx(np.sqrt(0.5), rel=1e-6)
    assert got["log"] == pytest.approx(np.log10(501) / np.log10(1001), rel=1e-6)
    assert got["asinh"] == pytest.approx(np.arcsinh(5) / np.arcsinh(10), rel=1e-6)
    for k in ("linear", "sqrt", "log", "asinh"):
        s = stretch(ramp, k, lo=0, hi=100)[0]
        assert s[0] == 0 and s[-1] == pytest.approx(1) and (np.diff(s) > 0).all()
    with pytest.raises(ValueError, match="unknown stretch"):
        stretch(ramp, "gamma")


def test_percentile_limits_clip_and_nan_is_black():
    """1..1000: the 10th and 90th percentiles are 100.9 and 900.1; values beyond clip to 0 / 1."""
    x = np.arange(1, 1001, dtype=np.float64).reshape(10, 100)
    assert limits(x, 10, 90) == pytest.approx((100.9, 900.1))
    s = stretch(x, "linear", 10, 90)
    assert s.min() == 0 and s.max() == 1 and (s == 0).sum() == 100 and (s == 1).sum() == 100
    x[0, 0] = np.nan
    assert stretch(x, "asinh")[0, 0] == 0
    assert limits(np.full((3, 3), 4.0)) == (4.0, 4.0)
    assert (stretch(np.full((3, 3), 4.0), "linear") == 0).all()


def test_band_png_round_trip_and_upscaling():
    rng = np.random.default_rng(0)
    cube = rng.normal(size=(40, 50, 3)).astype(np.float32)
    png = render_image(cube, mode="band", band=2, kind="linear", lo=0, hi=100, min_size=120)
    img = decode(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and img.shape == (120, 150)  # factor 3
    expect = np.rint(stretch(cube[:, :, 2], "linear", 0, 100) * 255).astype(np.uint8)
    np.testing.assert_array_equal(img[::3, ::3], expect)
    with pytest.raises(ValueError, match="band 3 requested; the image has 3"):
        render_image(cube, mode="band", band=3)


def test_composites_keep_colours():
    """Bands listed blue to red: a source only in band 2 (the reddest) next to one only in band
    1: the Lupton composite shows pure red and pure green there, black background; with
    rgb = (0, 1, 2) band 0 is shown red instead."""
    n = 32
    y, x = np.mgrid[:n, :n]
    blob = lambda cx: 100 * np.exp(-((x - cx) ** 2 + (y - 16) ** 2) / 8.0)  # noqa: E731
    cube = np.dstack([np.zeros((n, n)), blob(24), blob(8)]).astype(np.float32)
    rgb = lupton_composite(cube)
    assert rgb.dtype == np.uint8 and rgb.shape == (n, n, 3)
    assert rgb[16, 8, 0] > 200 and rgb[16, 8, 1] == 0 and rgb[16, 8, 2] == 0
    assert rgb[16, 24, 1] > 200 and rgb[16, 24, 0] == 0 and rgb[16, 24, 2] == 0
    assert (rgb[0, 16] == 0).all()
    swapped = display_array(cube, mode="composite", rgb=(0, 1, 2))  # band 2 shown blue
    assert swapped[16, 8, 2] > 200 and swapped[16, 8, 0] == 0
    st = display_array(cube, mode="composite", composite="stretch", kind="linear", lo=0, hi=100)
    assert st[16, 8, 0] == 255 and st[16, 8, 1] < 5
    assert (decode(render_image(cube, mode="composite")) == rgb).all()  # auto for 3 float bands
    with pytest.raises(ValueError, match="needs 3 bands"):
        display_array(cube[:, :, :2], mode="composite")


def test_eight_bit_rgb_shown_as_stored_with_one_stretch(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = np.arange(8)[None, :] * 30
    rgb[0, 0] = (0, 0, 255)
    cv2.imwrite(str(tmp_path / "a.png"), rgb[:, :, ::-1])
    img = decode(render_file(tmp_path / "a.png", kind="linear", lo=0, hi=100))
    np.testing.assert_array_equal(img, rgb)  # limits 0..255 over all channels: unchanged


def test_parse_display_from_request_parameters():
    q = {"mode": "composite", "stretch": "log", "lo": "1", "hi": "99", "rgb": "2,1,0", "q": "5"}
    assert parse_display(q) == {
        "mode": "composite", "kind": "log", "lo": 1.0, "hi": 99.0, "rgb": (2, 1, 0), "q": 5.0,
    }  # fmt: skip
    assert parse_display({}) == {}
    for bad, msg in [
        ({"stretch": "gamma"}, "stretch='gamma'"),
        ({"lo": "x"}, "lo='x' is not a number"),
        ({"lo": "50", "hi": "40"}, "0 <= lo < hi <= 100"),
        ({"rgb": "1,2"}, "three band indices"),
        ({"mode": "bogus"}, "mode='bogus'"),
    ]:
        with pytest.raises(ValueError, match=msg):
            parse_display(bad)
