"""Offline cross-match of exported objects against a catalogue the user gives.

The catalogue is a CSV, FITS table or VOTable file with right ascension and declination in
degrees (ICRS) and a name per row. :func:`read_catalogue` reads and checks it (every error
names the file and the line or row, and what to do); :func:`crossmatch` marks each object with

- ``known`` (bool): the nearest catalogue entry is within ``radius_arcsec``;
- ``known_name`` (str): that entry's name ("" when not known);
- ``known_sep_arcsec`` (float, arcsec): the separation to it (NaN when not known),

using ``astropy.coordinates.SkyCoord.match_to_catalog_sky`` (the nearest neighbour on the
sphere; exact great-circle separations, RA wrapping at 0/360 handled).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import AstroanomError

log = logging.getLogger("astroanom.vo.crossmatch")
PathLike = str | os.PathLike[str]

KNOWN_COLUMNS = ("known", "known_name", "known_sep_arcsec")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz")
VOTABLE_SUFFIXES = (".vot", ".votable", ".xml")
#: the keys of ``export.crossmatch`` in a dataset's config, with their defaults
DEFAULTS: dict[str, Any] = {"ra": "ra", "dec": "dec", "name": "name", "radius_arcsec": 2.0}


class CatalogueError(AstroanomError):
    """A catalogue file that cannot be used for the cross-match."""


@dataclass(frozen=True)
class Catalogue:
    """Checked catalogue positions (n,) in degrees and names (n,), with the file read."""

    path: Path
    ra: np.ndarray
    dec: np.ndarray
    name: np.ndarray


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".fits.gz" if name.endswith(".fits.gz") else path.suffix.lower()


def _read_table(path: Path) -> tuple[pd.DataFrame, dict[str, str], str, int]:
    """(table as text/number columns, unit per column, what a row is called, first number)."""
    suffix = _suffix(path)
    if suffix in CSV_SUFFIXES:
        sep = "\t" if suffix == ".tsv" else ","
        try:
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, comment="#")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            raise CatalogueError(f"{path}: not a readable CSV table: {err}") from None
        return df, {}, "line", 2  # line 1 is the header (comment lines are not counted)
    if suffix in FITS_SUFFIXES or suffix in VOTABLE_SUFFIXES:
        from astropy.table import Table

        fmt = "votable" if suffix in VOTABLE_SUFFIXES else "fits"
        try:
            t = Table.read(path, format=fmt)
        except Exception as err:  # astropy raises many types for a broken file
            raise CatalogueError(f"{path}: not a readable {fmt} table: {err}") from None
        units = {c: str(t[c].unit) for c in t.colnames if t[c].unit is not None}
        cols = {}
        for c in t.colnames:
            col = t[c]
            if col.ndim != 1:
                continue
            vals = col.filled(np.nan) if getattr(col, "mask", None) is not None else col
            arr = np.asarray(vals)
            if arr.dtype.kind == "S":
                arr = np.char.decode(arr, "utf-8")
            cols[c] = arr
        return pd.DataFrame(cols), units, "row", 1
    raise CatalogueError(
        f"{path}: unknown catalogue format {suffix!r}; give a .csv, .fits or .vot/.xml file"
    )


def _degrees(
    df: pd.DataFrame, col: str, units: Mapping[str, str], path: Path, what: str, first: int
) -> np.ndarray:
    """Column ``col`` as float degrees; errors name the first bad line/row and its value."""
    raw = df[col]
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        text = raw.astype(str).str.strip()
        vals = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            k = int(bad[0])
            value = text.iloc[k]
            hint = (
                "a percentage is not an angle"
                if value.endswith("%")
                else "sexagesimal (hh:mm:ss) is not read"
                if ":" in value or " " in value
                else "empty"
                if not value
                else "not a number"
            )
            raise CatalogueError(
                f"{path}, {what} {k + first}: {col} = {value!r} ({hint}); give decimal degrees"
            )
        return vals
    vals = np.asarray(raw, dtype=np.float64)
    unit = units.get(col)
    if unit is not None and unit not in ("deg", "degree", "degrees"):
        import astropy.units as u

        try:
            given = u.Unit(unit)
            vals = (vals * given).to_value(u.deg)
        except (ValueError, TypeError, u.UnitsError):
            ratio = "a fraction or percentage" if _dimensionless(unit) else "not an angle"
            raise CatalogueError(
                f"{path}: column {col} has unit {unit!r} ({ratio}); give degrees"
            ) from None
    bad = np.flatnonzero(~np.isfinite(vals))
    if bad.size:
        k = int(bad[0])
        raise CatalogueError(f"{path}, {what} {k + first}: {col} is missing; give decimal degrees")
    return vals


def _dimensionless(unit: str) -> bool:
    import astropy.units as u

    try:
        return u.Unit(unit).is_equivalent(u.dimensionless_unscaled)
    except (ValueError, TypeError):
        return False


def read_catalogue(
    path: PathLike, ra: str = "ra", dec: str = "dec", name: str = "name"
) -> Catalogue:
    """Read and check a catalogue file: columns ``ra``, ``dec`` (decimal degrees, or a FITS /
    VOTable unit convertible to degrees) and ``name``; RA in [0, 360], Dec in [-90, 90].

    Raises :class:`CatalogueError` naming the file and the first bad line (CSV) or row
    (FITS/VOTable, counted from 1) and what to do. Logs a warning when every RA is within
    0..24 (hours?) or every position within 0..2 pi (radians?)."""
    p = Path(path)
    if not p.is_file():
        raise CatalogueError(f"{p}: catalogue file not found (export.crossmatch.path)")
    df, units, what, first = _read_table(p)
    missing = [c for c in (ra, dec, name) if c not in df.columns]
    if missing:
        raise CatalogueError(
            f"{p}: no column {', '.join(map(repr, missing))} (columns: {list(df.columns)}); "
            "name the columns with export.crossmatch.ra/dec/name"
        )
    if len(df) == 0:
        raise CatalogueError(f"{p}: the catalogue has no rows")
    ra_deg = _degrees(df, ra, units, p, what, first)
    dec_deg = _degrees(df, dec, units, p, what, first)
    for col, vals, lo, hi in ((ra, ra_deg, 0.0, 360.0), (dec, dec_deg, -90.0, 90.0)):
        out = np.flatnonzero((vals < lo) | (vals > hi))
        if out.size:
            k = int(out[0])
            raise CatalogueError(
                f"{p}, {what} {k + first}: {col} = {vals[k]:g} is outside {lo:g}..{hi:g} "
                "degrees; give decimal degrees (ICRS)"
            )
    if len(df) >= 3 and ra_deg.max() <= 24.0:
        log.warning("%s: every %s is within 0..24: hours? The cross-match reads degrees", p, ra)
    elif len(df) >= 3 and ra_deg.max() <= 2 * np.pi and np.abs(dec_deg).max() <= np.pi / 2:
        log.warning("%s: every position is within 0..2 pi: radians? It reads degrees", p)
    names = df[name].astype(str).str.strip().to_numpy(dtype=object)
    return Catalogue(p, ra_deg, dec_deg, names)


def check_radius(radius_arcsec: float) -> float:
    """The match radius in arcsec, a finite number above 0."""
    r = float(radius_arcsec)
    if not np.isfinite(r) or r <= 0:
        raise CatalogueError(f"the cross-match radius must be above 0 arcsec, got {radius_arcsec}")
    return r


def crossmatch(
    ra: np.ndarray, dec: np.ndarray, catalogue: Catalogue, radius_arcsec: float
) -> pd.DataFrame:
    """``known``, ``known_name``, ``known_sep_arcsec`` (n rows) of the objects at ``ra``,
    ``dec`` (n,) degrees: their nearest catalogue entry within ``radius_arcsec``. Objects
    without a finite position are not known."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    r = check_radius(radius_arcsec)
    ra = np.asarray(ra, dtype=np.float64)
    dec = np.asarray(dec, dtype=np.float64)
    ok = np.isfinite(ra) & np.isfinite(dec)
    known = np.zeros(ra.size, dtype=bool)
    names = np.full(ra.size, "", dtype=object)
    sep = np.full(ra.size, np.nan)
    if ok.any():
        objects = SkyCoord(ra[ok] * u.deg, dec[ok] * u.deg, frame="icrs")
        cat = SkyCoord(catalogue.ra * u.deg, catalogue.dec * u.deg, frame="icrs")
        idx, sep2d, _ = objects.match_to_catalog_sky(cat)
        s = sep2d.to_value(u.arcsec)
        hit = s <= r
        rows = np.flatnonzero(ok)
        known[rows[hit]] = True
        names[rows[hit]] = catalogue.name[idx[hit]]
        sep[rows[hit]] = s[hit]
    return pd.DataFrame({"known": known, "known_name": names, "known_sep_arcsec": sep})


