"""Spectra (``source.kind: spectra``): a folder of 1-D FITS spectra, or a table with one row per
object and one column per wavelength (column names are the wavelengths, e.g. "4000.0").

The source writes every spectrum into ONE Parquet file under ``workdir`` (``spectra.parquet``:
id, wavelength, flux; sorted by id then wavelength; non-finite pixels removed) and returns
per-object metadata (``spectrum_path``, ``n_pix``, ``wl_min``, ``wl_max``). The
``spectrum`` extractor (:mod:`astroanom.features.spectrum`) resamples onto a common grid.

FITS: the wavelength of pixel i (0-based) is CRVAL1 + (i + 1 - CRPIX1) * CDELT1 (or CD1_1) from
the header of the first HDU with 1-D data; with ``log_wavelength`` it is 10 ** that (SDSS-style
log10 grids). A binary-table HDU with ``wavelength_column`` and ``flux_column`` works too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.progress import Progress
from astroanom.sources.paths import data_path
from astroanom.sources.table import FAILURE_COLUMNS, READER_PARAMS, read_table
from astroanom.store.io import write_parquet

log = logging.getLogger("astroanom.sources.spectra")

SPECTRA_FILE = "spectra.parquet"
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")


class SpectrumReadError(Exception):
    """A spectrum file that cannot be used; ``str(exc)`` is the recorded reason."""


def fits_id(path: Path) -> str:
    name = path.name
    for suf in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return path.stem


def read_fits_spectrum(
    path: str | os.PathLike[str],
    log_wavelength: bool = False,
    wavelength_column: str = "wavelength",
    flux_column: str = "flux",
) -> tuple[np.ndarray, np.ndarray]:
    """(wavelength (n,), flux (n,)) float64 of a 1-D FITS spectrum (image or table HDU)."""
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdul:
            for h in hdul:
                data = h.data
                if data is None:
                    continue
                if isinstance(h, fits.BinTableHDU | fits.TableHDU):
                    names = list(data.columns.names)
                    if wavelength_column in names and flux_column in names:
                        wl = np.asarray(data[wavelength_column], dtype=np.float64).ravel()
                        fl = np.asarray(data[flux_column], dtype=np.float64).ravel()
                        break
                    continue
                fl = np.asarray(data, dtype=np.float64)
                if fl.ndim == 2 and 1 in fl.shape:
                    fl = fl.ravel()
                if fl.ndim != 1:
                    raise SpectrumReadError(f"data of {fl.ndim} dimensions; expected 1-D flux")
                hdr = h.header
                if "CRVAL1" not in hdr:
                    raise SpectrumReadError("no CRVAL1 in the header: wavelength grid unknown")
                step = hdr.get("CDELT1", hdr.get("CD1_1"))
                if step is None:
                    raise SpectrumReadError("no CDELT1 or CD1_1 in the header")
                pix = np.arange(fl.size, dtype=np.float64) + 1.0 - float(hdr.get("CRPIX1", 1.0))
                wl = float(hdr["CRVAL1"]) + pix * float(step)
                if log_wavelength:
                    wl = 10.0**wl
                break
            else:
                raise SpectrumReadError(
                    f"no 1-D image HDU and no table with {wavelength_column!r}, {flux_column!r}"
                )
    except (OSError, ValueError, TypeError) as exc:
        raise SpectrumReadError(f"unreadable FITS file: {exc}") from exc
    return wl, fl


def wavelength_columns(columns: list[str], id_column: str) -> list[tuple[str, float]]:
    """(name, wavelength) of every column whose name parses as a number, sorted by wavelength."""
    out = []
    for c in columns:
        if c == id_column:
            continue
        try:
            out.append((c, float(str(c).strip())))
        except ValueError:
            continue
    return sorted(out, key=lambda x: x[1])


@declared
class SpectraSource:
    """``source.kind: spectra``.

    Parameters (the config's ``source:`` mapping minus ``kind``):
        path: a folder of 1-D FITS spectra (id = file name without suffix), or a table file
            with an id column and one numeric-named column per wavelength.
        id_column: the table's id column (default "id").
        log_wavelength: FITS header grid is log10(wavelength) (default False).
        wavelength_column, flux_column: FITS table-HDU column names.
        format, sep, comment, header: table reader options.
    """

    object_kind = "spectrum"  # astroanom.kinds: what its objects are
    seed_param = ""  # the seed is not used

    PARAMS = Params(
        path=Param(
            str,
            description="a folder of 1-D FITS spectra or a table with one column per wavelength",
        ),
        id_column=Param(str, "id", "the table's id column"),
        log_wavelength=Param(bool, False, "the FITS header grid is log10(wavelength)"),
        wavelength_column=Param(str, "wavelength", "FITS table-HDU wavelength column"),
        flux_column=Param(str, "flux", "FITS table-HDU flux column"),
        **{k: READER_PARAMS[k] for k in ("format", "sep", "comment", "header")},
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        id_column: str,
        log_wavelength: bool,
        wavelength_column: str,
        flux_column: str,
        format: str | None,  # noqa: A002 - the config key's name
        sep: str | None,
        comment: str | None,
        header: str,
    ) -> None:
        self.path = data_path(path)
        self.id_column = id_column
        self.fits_options = {
            "log_wavelength": log_wavelength,
            "wavelength_column": wavelength_column,
            "flux_column": flux_column,
        }
        self.reader = {"fmt": format, "sep": sep, "comment": comment, "header": header}
        self.coverage: dict[str, object] = {}

    def _from_folder(self) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
        files = sorted(
            p
            for p in self.path.rglob("*")
            if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES)
        )
        if not files:
            raise ConfigError(f"no FITS spectra ({', '.join(FITS_SUFFIXES)}) in {self.path}")
        ids = [fits_id(p) for p in files]
        if len(set(ids)) < len(ids):
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            raise ConfigError(f"two spectra files share the id {dup!r}; rename one")
        parts, failed = [], []
        bar = Progress(f"spectra of {self.path}", len(files), "files", log)
        for oid, p in zip(ids, files, strict=True):
            bar.advance()
            try:
                wl, fl = read_fits_spectrum(p, **self.fits_options)  # type: ignore[arg-type]
            except SpectrumReadError as exc:
                failed.append((oid, f"{p.name}: {exc}"))
                continue
            parts.append(pd.DataFrame({"id": oid, "wavelength": wl, "flux": fl}))
        bar.done()
        cols = {"id": pd.Series(dtype=str), "wavelength": [], "flux": []}
        return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(cols)), failed

    def _from_table(self) -> pd.DataFrame:
        df = read_table(self.path, dtypes={self.id_column: str}, **self.reader)  # type: ignore[arg-type]
        if self.id_column not in df.columns:
            raise ConfigError(f"{self.path}: no id column {self.id_column!r}")
        wcols = wavelength_columns(list(df.columns), self.id_column)
        if len(wcols) < 2:
            raise ConfigError(
                f"{self.path}: fewer than 2 columns named by a wavelength (e.g. '4000.0')"
            )
        names = [c for c, _ in wcols]
        flux = df[names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
        n, m = flux.shape
        return pd.DataFrame(
            {
                "id": np.repeat(df[self.id_column].astype(str).to_numpy(), m),
                "wavelength": np.tile(np.array([w for _, w in wcols]), n),
                "flux": flux.ravel(),
            }
        )

    def manifest(self, workdir: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Write ``workdir/spectra.parquet``; return (objects, failures)."""
        failed: list[tuple[str, str]] = []
        if self.path.is_dir():
            long, failed = self._from_folder()
        elif self.path.is_file():
            long = self._from_table()
        else:
            raise ConfigError(f"spectra {self.path} do not exist; set source.path")
        all_ids = pd.unique(long["id"])
        ok = np.isfinite(long["wavelength"].to_numpy()) & np.isfinite(long["flux"].to_numpy())
        long = long.loc[ok].sort_values(["id", "wavelength"], kind="stable").reset_index(drop=True)
        path = Path(workdir).resolve() / SPECTRA_FILE
        write_parquet(long, path)
        g = long.groupby("id", sort=True)["wavelength"]
        meta = pd.DataFrame({"n_pix": g.size(), "wl_min": g.min(), "wl_max": g.max()})
        meta = meta.reindex(sorted(all_ids))
        empty = meta["n_pix"].isna() | (meta["n_pix"] < 2)
        failed += [(i, "fewer than 2 finite pixels") for i in meta.index[empty]]
        meta = meta.loc[~empty]
        meta["n_pix"] = meta["n_pix"].astype(np.int64)
        meta.insert(0, "spectrum_path", str(path))
        meta.index.name = "id"
        failures = pd.DataFrame([(i, "source", r) for i, r in failed], columns=FAILURE_COLUMNS)
        log.info("%s: %d spectra, %d failures -> %s", self.path, len(meta), len(failures), path)
        self.coverage = common_coverage(meta)
        return meta.reset_index(), failures

    def describe(self) -> dict[str, object]:
        """For ``info.json``: the wavelength range every spectrum covers and the median pixel
        step (the ``spectrum`` extractor's default grid)."""
        out: dict[str, object] = {"description": f"spectra from {self.path}"}
        if self.coverage:
            out["wavelength_coverage"] = self.coverage
        return out


def common_coverage(meta: pd.DataFrame) -> dict[str, object]:
    """The wavelength range all spectra cover (``start``: the latest first pixel, ``stop``: the
    earliest last pixel, and the ids that set them) and the median pixel step, from the
    per-object ``n_pix``, ``wl_min``, ``wl_max`` (indexed by id); {} without spectra."""
    if not len(meta):
        return {}
    step = (meta["wl_max"] - meta["wl_min"]) / (meta["n_pix"] - 1)
    return {
        "start": float(meta["wl_min"].max()),
        "start_id": str(meta["wl_min"].idxmax()),
        "stop": float(meta["wl_max"].min()),
        "stop_id": str(meta["wl_max"].idxmin()),
        "median_step": float(step.median()),
    }
