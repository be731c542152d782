"""FITS mosaics + catalogue -> cutouts: positions through a TAN WCS checked against a hand-coded
gnomonic projection, centring by measured centroids, edges padded or failed, two tiles, pixel
catalogues, FITS tables, and the error paths."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from astroanom.errors import ConfigError
from astroanom.sources.fits_mosaic import FitsMosaicSource, _open_tile, cut_window
from astroanom.sources.imageio import ImageReadError, load_image

RA0, DEC0 = 150.0, 2.0
SCALE = 0.262 / 3600  # deg / pixel
SIGMA = 1.8  # source width (pixels)


def tan_pixel(ra, dec, crpix):
    """0-based pixel (x, y) of (ra, dec) in a TAN projection at (RA0, DEC0), RA to the left:
    standard coordinates xi, eta (Calabretta & Greisen 2002) divided by the pixel scale."""
    a, d = np.radians(ra - RA0), np.radians(dec)
    d0 = np.radians(DEC0)
    den = np.sin(d) * np.sin(d0) + np.cos(d) * np.cos(d0) * np.cos(a)
    xi = np.degrees(np.cos(d) * np.sin(a) / den)
    eta = np.degrees((np.sin(d) * np.cos(d0) - np.cos(d) * np.sin(d0) * np.cos(a)) / den)
    return crpix[0] - 1 - xi / SCALE, crpix[1] - 1 + eta / SCALE


def header(crpix, shape=None) -> fits.Header:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [RA0, DEC0]
    w.wcs.crpix = list(crpix)
    w.wcs.cdelt = [-SCALE, SCALE]
    return w.to_header()


def paint(shape, xs, ys, fluxes, bg=5.0, noise=0.0, seed=0) -> np.ndarray:
    """Background + circular Gaussians (sigma SIGMA) of total flux ``fluxes`` at 0-based (x, y)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    img = np.full(shape, bg, dtype=np.float64)
    for x, y, f in zip(xs, ys, fluxes, strict=True):
        r2 = (xx - x) ** 2 + (yy - y) ** 2
        img += f / (2 * np.pi * SIGMA**2) * np.exp(-r2 / (2 * SIGMA**2))
    if noise:
        img += np.random.default_rng(seed).normal(0, noise, shape)
    return img.astype(np.float32)