def crossmatch_rows(
    rows: pd.DataFrame, settings: Mapping[str, Any], source: str = "export"
) -> pd.DataFrame:
    """``rows`` (with ``ra``, ``dec``) plus the columns of :func:`crossmatch` against the
    catalogue of ``settings`` (``path``, ``ra``, ``dec``, ``name``, ``radius_arcsec``; the
    missing ones from :data:`DEFAULTS`)."""
    s = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    if "path" not in s:
        raise CatalogueError(f"{source}: the cross-match needs a catalogue path")
    if not {"ra", "dec"} <= set(rows.columns):
        raise CatalogueError(
            f"{source}: this dataset has no ra/dec, so it cannot be cross-matched; "
            "remove export.crossmatch"
        )
    cat = read_catalogue(s["path"], s["ra"], s["dec"], s["name"])
    marks = crossmatch(rows["ra"].to_numpy(), rows["dec"].to_numpy(), cat, s["radius_arcsec"])
    out = rows.drop(columns=[c for c in KNOWN_COLUMNS if c in rows.columns]).reset_index(drop=True)
    log.info(
        "cross-match: %d of %d rows within %g arcsec of %s",
        int(marks["known"].sum()),
        len(out),
        float(s["radius_arcsec"]),
        cat.path,
    )
    return pd.concat([out, marks], axis=1)
