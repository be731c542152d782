"""Feature tables (``source.kind: table``): one row per object in a CSV, Parquet or FITS table.

The id column and the feature columns are chosen by parameters (all numeric columns but the id
by default). Missing values (NaN, empty cells and the configured ``missing`` marker values) are
handled here, in the source, because only the source sees the whole population (a median imputed
per shard in an extractor would depend on the sharding). Policies, per column or for all:

- ``drop_column``: a feature column with any missing value is removed;
- ``impute_median``: missing values become the column's median over the objects that have one;
- ``drop_row``: an object with a missing feature value becomes a failure row (id, stage, reason);
- ``fail``: raise :class:`ConfigError` naming the column, the first rows (id and file line) and
  the count.

Every action is logged (how many values, which columns) and returned in :attr:`TableSource.report`.
The manifest holds ``id``, the ``keep`` columns, ``imputed`` (the comma-separated feature columns
imputed for that object, "" if none) and the cleaned feature columns under their own names; :class:`astroanom.features.columns.ColumnsExtractor` copies them into the feature matrix.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.sources.paths import data_path
from astroanom.store.rundir import FAILURE_COLUMNS

log = logging.getLogger("astroanom.sources.table")

POLICIES = ("drop_column", "impute_median", "drop_row", "fail")
FORMATS = ("csv", "parquet", "fits")
HEADERS = ("first_line", "last_comment", "none")


def table_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The table format: ``fmt`` if given, else from the suffix (.csv/.tsv/.txt[.gz|.bz2] -> csv,
    .parquet/.pq -> parquet, .fits/.fit/.fits.gz -> fits)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"table format {fmt!r} is not one of {', '.join(FORMATS)}")
        return fmt
    name = str(path).lower()
    for comp in (".gz", ".bz2", ".xz", ".zip"):
        if name.endswith(comp) and not name.endswith((".fits.gz", ".fit.gz")):
            name = name[: -len(comp)]
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")):
        return "fits"
    if name.endswith((".csv", ".tsv", ".txt", ".dat", ".tab", ".mjd")):
        return "csv"
    raise ConfigError(
        f"cannot tell the table format of {path} from its name; set source.format to one of "
        f"{', '.join(FORMATS)}"
    )


def comment_header(path: str | os.PathLike[str], comment: str, sep: str | None) -> list[str]:
    """Column names from the last ``comment`` line before the data (e.g. OGLE's ``# ID\\tField``).

    Compressed files (.gz, .bz2, .xz) are read through pandas' decompression.
    """
    from pandas.io.common import get_handle

    last: str | None = None
    with get_handle(str(path), "r", compression="infer", encoding="utf-8") as h:
        for line in h.handle:
            if not line.startswith(comment):
                break
            body = line[len(comment) :].strip("\r\n")
            if body.strip():
                last = body
    if last is None:
        raise ConfigError(f"{path}: header='last_comment' but the file has no {comment!r} lines")
    parts = re.split(r"\s+", last.strip()) if sep is None else last.split(sep)
    return [p.strip() for p in parts]


def read_table(
    path: str | os.PathLike[str],
    fmt: str | None = None,
    columns: Sequence[str] | None = None,
    sep: str | None = ",",
    comment: str | None = None,
    header: str = "first_line",
    names: Sequence[str] | None = None,
    dtypes: Mapping[str, Any] | None = None,
    hdu: int | str = 1,
) -> pd.DataFrame:
    """Read a table file into a DataFrame with only ``columns`` (all if None).

    CSV-like text: ``sep`` (None = any whitespace), ``comment`` lines skipped, the header on the
    first line, on the last comment line (``last_comment``), or given as ``names`` (``none``).
    Parquet reads only ``columns``. FITS reads the binary table in ``hdu``.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"table {p} does not exist; set source.path to an existing file")
    kind = table_format(p, fmt)
    want = list(columns) if columns is not None else None
    if kind == "parquet":
        return pd.read_parquet(p, columns=want)
    if kind == "fits":
        from astropy.table import Table

        tab = Table.read(p, hdu=hdu)
        if want is not None:
            missing = [c for c in want if c not in tab.colnames]
            if missing:
                raise ConfigError(f"{p}: no column(s) {missing} (columns: {tab.colnames[:20]})")
            tab = tab[want]
        multi = [c for c in tab.colnames if len(tab[c].shape) > 1]
        if multi:
            raise ConfigError(f"{p}: column(s) {multi} hold arrays; one value per cell needed")
        return tab.to_pandas()
    if header not in HEADERS:
        raise ConfigError(f"source.header must be one of {', '.join(HEADERS)}, got {header!r}")
    kwargs: dict[str, Any] = {"comment": comment, "dtype": dict(dtypes or {})}
    kwargs["sep"] = r"\s+" if sep is None else sep
    if header == "last_comment":
        if comment is None:
            raise ConfigError("source.header 'last_comment' needs source.comment (e.g. '#')")
        kwargs.update(header=None, names=comment_header(p, comment, sep))
    elif header == "none":
        if not names:
            raise ConfigError("source.header 'none' needs source.names (the column names)")
        kwargs.update(header=None, names=list(names))
    if want is not None:
        all_names = kwargs.get("names")
        if all_names is not None:
            missing = [c for c in want if c not in all_names]
            if missing:
                raise ConfigError(f"{p}: no column(s) {missing} (columns: {list(all_names)[:20]})")
        kwargs["usecols"] = want
    try:
        return pd.read_csv(p, **kwargs)
    except ValueError as exc:
        raise ConfigError(f"{p}: cannot read the table: {exc}") from exc


