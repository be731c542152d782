"""The image feature extractors (moments, power spectrum, wavelets, histogram, colour, ellipse,
combine) on images whose answers can be worked out by hand, and the extractor contract."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from astropy.io import fits

from astroanom.errors import AstroanomError, ConfigError
from astroanom.features.colour import ColourExtractor
from astroanom.features.combine import CombinedExtractor
from astroanom.features.ellipse import ELLIPSE_FEATURE_NAMES, image_features
from astroanom.features.ellipse_extractor import EllipseExtractor
from astroanom.features.histogram import HistogramExtractor, flux_histogram
from astroanom.features.moments import MomentsExtractor, hu_moments
from astroanom.features.power_spectrum import PowerSpectrumExtractor, radial_power
from astroanom.features.wavelets import WaveletExtractor, wavelet_stats


def gaussian(n: int, sx: float, sy: float | None = None, cx=None, cy=None) -> np.ndarray:
    """Unit-peak elliptical Gaussian on an n x n grid, axes along x and y (pixels)."""
    sy = sx if sy is None else sy
    cx = (n - 1) / 2 if cx is None else cx
    cy = (n - 1) / 2 if cy is None else cy
    y, x = np.mgrid[:n, :n]
    return np.exp(-0.5 * (((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2))


# -- Hu moments -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma", [3.0, 6.0, 9.0])
def test_hu_moments_of_a_circular_gaussian(sigma):
    """Unit peak: mu00 = 2 pi s^2, mu20 = mu02 = 2 pi s^4 -> h1 = 2 s^2 / (2 pi s^2) = 1/pi
    for every sigma; h2..h7 vanish by symmetry."""
    h = hu_moments(gaussian(101, sigma))
    assert h[0] == pytest.approx(1 / np.pi, rel=1e-4)
    np.testing.assert_allclose(h[1:], 0.0, atol=1e-12)


def test_hu_moments_of_an_elongated_gaussian_and_rotation():
    """sx = 2 sy: eta20 = sx / (2 pi sy) = 1/pi, eta02 = 1/(4 pi) -> h1 = 2.5/(2 pi),
    h2 = (1.5 / (2 pi))^2; a 90-degree rotation and a 3x brighter copy change nothing."""
    g = gaussian(121, 8.0, 4.0)
    h = hu_moments(g)
    assert h[0] == pytest.approx(2.5 / (2 * np.pi), rel=1e-4)
    assert h[1] == pytest.approx((1.5 / (2 * np.pi)) ** 2, rel=1e-4)
    np.testing.assert_allclose(hu_moments(np.rot90(g)), h, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(hu_moments(3.0 * g), h, rtol=1e-9, atol=1e-15)


def test_moments_extractor_log_transform_and_background():
    """On a Gaussian on a background of 10 (whole-image region) the extractor gives the same
    h1 as the bare Gaussian; the log transform is asinh(h / softening) / ln 10."""
    g = gaussian(101, 5.0) + 10.0
    raw = MomentsExtractor(region="image", transform="none").compute(g)
    assert raw[0] == pytest.approx(1 / np.pi, rel=1e-3)
    logged = MomentsExtractor(region="image", softening=1e-8).compute(g)
    np.testing.assert_allclose(logged, np.arcsinh(raw / 1e-8) / np.log(10))
    assert MomentsExtractor().names() == [f"hu{k}" for k in range(1, 8)]


# -- power spectrum -------------------------------------------------------------------------------
def test_power_spectrum_peak_of_a_pure_sinusoid():
    """sin(2 pi f x) with f = 10/64 = 0.15625 cycles/pixel: all power at |k| = f, which lies in
    bin floor(f / 0.05) = 3 of 10 bins on (0, 0.5]. Without a window the other bins hold ~0,
    and the peak bin's power relative to the mean is (total pixels) / (pixels in bin 3)."""
    y, x = np.mgrid[:64, :64]
    img = np.sin(2 * np.pi * (10 / 64) * x) + 5.0
    ext = PowerSpectrumExtractor(n_bins=10, window=False, log=False)
    p = ext.compute(img)
    assert int(np.argmax(p)) == 3
    np.testing.assert_allclose(np.delete(p, 3), 0.0, atol=1e-12)
    ky, kx = np.meshgrid(np.fft.fftfreq(64), np.fft.fftfreq(64), indexing="ij")
    k = np.hypot(kx, ky)
    in_range = (k > 0) & (k <= 0.5)
    in_bin3 = in_range & (k >= 0.15) & (k < 0.2)
    assert p[3] == pytest.approx(in_range.sum() / in_bin3.sum())
    windowed = PowerSpectrumExtractor(n_bins=10).compute(img)  # Hann window, log10
    assert int(np.argmax(windowed)) == 3
    assert ext.names()[3] == "power_k0.1750"


