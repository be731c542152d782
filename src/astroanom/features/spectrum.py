"""``features.kind: spectrum``: spectra resampled onto a common wavelength grid, optionally
normalised; the resampled fluxes are the features (PCA after scaling is the usual next step).

Reads the long table that :class:`astroanom.sources.spectra.SpectraSource` writes
(``spectrum_path`` column of the manifest), only the shard's objects.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.progress import Progress

log = logging.getLogger("astroanom.features.spectrum")
NORMALISE = ("median", "mean", "max", "none")


def source_coverage(workdir: str | os.PathLike[str] | None) -> dict[str, Any]:
    """The spectra's wavelength coverage the source recorded in ``<workdir>/source/info.json``
    ({} if none)."""
    if workdir is None:
        return {}
    info = Path(workdir) / "source" / "info.json"
    if not info.is_file():
        return {}
    return json.loads(info.read_text(encoding="utf-8")).get("wavelength_coverage") or {}


def wavelength_grid(
    grid_min: float, grid_max: float, grid_step: float | None = None, grid_n: int | None = None
) -> np.ndarray:
    """Evenly spaced wavelengths from ``grid_min`` to ``grid_max`` inclusive: every
    ``grid_step`` (the last point <= grid_max), or ``grid_n`` points. Same unit as the spectra."""
    if not grid_max > grid_min:
        raise ConfigError(f"spectrum grid: need grid_max > grid_min, got {grid_min}, {grid_max}")
    if (grid_step is None) == (grid_n is None):
        raise ConfigError("spectrum grid: give exactly one of grid_step and grid_n")
    if grid_n is not None:
        if int(grid_n) < 2:
            raise ConfigError(f"spectrum grid: grid_n must be >= 2, got {grid_n}")
        return np.linspace(grid_min, grid_max, int(grid_n))
    if not grid_step > 0:  # type: ignore[operator]
        raise ConfigError(f"spectrum grid: grid_step must be > 0, got {grid_step}")
    n = int(np.floor((grid_max - grid_min) / grid_step + 1e-9)) + 1
    return grid_min + grid_step * np.arange(n)


METHODS = ("mean", "linear")


def cell_means(wl: np.ndarray, flux: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Flux-conserving resampling: the mean flux over each grid cell (edges halfway between grid
    points, the outer edges half a step out, clipped to the data), from the cumulative
    trapezoidal integral of the linearly interpolated spectrum. A narrow line keeps its
    equivalent width instead of being missed between grid points."""
    mid = 0.5 * (grid[1:] + grid[:-1])
    edges = np.concatenate([[grid[0] - (mid[0] - grid[0])], mid, [grid[-1] + (grid[-1] - mid[-1])]])
    edges = np.clip(edges, wl[0], wl[-1])
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (flux[1:] + flux[:-1]) * np.diff(wl))])

    def integral(x: np.ndarray) -> np.ndarray:
        k = np.clip(np.searchsorted(wl, x, side="right") - 1, 0, wl.size - 2)
        dx = x - wl[k]
        slope = (flux[k + 1] - flux[k]) / (wl[k + 1] - wl[k])
        return cum[k] + dx * (flux[k] + 0.5 * slope * dx)

    width = np.diff(edges)
    area = np.diff(integral(edges))
    safe = np.where(width > 0, width, 1.0)
    return np.where(width > 0, area / safe, np.interp(grid, wl, flux))


def resample_spectrum(
    wl: np.ndarray,
    flux: np.ndarray,
    grid: np.ndarray,
    normalise: str = "median",
    method: str = "mean",
) -> tuple[np.ndarray, str | None]:
    """Resample (wl, flux) (sorted by wl) onto ``grid``: cell means ("mean", flux-conserving) or
    linear interpolation at the grid points ("linear"); then divide by the median / mean / max of
    the result (or not, "none"). Returns (values (k,), failure reason or None)."""
    nan = np.full(grid.size, np.nan)
    if wl.size < 2:
        return nan, "fewer than 2 finite pixels"
    if grid[0] < wl[0] or grid[-1] > wl[-1]:
        return nan, (
            f"grid {grid[0]:g}-{grid[-1]:g} not covered by the spectrum ({wl[0]:g}-{wl[-1]:g}); "
            "narrow features.grid_min/grid_max"
        )
    y = (
        cell_means(wl, flux, grid)
        if method == "mean" and grid.size > 1
        else np.interp(grid, wl, flux)
    )
    if normalise == "none":
        return y, None
    norm = {"median": np.median, "mean": np.mean, "max": np.max}[normalise](y)
    if not np.isfinite(norm) or norm <= 0:
        return nan, f"cannot normalise: {normalise} flux is {norm:g} (must be > 0)"
    return y / norm, None


#: most points of a grid taken from the data (grid_step and grid_n not given)
DEFAULT_MAX_POINTS = 1000