def check_ids(ids: pd.Series, path: str, line0: int) -> pd.Series:
    """Ids as str; an empty or NA-like id (pandas reads "", "NA", "nan" as missing) raises naming
    the row, because objects need an id to be labelled."""
    bad = ids.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigError(
            f"{path}: {int(bad.sum())} row(s) have an empty or NA-like id (e.g. row {i + line0}); "
            "give every object a non-empty id that is not 'NA'/'nan'"
        )
    return ids.astype(str)


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [value]
    return list(value)  # type: ignore[call-overload]


def missing_mask(values: pd.DataFrame, markers: Sequence[float]) -> np.ndarray:
    """(n, m) boolean: NaN, +-inf, or equal to one of the ``markers`` (e.g. -99.99)."""
    x = values.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(x)
    for m in markers:
        bad |= np.isclose(x, float(m), rtol=0.0, atol=1e-9 * max(1.0, abs(float(m))))
    return bad


def _numeric(df: pd.DataFrame, col: str, ids: pd.Series, path: str, line0: int) -> pd.Series:
    """Column ``col`` as float64; a non-numeric cell raises naming the id and the file line."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(np.float64)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(
            f"{path}: column {col!r} is not numeric: {s.iloc[i]!r} at id {ids.iloc[i]!r} "
            f"(row {i + line0}); fix the value, mark it as missing, or leave the column out"
        )
    return num.astype(np.float64)


class TableSource:
    """``source.kind: table``: a catalogue or spectra-as-columns table, one row per object.

    Parameters (the config's ``source:`` mapping minus ``kind``):
        path: the table file (CSV/TSV/text, Parquet or FITS; .gz/.bz2 text works).
        id_column: the column of unique object ids (default "id"); kept as given (str).
        columns: feature columns (default: every numeric column but the id and ``keep``).
        exclude: columns never used as features (e.g. RA, Dec).
        keep: columns copied into the manifest as metadata (e.g. a type for the oracle).
        derived: {name: expression} new feature columns computed from others after the missing
            markers became NaN (pandas ``DataFrame.eval``; e.g. ``V_I: "V - I"``,
            ``logP: "log10(P_1)"``); a missing input gives a missing result.
        missing: marker value(s) meaning "missing" besides NaN/empty (e.g. -99.99).
        missing_policy: one of drop_column, impute_median, drop_row, fail, or a mapping
            {column: policy} with an optional "default" key (default policy "fail").
        format, sep, comment, header ("first_line" | "last_comment" | "none"), names, hdu:
            reader options (see :func:`read_table`).
        n_max: a seeded random subset of this many rows (all if None), kept in file order.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        id_column: str = "id",
        columns: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        keep: Sequence[str] = (),
        derived: Mapping[str, str] | None = None,
        missing: float | Sequence[float] | None = None,
        missing_policy: str | Mapping[str, str] = "fail",
        format: str | None = None,  # noqa: A002 - the config key's name
        sep: str | None = ",",
        comment: str | None = None,
        header: str = "first_line",
        names: Sequence[str] | None = None,
        hdu: int | str = 1,
        n_max: int | None = None,
    ) -> None:
        self.path = data_path(path)
        self.id_column = id_column
        self.columns = list(columns) if columns is not None else None
        self.exclude = list(exclude)
        self.keep = list(keep)
        self.derived = dict(derived or {})
        self.missing = [float(m) for m in _as_list(missing)]
        self.policies = self._parse_policy(missing_policy)
        self.reader = {
            "fmt": format,
            "sep": sep,
            "comment": comment,
            "header": header,
            "names": names,
            "hdu": hdu,
        }
        self.n_max = n_max
        #: What the missing-value policy did: one dict per affected column (after manifest()).
        self.report: list[dict[str, Any]] = []
        #: The feature columns of the manifest, in order (after manifest()).
        self.feature_columns: list[str] = []
        #: Per object: comma-separated imputed feature columns ("" if none) (after manifest()).
        self.imputed = np.empty(0, dtype=object)

    @staticmethod
    def _parse_policy(policy: str | Mapping[str, str]) -> dict[str, str]:
        table = {"default": policy} if isinstance(policy, str) else dict(policy)
        table.setdefault("default", "fail")
        bad = {k: v for k, v in table.items() if v not in POLICIES}
        if bad:
            raise ConfigError(f"missing_policy values must be one of {', '.join(POLICIES)}: {bad}")
        return table

    def _read(self) -> pd.DataFrame:
        want: list[str] | None = None
        if self.columns is not None:
            want = list(dict.fromkeys([self.id_column, *self.keep, *self.columns]))
            want = [c for c in want if c not in self.derived]
            if self.derived:
                head = self._header_names()
                tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(self.derived.values()))
                if head is None:
                    want = None  # cannot tell names from functions: read every column
                else:
                    want += [c for c in dict.fromkeys(tokens) if c in head and c not in want]
        dtypes = {self.id_column: str} | {k: str for k in self.keep}
        return read_table(self.path, columns=want, dtypes=dtypes, **self.reader)  # type: ignore[arg-type]

    def _header_names(self) -> list[str] | None:
        r = self.reader
        if table_format(self.path, r["fmt"]) != "csv":  # type: ignore[arg-type]
            return None
        if r["header"] == "last_comment" and r["comment"]:
            return comment_header(self.path, str(r["comment"]), r["sep"])  # type: ignore[arg-type]
        if r["header"] == "none":
            return list(r["names"] or [])  # type: ignore[call-overload]
        sep = r"\s+" if r["sep"] is None else r["sep"]
        return list(pd.read_csv(self.path, sep=sep, comment=r["comment"], nrows=0).columns)

    def manifest(self, workdir: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """objects (id, keep columns, cleaned feature columns) and failures (dropped rows)."""
        df = self._read()
        path = str(self.path)
        # first data line of the file, for messages (1-based; header lines skipped by pandas)
        line0 = 2 if self.reader["header"] == "first_line" else 1
        if self.id_column not in df.columns:
            raise ConfigError(
                f"{path}: no id column {self.id_column!r} (columns: {list(df.columns)[:20]}); "
                "set source.id_column"
            )
        ids = check_ids(df[self.id_column], path, line0)
        dup = ids[ids.duplicated(keep=False)]
        if len(dup):
            raise ConfigError(
                f"{path}: {dup.nunique()} id(s) occur more than once, e.g. {dup.iloc[0]!r}; "
                "ids must be unique"
            )
        missing_keep = [c for c in self.keep if c not in df.columns]
        if missing_keep:
            raise ConfigError(f"{path}: no column(s) {missing_keep} to keep")
        if self.n_max is not None and self.n_max < len(df):
            rows = np.sort(np.random.default_rng(seed).choice(len(df), self.n_max, replace=False))
            df, ids = df.iloc[rows], ids.iloc[rows]
        cols = self._feature_names(df)
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(self.derived.values())))
        inputs = [c for c in cols if c not in self.derived]
        inputs += [c for c in df.columns if c in names and c not in inputs]
        base = pd.DataFrame({c: _numeric(df, c, ids, path, line0) for c in inputs}, index=df.index)
        base = base.mask(missing_mask(base, self.missing))
        for name, expr in self.derived.items():
            try:
                base[name] = pd.to_numeric(base.eval(expr), errors="coerce").astype(np.float64)
            except Exception as exc:
                raise ConfigError(
                    f"source.derived {name}: cannot evaluate {expr!r}: {exc}"
                ) from exc
        feats = base[cols].copy()
        feats, keep_rows, failures = self._apply_policy(feats, ids, path, line0)
        if feats.shape[1] == 0:
            raise ConfigError(
                f"{path}: no feature column left after the missing-value policy; "
                "choose impute_median or drop_row for some columns"
            )
        objects = pd.concat(
            [
                pd.DataFrame({"id": ids.to_numpy()}, index=df.index),
                df[self.keep].astype(str),
                pd.DataFrame({"imputed": self.imputed}, index=df.index),
                feats,
            ],
            axis=1,
        )
        objects = objects.loc[keep_rows].reset_index(drop=True)
        self.feature_columns = list(feats.columns)
        log.info(
            "%s: %d objects, %d feature columns (%s), %d failures",
            path,
            len(objects),
            len(self.feature_columns),
            ", ".join(self.feature_columns),
            len(failures),
        )
        return objects, failures

    def _feature_names(self, df: pd.DataFrame) -> list[str]:
        skip = {self.id_column, *self.keep, *self.exclude}
        if self.columns is None:
            cols = [
                c
                for c in df.columns
                if c not in skip
                and pd.api.types.is_numeric_dtype(df[c])
                and not pd.api.types.is_bool_dtype(df[c])
            ]
        else:
            absent = [c for c in self.columns if c not in df.columns and c not in self.derived]
            if absent:
                raise ConfigError(
                    f"{self.path}: no column(s) {absent} (columns: {list(df.columns)[:20]})"
                )
            cols = [c for c in self.columns if c not in self.exclude]
        cols += [c for c in self.derived if c not in cols]
        if not cols:
            raise ConfigError(f"{self.path}: no numeric feature columns; set source.columns")
        return cols

    def _apply_policy(
        self, feats: pd.DataFrame, ids: pd.Series, path: str, line0: int
    ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
        """Apply the per-column policies; return (features, rows kept (bool), failures).

        Rows are dropped first (drop_row), then medians are taken over the rows that remain.
        """
        miss = feats.isna().to_numpy()
        n = len(feats)
        counts = miss.sum(axis=0)
        policy = {c: self.policies.get(c, self.policies["default"]) for c in feats.columns}
        for j, col in enumerate(feats.columns):
            if counts[j] and policy[col] == "fail":
                rows = np.flatnonzero(miss[:, j])
                shown = ", ".join(f"{ids.iloc[i]!r} (row {i + line0})" for i in rows[:5])
                raise ConfigError(
                    f"{path}: column {col!r} has {counts[j]} missing value(s) of {n}, e.g. at id "
                    f"{shown}; set source.missing_policy (drop_column, impute_median or "
                    "drop_row) for it"
                )
        row_cols = [j for j, c in enumerate(feats.columns) if policy[c] == "drop_row"]
        bad_rows = miss[:, row_cols].any(axis=1) if row_cols else np.zeros(n, dtype=bool)
        reasons = [
            "missing value in " + ", ".join(feats.columns[j] for j in row_cols if miss[i, j])
            for i in np.flatnonzero(bad_rows)
        ]
        self.report = []
        drop_cols: list[str] = []
        for j, col in enumerate(feats.columns):
            if not counts[j]:
                continue
            entry: dict[str, Any] = {
                "column": col,
                "n_missing": int(counts[j]),
                "fraction": float(counts[j]) / n,
                "policy": policy[col],
            }
            if policy[col] == "drop_column":
                drop_cols.append(col)
            elif policy[col] == "impute_median":
                ok = feats[col].to_numpy()[~bad_rows & ~miss[:, j]]
                if ok.size == 0:
                    raise ConfigError(f"{path}: column {col!r} has no value to take a median of")
                entry["median"] = float(np.median(ok))
                feats[col] = feats[col].fillna(entry["median"])
            self.report.append(entry)
            log.warning(
                "%s: column %s: %d missing value(s) (%.1f%%) -> %s%s",
                path,
                col,
                counts[j],
                100.0 * counts[j] / n,
                policy[col],
                f" {entry['median']:g}" if "median" in entry else "",
            )
        failures = pd.DataFrame(
            {"id": ids.to_numpy()[bad_rows], "stage": "source", "reason": reasons},
            columns=FAILURE_COLUMNS,
        )
        imp = [j for j, c in enumerate(feats.columns) if counts[j] and policy[c] == "impute_median"]
        self.imputed = np.full(n, "", dtype=object)
        for i in np.flatnonzero(miss[:, imp].any(axis=1)) if imp else []:
            self.imputed[i] = ",".join(feats.columns[j] for j in imp if miss[i, j])
        return feats.drop(columns=drop_cols), ~bad_rows, failures


def policy_report(report: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The missing-value report as a table (column, n_missing, fraction, policy, median)."""
    cols = ["column", "n_missing", "fraction", "policy", "median"]
    return pd.DataFrame(list(report), columns=cols)
