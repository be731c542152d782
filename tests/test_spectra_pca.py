"""Spectra: resampling onto a common grid (hand-made spectra, values by hand), FITS and table
inputs, failures; PCA on data with a known variance structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroanom.errors import ConfigError
from astroanom.features.pca import reduce
from astroanom.features.spectrum import (
    SpectrumExtractor,
    cell_means,
    resample_spectrum,
    wavelength_grid,
)
from astroanom.sources.spectra import SpectraSource


def test_grid_by_step_and_by_n():
    np.testing.assert_allclose(
        wavelength_grid(4000, 5000, grid_step=250), [4000, 4250, 4500, 4750, 5000]
    )
    np.testing.assert_allclose(wavelength_grid(4000, 4900, grid_step=250), [4000, 4250, 4500, 4750])
    np.testing.assert_allclose(wavelength_grid(1, 2, grid_n=3), [1, 1.5, 2])
    with pytest.raises(ConfigError):
        wavelength_grid(1, 2, grid_step=0.1, grid_n=3)


def test_linear_spectrum_resamples_exactly():
    wl = np.arange(1000.0, 2001.0, 10.0)
    flux = 2.0 + 0.001 * wl  # a line: cell means and point values both equal the line
    grid = wavelength_grid(1100, 1900, grid_step=100)
    for method in ("mean", "linear"):
        y, why = resample_spectrum(wl, flux, grid, "none", method)
        assert why is None
        np.testing.assert_allclose(y, 2.0 + 0.001 * grid, rtol=1e-12)
    y, _ = resample_spectrum(wl, flux, grid, "median")
    assert np.median(y) == pytest.approx(1.0)  # median of 2.0+0.001*grid is at 1500 -> 3.5
    np.testing.assert_allclose(y, (2.0 + 0.001 * grid) / 3.5)


def test_narrow_line_keeps_its_flux_in_cell_means():
    """A 1-pixel spike of height 10 on a flat continuum of 1 (pixels 1 Å apart): its area
    (trapezoid) is 10 Å, so the 100 Å cell holding it averages 1 + 10/100 = 1.1; point
    sampling between pixels misses it entirely."""
    wl = np.arange(0.0, 1001.0)
    flux = np.ones_like(wl)
    flux[505] = 11.0
    grid = wavelength_grid(50, 950, grid_step=100)
    y = cell_means(wl, flux, grid)
    np.testing.assert_allclose(y, np.where(grid == 550, 1.1, 1.0), rtol=1e-12)
    lin, _ = resample_spectrum(wl, flux, grid, "none", "linear")
    np.testing.assert_array_equal(lin, np.ones(grid.size))


def test_uncovered_grid_and_bad_normalisation_are_failures():
    wl = np.array([4000.0, 5000.0, 6000.0])
    _, why = resample_spectrum(wl, np.ones(3), np.array([3500.0, 5000.0]))
    assert why.startswith("grid 3500-5000 not covered by the spectrum (4000-6000)")
    _, why = resample_spectrum(wl, -np.ones(3), np.array([4500.0, 5500.0]), "median")
    assert why == "cannot normalise: median flux is -1 (must be > 0)"


def _fits_spectrum(path: Path, flux: np.ndarray, crval: float, cdelt: float) -> None:
    from astropy.io import fits

    h = fits.PrimaryHDU(flux.astype(np.float32))
    h.header["CRVAL1"], h.header["CDELT1"], h.header["CRPIX1"] = crval, cdelt, 1.0
    h.writeto(path)


def test_fits_folder_and_table_give_the_same_features(tmp_path):
    folder = tmp_path / "spec"
    folder.mkdir()
    wl = 4000.0 + 2.0 * np.arange(1001)  # 4000..6000 Å
    f1, f2 = 1.0 + 0.0005 * (wl - 4000), np.full(wl.size, 3.0)
    _fits_spectrum(folder / "s1.fits", f1, 4000.0, 2.0)
    _fits_spectrum(folder / "s2.fits", f2, 4000.0, 2.0)
    (folder / "broken.fits").write_bytes(b"not a fits file")
    objects, failures = SpectraSource(folder).manifest(tmp_path / "w1", seed=0)
    assert objects["id"].tolist() == ["s1", "s2"] and objects["n_pix"].tolist() == [1001, 1001]
    assert failures["id"].tolist() == ["broken"] and "unreadable FITS" in failures["reason"][0]
    ext = SpectrumExtractor(4500, 5500, grid_n=3, normalise="max")
    X, reasons = ext.extract(objects)
    assert reasons == [None, None] and ext.names() == ["flux_4500", "flux_5000", "flux_5500"]
    np.testing.assert_allclose(X[0], np.array([1.25, 1.5, 1.75]) / 1.75, rtol=1e-6)
    np.testing.assert_allclose(X[1], [1.0, 1.0, 1.0])
    table = pd.DataFrame([f1, f2], columns=[f"{w:g}" for w in wl]).assign(id=["s1", "s2"])
    table.to_parquet(tmp_path / "spec.parquet", index=False)
    obj2, fail2 = SpectraSource(tmp_path / "spec.parquet").manifest(tmp_path / "w2", seed=0)
    X2, _ = ext.extract(obj2)
    assert len(fail2) == 0
    np.testing.assert_allclose(X2, X, rtol=1e-6)


def test_pca_known_variance_structure():
    """Independent columns with variances 9, 4, 1, 0.01 (sum 14.01): PCA recovers the axes in
    that order and the explained-variance ratios 9/14.01, 4/14.01, ..."""
    rng = np.random.default_rng(0)
    n = 20000
    Z = rng.normal(size=(n, 4)) * np.array([3.0, 2.0, 1.0, 0.1])
    Z -= Z.mean(axis=0)
    Z /= Z.std(axis=0) / np.array([3.0, 2.0, 1.0, 0.1])  # exact sample variances
    Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))  # a random rotation hides the axes
    X = Z @ Q.T
    Y, rep = reduce(X, 2, seed=1)
    assert Y.shape == (n, 2) and rep.n_components == 2
    np.testing.assert_allclose(rep.explained_variance_ratio, [9 / 14.01, 4 / 14.01], atol=0.01)
    np.testing.assert_allclose(Y.var(axis=0), [9.0, 4.0], rtol=0.02)
    _, rep95 = reduce(X, 0.95, seed=1)  # 9+4 = 92.8 % < 95 % <= 9+4+1 = 99.9 %
    assert rep95.n_components == 3 and rep95.kept_fraction == pytest.approx(13.99 / 14.01, abs=0.01)
    Y2, _ = reduce(X, 2, seed=1)
    np.testing.assert_array_equal(Y, Y2)
    for bad in (0, 5, 1.0, 0.0, True):
        with pytest.raises(ConfigError):
            reduce(X, bad)