def centroid(plane: np.ndarray, bg: float = 5.0) -> tuple[float, float]:
    """Flux-weighted centroid (x, y) of the pixels within 6 px of the cutout centre."""
    n = plane.shape[0]
    yy, xx = np.mgrid[:n, :n]
    w = np.where(np.hypot(xx - n // 2, yy - n // 2) < 6, np.nan_to_num(plane - bg), 0.0)
    return float((w * xx).sum() / w.sum()), float((w * yy).sum() / w.sum())


@pytest.fixture
def field(tmp_path: Path):
    """One 300 x 400 tile in bands g and r (r = 2 g in flux), sources at known RA/Dec."""
    shape, crpix = (300, 400), (200.3, 150.8)  # no source on a half-pixel tie
    ra = RA0 + np.array([0.0, 0.0041, -0.0062, 0.00173, -0.0039])
    dec = DEC0 + np.array([0.0, 0.0023, -0.0031, 0.00457, 0.0])
    x, y = tan_pixel(ra, dec, crpix)
    for band, f in (("g", 500.0), ("r", 1000.0)):
        fits.PrimaryHDU(paint(shape, x, y, [f] * 5), header(crpix, shape)).writeto(
            tmp_path / f"tile_{band}.fits"
        )
    cat = pd.DataFrame({"id": [f"obj{i}" for i in range(5)], "ra": ra, "dec": dec, "z": 0.1})
    cat.to_csv(tmp_path / "cat.csv", index=False)
    return tmp_path, x, y


def test_tan_pixel_positions_are_the_sky_positions(field):
    """The hand-coded projection and astropy agree, and the planted sources sit at RA0, DEC0 +
    offsets of up to ~22 arcsec, i.e. well inside the 400 x 300 tile."""
    d, x, y = field
    w = WCS(fits.getheader(d / "tile_g.fits"))
    ax, ay = w.all_world2pix(RA0 + 0.0041, DEC0 + 0.0023, 0)
    assert (float(ax), float(ay)) == pytest.approx((x[1], y[1]), abs=1e-6)
    assert x[4] == pytest.approx(199.3 + 0.0039 * np.cos(np.radians(DEC0)) / SCALE, abs=0.05)


def test_cutouts_are_centred_on_catalogue_positions(field, tmp_path):
    d, x, y = field
    src = FitsMosaicSource(
        images={"g": str(d / "tile_g.fits"), "r": str(d / "tile_r.fits")},
        catalogue=str(d / "cat.csv"),
        size=33,
    )
    objects, failures = src.manifest(tmp_path / "work", seed=0)
    assert len(failures) == 0
    assert list(objects.columns[:8]) == [
        "id", "ra", "dec", "x", "y", "tile", "edge_padded", "image_path",
    ]  # fmt: skip
    assert objects["z"].tolist() == [0.1] * 5 and not objects["edge_padded"].any()
    np.testing.assert_allclose(objects["x"], x, atol=1e-6)
    np.testing.assert_allclose(objects["y"], y, atol=1e-6)
    for k, row in objects.iterrows():
        img = load_image(row["image_path"])
        assert img.shape == (33, 33, 2) and img.dtype == np.float32
        # the object lies at pixel 16 + (x - round(x)): its centroid is within half a pixel of
        # the cutout centre, and within 0.02 px of where it should be
        for band in range(2):
            cx, cy = centroid(img[:, :, band])
            assert abs(cx - 16) <= 0.52 and abs(cy - 16) <= 0.52
            assert cx == pytest.approx(16 + x[k] - np.floor(x[k] + 0.5), abs=0.02)
            assert cy == pytest.approx(16 + y[k] - np.floor(y[k] + 0.5), abs=0.02)
        flux = np.nansum(img - 5.0, axis=(0, 1))
        assert flux[1] / flux[0] == pytest.approx(2.0, rel=1e-3)  # r = 2 g
        with fits.open(row["image_path"]) as hdul:
            hdul.verify("exception")  # a standard-conforming FITS file
            hdr = hdul[0].header
        assert hdr["BANDS"] == "g,r" and hdr["OBJID"] == row["id"]
        # the cutout's WCS puts the object at its measured centroid
        cw = WCS(hdr, naxis=2)
        px, py = cw.all_world2pix(row["ra"], row["dec"], 0)
        assert (float(px), float(py)) == pytest.approx(centroid(img[:, :, 0]), abs=0.02)


def test_edge_objects_padded_or_failed(field, tmp_path):
    """An object 5 px from the left edge with size 33: 16 - 5 = 11 columns lie beyond the edge
    (padded with NaN, or a failure); one off the tile and one without RA are failures."""
    d, _, _ = field
    w = WCS(fits.getheader(d / "tile_g.fits"))
    ra_e, dec_e = (float(v) for v in w.all_pix2world(5.0, 150.0, 0))
    ra_out, dec_out = (float(v) for v in w.all_pix2world(-40.0, 150.0, 0))
    pd.DataFrame(
        {"id": ["edge", "off", "nora", "mid"], "ra": [ra_e, ra_out, np.nan, RA0],
         "dec": [dec_e, dec_out, DEC0, DEC0]}
    ).to_csv(d / "edge.csv", index=False)  # fmt: skip
    images = {"g": str(d / "tile_g.fits"), "r": str(d / "tile_r.fits")}
    objs, fails = FitsMosaicSource(images, str(d / "edge.csv"), size=33).manifest(
        tmp_path / "pad", 0
    )
    assert objs["id"].tolist() == ["edge", "mid"]
    assert objs["edge_padded"].tolist() == [True, False]
    img = load_image(objs["image_path"].iloc[0])
    assert np.isnan(img[:, :11]).all() and np.isfinite(img[:, 11:]).all()
    reasons = dict(zip(fails["id"], fails["reason"], strict=True))
    assert set(fails["stage"]) == {"source"}
    assert (
        reasons["off"].startswith("position RA ")
        and "outside every image of band g" in (reasons["off"])
    )
    assert "RA/Dec missing or invalid" in reasons["nora"]
    objs, fails = FitsMosaicSource(images, str(d / "edge.csv"), size=33, edge="fail").manifest(
        tmp_path / "fail", 0
    )
    assert objs["id"].tolist() == ["mid"]
    edge = fails.set_index("id").loc["edge", "reason"]
    assert "crosses the image edge in band g (tile_g.fits, 400x300), r (tile_r.fits" in edge
    # padding with a value instead of NaN
    objs, _ = FitsMosaicSource(images, str(d / "edge.csv"), size=33, fill_value=0.0).manifest(
        tmp_path / "zero", 0
    )
    assert (load_image(objs["image_path"].iloc[0])[:, :11] == 0).all()


def test_two_tiles_each_object_cut_from_the_tile_holding_it(tmp_path):
    """A 200 x 500 field split into two overlapping tiles (columns 0..279 and 220..499, the same
    TAN projection): objects on either side come from their tile; one in the overlap from the
    tile where it is farther from an edge; the tile column names the file."""
    full = (200, 500)
    crpix = (250.5, 100.5)
    ra = RA0 + np.array([0.012, -0.0125, -0.0008, 0.0003])
    dec = DEC0 + np.array([0.0, 0.001, -0.0005, 0.002])
    x, y = tan_pixel(ra, dec, crpix)
    img = paint(full, x, y, [800.0] * 4, noise=0.5)
    names = []
    for name, (c0, c1) in (("left", (0, 280)), ("right", (220, 500))):
        h = header((crpix[0] - c0, crpix[1]), (200, c1 - c0))
        fits.PrimaryHDU(img[:, c0:c1], h).writeto(tmp_path / f"{name}.fits")
        names.append(str(tmp_path / f"{name}.fits"))
    pd.DataFrame({"id": list("abcd"), "ra": ra, "dec": dec}).to_csv(tmp_path / "c.csv", index=False)
    objs, fails = FitsMosaicSource({"r": names}, str(tmp_path / "c.csv"), size=25).manifest(
        tmp_path / "w", 0
    )
    assert len(fails) == 0
    # x in the full frame: a ~ 86 (left), b ~ 421 (right), c ~ 261 and d ~ 246 (overlap)
    expect = ["left.fits" if xi < 250 else "right.fits" for xi in x]
    assert objs["tile"].tolist() == expect
    offset = np.where(np.array(expect) == "right.fits", 220, 0)
    np.testing.assert_allclose(objs["x"], x - offset, atol=1e-6)
    for k, path in enumerate(objs["image_path"]):
        cx, cy = centroid(load_image(path))
        assert cx == pytest.approx(12 + x[k] - np.floor(x[k] + 0.5), abs=0.05)
        assert cy == pytest.approx(12 + y[k] - np.floor(y[k] + 0.5), abs=0.05)


def test_pixel_catalogue_as_fits_table_without_wcs(tmp_path):
    """A FITS-table catalogue of 1-based pixel positions, images without WCS: cutouts centred;
    no ra/dec columns; an id with '/' gets a safe, distinct file name."""
    shape = (120, 150)
    x = np.array([40.3, 101.8, 75.0])
    y = np.array([60.6, 33.2, 90.4])
    for b in ("u", "v", "w"):
        fits.PrimaryHDU(paint(shape, x, y, [300.0] * 3)).writeto(tmp_path / f"{b}.fits")
    long_id = "long id " + "x" * 90  # longer than one FITS string card (68 characters)
    Table({"name": ["gal/1", "gal_1", long_id], "X": x + 1, "Y": y + 1}).write(
        tmp_path / "cat.fits"
    )
    src = FitsMosaicSource(
        {b: str(tmp_path / f"{b}.fits") for b in "uvw"},
        str(tmp_path / "cat.fits"),
        id_column="name",
        x_column="X",
        y_column="Y",
        pixel_origin=1,
        size=21,
    )
    objs, fails = src.manifest(tmp_path / "w", 0)
    assert len(fails) == 0 and "ra" not in objs.columns
    assert objs["id"].tolist() == ["gal/1", "gal_1", long_id]  # ids exactly as given
    p0, p1, p2 = (Path(p).name for p in objs["image_path"])
    assert p1 == "gal_1.fits" and p0.startswith("gal_1-") and p0 != p1
    assert p2.startswith("long_id_xxx") and len(p2) < 100
    assert fits.getheader(objs["image_path"].iloc[2])["OBJID"] == long_id  # CONTINUE cards
    for k, path in enumerate(objs["image_path"]):
        img = load_image(path)
        assert img.shape == (21, 21, 3)
        cx, cy = centroid(img[:, :, 2])
        assert cx == pytest.approx(10 + x[k] - np.floor(x[k] + 0.5), abs=0.02)
        assert cy == pytest.approx(10 + y[k] - np.floor(y[k] + 0.5), abs=0.02)


def test_bad_inputs_are_named(field, tmp_path):
    d, _, _ = field
    images = {"g": str(d / "tile_g.fits")}
    pd.DataFrame({"id": ["a", "b", "a"], "ra": [RA0] * 3, "dec": [DEC0] * 3}).to_csv(
        d / "dup.csv", index=False
    )
    with pytest.raises(ConfigError, match="appear more than once, e.g. 'a'"):
        FitsMosaicSource(images, str(d / "dup.csv")).manifest(tmp_path, 0)
    pd.DataFrame({"id": ["a", ""], "ra": [RA0] * 2, "dec": [DEC0] * 2}).to_csv(
        d / "empty.csv", index=False
    )
    with pytest.raises(ConfigError, match=r"empty.csv, line 3: empty id"):
        FitsMosaicSource(images, str(d / "empty.csv")).manifest(tmp_path, 0)
    pd.DataFrame({"id": ["a"], "l": [1.0], "b": [2.0]}).to_csv(d / "nocoord.csv", index=False)
    with pytest.raises(ConfigError, match="no coordinate columns"):
        FitsMosaicSource(images, str(d / "nocoord.csv")).manifest(tmp_path, 0)
    with pytest.raises(ConfigError, match="not found"):
        FitsMosaicSource({"g": str(d / "nope.fits")}, str(d / "cat.csv")).manifest(tmp_path, 0)
    h = header((200.5, 150.5), (300, 400))
    h["CDELT1"], h["CDELT2"] = -2 * SCALE, 2 * SCALE
    fits.PrimaryHDU(np.zeros((300, 400), np.float32), h).writeto(d / "coarse.fits")
    with pytest.raises(ConfigError, match="resample the images onto one pixel scale"):
        FitsMosaicSource({**images, "z": str(d / "coarse.fits")}, str(d / "cat.csv")).manifest(
            tmp_path, 0
        )
    with pytest.raises(ConfigError, match="edge must be pad or fail"):
        FitsMosaicSource(images, str(d / "cat.csv"), edge="clip")


def test_tiles_are_memory_mapped_and_windows_read_only_the_window(field):
    d, _, _ = field
    tile, hdul = _open_tile("g", 0, d / "tile_g.fits", None)
    try:
        base = tile.data
        while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
            base = base.base
        assert isinstance(base, (np.memmap, mmap.mmap))  # the pixels stay on disk
        win, crossed = cut_window(tile.data, 10.4, 20.6, 5, np.nan)
        np.testing.assert_array_equal(win, tile.data[19:24, 8:13])
        assert not crossed and win.dtype == np.float32
        win, crossed = cut_window(tile.data, 0.2, 0.0, 5, -1.0)
        assert crossed and (win[:2] == -1).all() and (win[:, :2] == -1).all()
        np.testing.assert_array_equal(win[2:, 2:], tile.data[:3, :3])
    finally:
        hdul.close()


def test_load_image_reads_a_named_band_cube_of_any_depth(tmp_path):
    """(6, 8, 9) with BANDS = 6 names -> (8, 9, 6); without BANDS a 6-deep cube is an error
    naming the layout (it was read as 6 x 8 pixels of 9 bands; issue 18 item 22)."""
    cube = np.arange(6 * 8 * 9, dtype=np.float32).reshape(6, 8, 9)
    h = fits.Header()
    h["BANDS"] = "u,g,r,i,z,y"
    fits.PrimaryHDU(cube, h).writeto(tmp_path / "named.fits")
    fits.PrimaryHDU(cube).writeto(tmp_path / "plain.fits")
    img = load_image(tmp_path / "named.fits")
    assert img.shape == (8, 9, 6)
    np.testing.assert_array_equal(img[:, :, 4], cube[4])
    with pytest.raises(ImageReadError, match="cube of 6 planes of 8 x 9 pixels"):
        load_image(tmp_path / "plain.fits")


def test_seeded_subsample_of_the_catalogue(field, tmp_path):
    d, _, _ = field
    src = FitsMosaicSource({"g": str(d / "tile_g.fits")}, str(d / "cat.csv"), n_objects=3)
    a, _ = src.manifest(tmp_path / "a", seed=4)
    b, _ = src.manifest(tmp_path / "b", seed=4)
    assert len(a) == 3 and a["id"].tolist() == b["id"].tolist()
    assert a["id"].tolist() == sorted(a["id"])  # kept in catalogue order
    assert len(list((tmp_path / "a" / "cutouts").iterdir())) == 3  # only the chosen are cut
