"""Objects that are 1-D spectra: (wavelength, flux) pixels in the Parquet the spectra source
writes (``spectrum_path``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from astroanom.kinds.base import ObjectKind, RunObjects, View

if TYPE_CHECKING:
    import numpy as np


def read_spectrum(spectrum_path: str, oid: str) -> tuple[np.ndarray, np.ndarray]:
    """(wavelength, flux) float64 of one object from the normalised spectra Parquet."""
    import numpy as np
    import pyarrow.parquet as pq

    df = pq.read_table(spectrum_path, filters=[("id", "=", str(oid))]).to_pandas()
    return df["wavelength"].to_numpy(np.float64), df["flux"].to_numpy(np.float64)


class SpectrumKind(ObjectKind):
    name = "spectrum"
    plural = "spectra"
    columns = ("spectrum_path",)
    #: the grid: the wavelengths every spectrum covers, at their median pixel step
    default_features = {"kind": "spectrum"}

    def load(self, run: RunObjects, oid: str) -> tuple[np.ndarray, np.ndarray]:
        return read_spectrum(str(run.file(oid, "spectrum_path")), oid)

    def labeller_view(self, run: RunObjects) -> View:
        """:func:`astroanom.labeller.views.spectrum.spectrum_png` of the manifest row."""
        from astroanom.labeller.views.spectrum import spectrum_png

        return lambda oid, display: spectrum_png(run.row(oid).astype(object))

    def draw(self, ax: Any, run: RunObjects, oid: str) -> Any:
        """Flux against wavelength (the source's pixels, non-finite ones removed)."""
        wl, flux = self.load(run, oid)
        ax.plot(wl, flux, color="#1f4e8c", lw=0.8)
        ax.set_xlabel("wavelength", fontsize=8)
        ax.set_ylabel("flux", fontsize=8)
        return ax


KIND = SpectrumKind()
