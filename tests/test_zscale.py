"""Image display with astropy.visualization: zscale limits (ZScaleInterval) as an option, and
the numpy stretches equal to astropy's to the bit (so the default view is unchanged)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from astropy.visualization import (
    AsinhStretch,
    LinearStretch,
    LogStretch,
    SqrtStretch,
    ZScaleInterval,
)

from astroanom.kinds.image_display import (
    display_array,
    interval_limits,
    limits,
    parse_display,
    render_image,
    stretch,
    to_uint8,
    zscale_limits,
)
from astroanom.pipeline.export import thumbnail_display

ASTROPY = {
    "linear": LinearStretch(),
    "sqrt": SqrtStretch(),
    "log": LogStretch(a=1000),
    "asinh": AsinhStretch(a=0.1),
}


def sky_with_star(seed: int = 0) -> np.ndarray:
    """64 x 64 sky, N(100, 5), with a 7 x 7 star of 10000 (1.2 % of the pixels)."""
    img = np.random.default_rng(seed).normal(100.0, 5.0, (64, 64))
    img[20:27, 30:37] = 10000.0
    return img


@pytest.mark.parametrize("kind", sorted(ASTROPY))
def test_numpy_stretches_are_astropys_to_the_bit(kind):
    img = np.random.default_rng(1).lognormal(size=(80, 90))
    vmin, vmax = limits(img)
    t = np.clip((img - vmin) / (vmax - vmin), 0.0, 1.0)
    theirs = ASTROPY[kind](t, clip=True).astype(np.float32)
    ours = stretch(img, kind)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(to_uint8(ours), to_uint8(theirs))


def test_zscale_follows_the_sky_not_the_star():
    img = sky_with_star()
    z = zscale_limits(img)
    assert z == pytest.approx(ZScaleInterval().get_limits(img))
    # the star (1.2 % of the pixels) sets the 99.5 percentile; zscale stays near the noise
    assert limits(img)[1] == 10000.0
    # zscale stays within a few sigma (5) of the sky's median (100), far below the star
    assert 100 - 4 * 5 < z[0] < 100 < z[1] < 100 + 8 * 5
    noise = zscale_limits(np.random.default_rng(0).normal(100.0, 5.0, (64, 64)))
    assert 100 - 4 * 5 < noise[0] < 100 < noise[1] < 100 + 4 * 5
    view = display_array(img, mode="band", kind="linear", interval="zscale")
    sky = np.ones(img.shape, bool)
    sky[20:27, 30:37] = False
    assert (view[~sky] == 255).all()
    lo, hi = z  # the sky median maps to (100 - lo) / (hi - lo) of full scale, the noise shows
    assert abs(np.median(view[sky]) - 255 * (100 - lo) / (hi - lo)) < 5 and view[sky].std() > 20
    flat = display_array(img, mode="band", kind="linear")  # percentile limits: sky is black
    assert np.median(flat[sky]) <= 1
    assert interval_limits(img, interval="zscale") == z
    with pytest.raises(ValueError, match="unknown interval 'minmax'"):
        interval_limits(img, interval="minmax")


def test_zscale_edge_cases():
    assert zscale_limits(np.full((5, 5), np.nan)) == (0.0, 0.0)
    assert zscale_limits(np.full((5, 5), 3.0)) == (3.0, 3.0)  # constant: the full range
    ramp = np.arange(100.0).reshape(10, 10)
    ramp[0, 0] = np.nan
    lo, hi = zscale_limits(ramp)
    assert 1.0 <= lo < hi <= 99.0


def test_default_view_is_the_percentile_asinh_by_hand():
    """The default (no choices) is unchanged: asinh between the 0.5 and 99.5 percentiles."""
    img = sky_with_star(2)
    lo, hi = np.percentile(img, [0.5, 99.5])
    t = np.clip((img - lo) / (hi - lo), 0, 1)
    expected = np.clip(np.rint(np.arcsinh(t / 0.1) / np.arcsinh(10.0) * 255.0), 0, 255)
    got = cv2.imdecode(np.frombuffer(render_image(img), np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(got, expected.astype(np.uint8))


def test_parse_display_and_export_choice():
    assert parse_display({"stretch": "zscale"}) == {"kind": "linear", "interval": "zscale"}
    assert parse_display({"stretch": "asinh", "interval": "zscale"}) == {
        "kind": "asinh",
        "interval": "zscale",
    }
    with pytest.raises(ValueError, match="interval='iraf'"):
        parse_display({"interval": "iraf"})
    with pytest.raises(ValueError, match="'zscale'"):  # the error lists zscale among stretches
        parse_display({"stretch": "gamma"})
    assert thumbnail_display("asinh") == {}  # the export's default bytes are unchanged
    assert thumbnail_display("zscale") == {"kind": "linear", "interval": "zscale"}
    assert thumbnail_display("log") == {"kind": "log"}
    rgb = np.dstack([sky_with_star(k) for k in range(3)])
    comp = display_array(rgb, mode="composite", composite="stretch", interval="zscale")
    assert comp.shape == (64, 64, 3) and comp.dtype == np.uint8


def test_labeller_plot_takes_zscale(tmp_path):
    from labeller_helpers import image_dataset

    from astroanom.labeller import LabellerSettings, create_app

    d = image_dataset(tmp_path / "run", n=3)
    settings = LabellerSettings(alpha=1.0, n_estimators=10, seed=0, strategy={"name": "paper"})
    client = create_app(d, tmp_path / "l.csv", "u", settings).test_client()
    assert 'value="zscale"' in client.get("/").get_data(as_text=True)
    resp = client.get("/api/plot?id=gal_000&stretch=zscale")
    assert resp.status_code == 200 and resp.data[:4] == b"\x89PNG"
    assert client.get("/api/plot?id=gal_000&interval=nope").status_code == 400
