"""A spectrum as flux against wavelength (the raw pixels, optionally the resampled grid)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from astroanom.labeller.views import new_figure, to_png


def read_object_spectrum(spectrum_path: str, oid: str) -> tuple[np.ndarray, np.ndarray]:
    """(wavelength, flux) of one object from the normalised spectra Parquet."""
    df = pq.read_table(spectrum_path, filters=[("id", "=", str(oid))]).to_pandas()
    return df["wavelength"].to_numpy(np.float64), df["flux"].to_numpy(np.float64)


def render_spectrum(
    wavelength: np.ndarray,
    flux: np.ndarray,
    title: str = "",
    resampled: tuple[np.ndarray, np.ndarray] | None = None,
    wavelength_unit: str = "Å",
    width: float = 9.0,
    height: float = 4.5,
) -> bytes:
    """PNG of flux against wavelength; ``resampled`` (grid, values in the same flux units) is
    overplotted as points (what the features see, before normalisation)."""
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.12)
    ax.plot(wavelength, flux, color="#1f4e8c", lw=0.8, label="spectrum")
    if resampled is not None:
        ax.plot(*resampled, "o", ms=3, color="#d62728", label="common grid")
        ax.legend(fontsize=8)
    ax.set_xlabel(f"wavelength ({wavelength_unit})")
    ax.set_ylabel("flux")
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    return to_png(fig)


def spectrum_png(row: pd.Series, title: str | None = None) -> bytes:
    """Render one manifest row of a spectra dataset (needs spectrum_path)."""
    wl, fl = read_object_spectrum(str(row["spectrum_path"]), str(row["id"]))
    return render_spectrum(wl, fl, title or str(row["id"]))