def test_power_spectrum_of_white_noise_is_flat_and_small_images_fail():
    img = np.random.default_rng(3).normal(size=(128, 128))
    p = PowerSpectrumExtractor(n_bins=8, window=False, log=False).compute(img)
    np.testing.assert_allclose(p, 1.0, atol=0.15)
    row, reason = PowerSpectrumExtractor(n_bins=40).compute_safe(img[:8, :8])
    assert row is None and "too small for 40 frequency bins" in reason


@pytest.mark.parametrize("shape", [(31, 40), (40, 31), (32, 32)])
def test_power_spectrum_half_plane_equals_full_plane(shape):
    """The rfft2 half-plane sums with mirror weights equal a direct full-plane fft2 average."""
    img = np.random.default_rng(5).normal(size=shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    k = np.hypot(kx, ky)
    power = np.abs(np.fft.fft2(img)) ** 2
    ok = (k > 0) & (k <= 0.5)
    b = np.minimum((k * 2 * 5).astype(int), 4)
    want = np.array([power[ok & (b == i)].mean() for i in range(5)]) / power[ok].mean()
    np.testing.assert_allclose(radial_power(img, 5, window=False), want, rtol=1e-10)


# -- wavelets -------------------------------------------------------------------------------------
def test_wavelet_energies_of_a_constant_image_are_zero():
    ext = WaveletExtractor(levels=3)
    row, reason = ext.compute_safe(np.full((64, 64), 7.0, dtype=np.float32))
    assert reason is None
    np.testing.assert_array_equal(row, 0.0)


def test_wavelet_energy_of_alternating_columns_is_all_level1_vertical():
    """Columns +1, -1, +1, ...: every Haar pair along a row gives (1 - (-1))/sqrt 2 = sqrt 2 and
    a zero average, so all energy is in the level-1 vertical detail; its coefficients are all
    +-sqrt 2 (h and d are 0), whose kurtosis over the level is (4/3) / (2/3)^2 - 3 = 0."""
    x = np.arange(32)
    img = np.tile(np.where(x % 2 == 0, 1.0, -1.0), (32, 1))
    ext = WaveletExtractor(levels=2)
    got = dict(zip(ext.names(), wavelet_stats(img, "haar", 2), strict=True))
    assert got["energy_l1_v"] == pytest.approx(1.0)
    assert sum(v for k, v in got.items() if k != "energy_l1_v") == pytest.approx(0.0, abs=1e-12)


def test_wavelet_energy_fractions_sum_to_one_for_noise():
    img = np.random.default_rng(0).normal(size=(64, 64))
    ext = WaveletExtractor(levels=3, wavelet="db2")
    vals = dict(zip(ext.names(), wavelet_stats(img, "db2", 3), strict=True))
    energy = sum(v for k, v in vals.items() if k.startswith("energy"))
    assert energy == pytest.approx(1.0)
    # white noise: each detail direction at level 1 holds ~1/4 of the energy, kurtosis ~0
    assert vals["energy_l1_h"] == pytest.approx(0.25, abs=0.03)
    assert abs(vals["kurtosis_l1"]) < 0.2
    with pytest.raises(ConfigError, match="not a discrete PyWavelets"):
        WaveletExtractor(wavelet="morl")


# -- flux histogram -------------------------------------------------------------------------------
def test_histogram_of_a_known_image():
    """8 pixels at 0, 4 at 0.5, 4 at 1 with background 0 and peak 1: bins of width 0.25 hold
    8/16, 0, 4/16 (0.5 is the start of bin 2), 4/16 (the peak goes in the last bin)."""
    img = np.zeros((4, 4))
    img[2] = 0.5
    img[3] = 1.0
    got = HistogramExtractor(n_bins=4, background="none").compute(img)
    np.testing.assert_allclose(got, [0.5, 0.0, 0.25, 0.25])
    # below the background counts in the first bin: t = -0.75, 0.5, 1 -> bins 0, 1, 1
    np.testing.assert_allclose(flux_histogram(np.array([-3.0, 2.0, 4.0]), 0.0, 2), [1 / 3, 2 / 3])
    row, reason = HistogramExtractor(background="none").compute_safe(np.zeros((8, 8)))
    assert row is None and "not above the background" in reason


# -- colour ---------------------------------------------------------------------------------------
def two_band_source(ratio: float, n: int = 64, seed: int = 0) -> np.ndarray:
    """(n, n, 2) float32: one Gaussian source in band a and ``1/ratio`` times it in band b,
    backgrounds 100 and 20, small noise; the flux ratio F_a / F_b is ``ratio``."""
    rng = np.random.default_rng(seed)
    g = 50.0 * gaussian(n, 4.0)
    a = 100.0 + g + rng.normal(0, 0.2, (n, n))
    b = 20.0 + g / ratio + rng.normal(0, 0.2, (n, n))
    return np.dstack([a, b]).astype(np.float32)


def test_colour_of_two_bands_with_a_known_flux_ratio():
    """F_a / F_b = 2 everywhere in the source: colour = -2.5 log10 2 = -0.7526 mag, whatever the
    backgrounds; the same ratio in core and outskirts gives gradient ~0; kind=ratio gives 2."""
    img = two_band_source(2.0)
    ext = ColourExtractor(bands=["a", "b"], channel=0)
    assert ext.names() == ["colour_a_b", "gradient_a_b"]
    colour, gradient = ext.compute(img)
    assert colour == pytest.approx(-2.5 * np.log10(2.0), abs=0.01)
    assert gradient == pytest.approx(0.0, abs=0.02)
    ratio, _ = ColourExtractor(bands=["a", "b"], measure="ratio").compute(img)
    assert ratio == pytest.approx(2.0, rel=0.01)
    # the source defined on band b gives the same colour
    assert ColourExtractor(bands=["a", "b"], channel=1).compute(img)[0] == pytest.approx(
        colour, abs=0.01
    )


def test_colour_gradient_sees_a_blue_core():
    """Band b = a broad Gaussian (flux 40 * 2 pi 36 = 9048); band a = the same plus a narrow core
    (flux 60 * 2 pi 2.25 = 848): colour = -2.5 log10(9896 / 9048) = -0.097. The inner half (the
    mask pixels inside r ~ 13 of r ~ 19) holds ~91 % of the broad flux and all of the core:
    colour(inner) ~ -2.5 log10(1 + 848 / 8270) = -0.106, colour(outer) = 0 -> gradient -0.106."""
    n = 64
    broad = 40.0 * gaussian(n, 6.0)
    core = 60.0 * gaussian(n, 1.5)
    img = np.dstack([broad + core, broad]).astype(np.float32)
    img += np.random.default_rng(1).normal(0, 0.1, img.shape).astype(np.float32)
    colour, gradient = ColourExtractor(bands=["a", "b"], channel=1).compute(img)
    assert colour == pytest.approx(-0.097, abs=0.005)
    assert gradient == pytest.approx(-0.106, abs=0.01)


def test_colour_failures_and_rgb_jpeg_bands(tmp_path):
    ext = ColourExtractor(bands=["g", "r", "z"])
    row, reason = ext.compute_safe(two_band_source(2.0))
    assert row is None and "image has 2 band(s); the colour features need 3" in reason
    img = two_band_source(2.0)
    img[:, :, 1] = 20.0  # band b holds no source: its flux is ~0
    img[:, :, 1] -= 5.0 * gaussian(64, 4.0)  # an absorption: negative flux inside the source
    row, reason = ColourExtractor(bands=["a", "b"]).compute_safe(img)
    assert row is None and "not positive in both bands" in reason
    # a PNG's three channels are the bands r, g, b: a source twice as bright in r as in g
    g = gaussian(64, 4.0)
    rgb = np.dstack([10 + 200 * g, 10 + 100 * g, 10 + 100 * g]).round().astype(np.uint8)
    path = tmp_path / "x.png"
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    X, reasons = ColourExtractor().extract(pd.DataFrame({"id": ["x"], "image_path": [str(path)]}))
    assert reasons == [None]
    assert X[0, 0] == pytest.approx(-2.5 * np.log10(2.0), abs=0.03)  # r - g
    assert X[0, 1] == pytest.approx(0.0, abs=0.03)  # g - b


# -- ellipse wrapper, contract, combine -----------------------------------------------------------
def test_ellipse_extractor_matches_image_features_on_the_chosen_band():
    rng = np.random.default_rng(2)
    a = (gaussian(80, 9.0, 4.0) * 200 + rng.normal(0, 1, (80, 80))).astype(np.float32)
    b = (gaussian(80, 5.0) * 200 + rng.normal(0, 1, (80, 80))).astype(np.float32)
    img = np.dstack([a, b])
    ext = EllipseExtractor(channel=1)
    assert ext.names() == list(ELLIPSE_FEATURE_NAMES)
    np.testing.assert_array_equal(ext.compute(img), image_features(b).values)
    row, reason = EllipseExtractor(channel=2).compute_safe(img)
    assert row is None and "2 bands; band index 2 requested" in reason


def _write_fits(path: Path, data: np.ndarray) -> str:
    fits.PrimaryHDU(data).writeto(path)
    return str(path)


def test_extract_contract_rows_reasons_and_threads(tmp_path):
    """NaN rows and reasons for a missing file and a constant image; ok rows equal compute();
    the same answer with 2 threads; rows align with the objects."""
    good = (gaussian(64, 5.0) * 100 + np.random.default_rng(0).normal(0, 1, (64, 64))).astype(
        np.float32
    )
    objs = pd.DataFrame(
        {
            "id": ["ok", "missing", "flat"],
            "image_path": [
                _write_fits(tmp_path / "ok.fits", good),
                str(tmp_path / "nope.fits"),
                _write_fits(tmp_path / "flat.fits", np.ones((64, 64), np.float32)),
            ],
        }
    )
    for ext in (MomentsExtractor(), MomentsExtractor(n_threads=2)):
        X, reasons = ext.extract(objs)
        assert X.shape == (3, 7) and X.dtype == np.float64
        np.testing.assert_array_equal(X[0], MomentsExtractor().compute(good))
        assert np.isnan(X[1:]).all()
        assert reasons[0] is None
        assert reasons[1] == "read: file not found"
        assert "constant image" in reasons[2]
    with pytest.raises(ConfigError, match="no 'image_path' column"):
        MomentsExtractor().extract(pd.DataFrame({"id": ["a"]}))


def test_combined_extractor_prefixes_and_concatenates(tmp_path):
    img = two_band_source(2.0)
    fits.PrimaryHDU(np.moveaxis(img, -1, 0)).writeto(tmp_path / "s.fits")  # (2, H, W) cube
    objs = pd.DataFrame({"id": ["s"], "image_path": [str(tmp_path / "s.fits")]})
    comb = CombinedExtractor(
        [
            {"kind": "colour", "bands": ["a", "b"]},
            {"kind": "moments", "channel": 1},
            {"kind": "power_spectrum", "n_bins": 4, "name": "ps"},
        ]
    )
    names = comb.names()
    assert names[:3] == ["colour.colour_a_b", "colour.gradient_a_b", "moments.hu1"]
    assert names[-1] == "ps.power_k0.4375" and len(names) == 2 + 7 + 4
    X, reasons = comb.extract(objs)
    assert reasons == [None]
    parts = [
        ColourExtractor(bands=["a", "b"]).compute(img),
        MomentsExtractor(channel=1).compute(img),
        PowerSpectrumExtractor(n_bins=4).compute(img),
    ]
    np.testing.assert_allclose(X[0], np.concatenate(parts), rtol=1e-6)
    # one failing part fails the object, naming the part
    bad = CombinedExtractor([{"kind": "moments"}, {"kind": "ellipse", "channel": 5}])
    X, reasons = bad.extract(objs)
    assert np.isnan(X).all() and reasons[0].startswith("ellipse: image has 2 bands")
    with pytest.raises(ConfigError, match="distinct 'name'"):
        CombinedExtractor([{"kind": "moments"}, {"kind": "moments", "channel": 1}])
    with pytest.raises(AstroanomError, match="unknown extractor 'nonsense'; available: colour"):
        CombinedExtractor([{"kind": "nonsense"}])


class MeanFluxExtractor:
    """A minimal third-party extractor implementing the contract without the base class: the
    mean pixel value, failing for images brighter than ``limit``."""

    reads = "image"

    def __init__(self, limit: float = 1e9) -> None:
        self.limit = limit

    def names(self) -> list[str]:
        return ["mean"]

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        from astroanom.sources.imageio import load_image

        X = np.full((len(objects), 1), np.nan)
        reasons: list[str | None] = []
        for k, p in enumerate(objects["image_path"]):
            m = float(np.mean(load_image(p)))
            reasons.append(None if m <= self.limit else f"mean {m:g} above {self.limit:g}")
            if m <= self.limit:
                X[k, 0] = m
        return X, reasons


def test_combine_with_a_plugin_that_is_not_an_image_extractor(tmp_path):
    """Parts without compute_safe go through their own extract(); rows are joined, and an object
    failing in any part is NaN throughout with every part's reason."""
    paths = []
    for k, level in enumerate((1.0, 50.0)):
        img = (gaussian(64, 5.0) * 100 + level).astype(np.float32)
        paths.append(_write_fits(tmp_path / f"{k}.fits", img))
    objs = pd.DataFrame({"id": ["faint", "bright"], "image_path": paths})
    factory = lambda kind, params: (  # noqa: E731
        MeanFluxExtractor(**params)
        if kind == "mean"
        else __import__(
            "astroanom.features.combine", fromlist=["registry_factory"]
        ).registry_factory(kind, params)
    )
    comb = CombinedExtractor(
        [{"kind": "mean", "limit": 20.0}, {"kind": "histogram", "n_bins": 4}], factory=factory
    )
    assert comb.names() == ["mean.mean"] + [f"histogram.hist_{i:02d}" for i in range(4)]
    X, reasons = comb.extract(objs)
    img0 = gaussian(64, 5.0) * 100 + 1.0
    assert X[0, 0] == pytest.approx(img0.mean(), rel=1e-6)
    np.testing.assert_allclose(X[0, 1:], HistogramExtractor(n_bins=4).compute(img0), rtol=1e-6)
    # bright: 50 + 100 * 2 pi 5^2 / 64^2 = 53.835 (the Gaussian lies well inside the image)
    assert np.isnan(X[1]).all() and reasons == [None, "mean: mean 53.835 above 20"]