def grid_from_data(
    coverage: Mapping[str, Any],
    grid_min: float | None,
    grid_max: float | None,
    grid_step: float | None,
    grid_n: int | None,
) -> tuple[float, float, float | None, int | None]:
    """The grid's missing parts from the spectra's ``coverage`` (as the spectra source records
    it: the range every spectrum covers, the median pixel step): grid_min/grid_max default to
    that range, and without grid_step and grid_n the step is the median pixel step, with at
    most :data:`DEFAULT_MAX_POINTS` points."""
    if not coverage:
        raise ConfigError(
            "features.grid_min/grid_max not given and the source recorded no wavelength "
            "coverage (only the spectra source does); give features.grid_min and grid_max"
        )
    lo = float(coverage["start"]) if grid_min is None else float(grid_min)
    hi = float(coverage["stop"]) if grid_max is None else float(grid_max)
    if not hi > lo:
        raise ConfigError(
            f"the spectra have no wavelength range in common: object {coverage['start_id']} "
            f"starts at {coverage['start']:g}, object {coverage['stop_id']} ends at "
            f"{coverage['stop']:g}; give features.grid_min and grid_max (objects outside fail)"
        )
    if grid_step is None and grid_n is None:
        n = int(np.floor((hi - lo) / float(coverage["median_step"]) + 1e-9)) + 1
        if n > DEFAULT_MAX_POINTS or n < 2:
            grid_n = min(max(n, 2), DEFAULT_MAX_POINTS)
        else:
            grid_step = float(coverage["median_step"])
    return lo, hi, grid_step, grid_n


@declared
class SpectrumExtractor:
    """Resampled (and normalised) fluxes on a common grid as features.

    Parameters (the config's ``features:`` mapping minus ``kind``): grid_min, grid_max and one of
    grid_step / grid_n (wavelength unit of the data; not given: from the data, see
    :func:`grid_from_data`, recorded in :attr:`choices`); method: "mean" (flux-conserving cell
    means, default) or "linear"; normalise: median (default), mean, max, none.
    """

    reads = "spectrum"

    PARAMS = Params(
        grid_min=Param(
            float,
            None,
            "first wavelength of the common grid (null: where every spectrum has begun)",
            nullable=True,
        ),
        grid_max=Param(
            float,
            None,
            "last wavelength of the common grid (null: where the first spectrum ends)",
            nullable=True,
        ),
        grid_step=Param(float, None, "grid spacing", exclusive_minimum=0, nullable=True),
        grid_n=Param(int, None, "grid points (instead of grid_step)", minimum=2, nullable=True),
        normalise=Param(
            str, "median", "flux normalisation", enum=("median", "mean", "max", "none")
        ),
        method=Param(
            str,
            "mean",
            "mean: flux averaged over each grid cell (keeps narrow lines); linear: interpolation",
            enum=("mean", "linear"),
        ),
    )
    SHARD_SIZE = 200000

    def __init__(
        self,
        grid_min: float | None,
        grid_max: float | None,
        grid_step: float | None,
        grid_n: int | None,
        normalise: str,
        method: str,
        workdir: str | None = None,
    ) -> None:
        #: what was chosen from the data (recorded in dataset.json): the grid if not given
        self.choices: dict[str, Any] = {}
        if grid_min is None or grid_max is None or (grid_step is None and grid_n is None):
            given = (grid_min, grid_max, grid_step, grid_n)
            grid_min, grid_max, grid_step, grid_n = grid_from_data(source_coverage(workdir), *given)
            self.choices = {
                "grid_min": grid_min,
                "grid_max": grid_max,
                "grid_step": grid_step,
                "grid_n": grid_n,
            }
            log.info("spectrum grid from the data: %s", self.choices)
        if method not in METHODS:
            raise ConfigError(f"features.method must be one of {', '.join(METHODS)}")
        self.method = method
        if normalise not in NORMALISE:
            raise ConfigError(f"features.normalise must be one of {', '.join(NORMALISE)}")
        self.grid = wavelength_grid(float(grid_min), float(grid_max), grid_step, grid_n)
        self.normalise = normalise

    def names(self) -> list[str]:
        return [f"flux_{w:g}" for w in self.grid]

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        n = len(objects)
        X = np.full((n, self.grid.size), np.nan)
        reasons: list[str | None] = [None] * n
        if n == 0:
            return X, reasons
        ids = objects["id"].astype(str).to_numpy()
        parts = []
        for p in objects["spectrum_path"].unique():
            tab = pq.read_table(p)
            parts.append(tab.filter(pc.is_in(tab["id"], value_set=pa.array(ids))).to_pandas())
        sp = pd.concat(parts, ignore_index=True)
        k = sp["id"].astype(str).to_numpy()
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if k.size else np.empty(0, int)
        stops = np.r_[starts[1:], k.size].astype(int)
        where = {k[s]: (s, e) for s, e in zip(starts, stops, strict=True)}
        wl = sp["wavelength"].to_numpy(dtype=np.float64)
        fl = sp["flux"].to_numpy(dtype=np.float64)
        with Progress("spectrum features", n, "spectra", logger=log) as bar:
            for i, oid in enumerate(ids):
                s, e = where.get(oid, (0, 0))
                X[i], reasons[i] = resample_spectrum(
                    wl[s:e], fl[s:e], self.grid, self.normalise, self.method
                )
                bar.advance()
        return X, reasons
