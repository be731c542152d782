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
from astroanom.params import Param, Params, declared
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


def data_lines(
    path: str | os.PathLike[str], comment: str | None, header: str = "first_line"
) -> np.ndarray:
    """1-based file line of every data row of a text table, as pandas counts rows: blank lines
    and lines starting with ``comment`` are skipped, and with ``header='first_line'`` so is the
    first remaining line (the column names). Shape (n_rows,) int64. Read only for messages."""
    from pandas.io.common import get_handle

    lines = []
    with get_handle(str(path), "r", compression="infer", encoding="utf-8") as h:
        for k, line in enumerate(h.handle, start=1):
            if not line.strip() or (comment and line.startswith(comment)):
                continue
            lines.append(k)
    if header == "first_line":
        lines = lines[1:]
    return np.asarray(lines, dtype=np.int64)


class RowLocator:
    """Where row positions of a table are in its file, for messages: ``line 7`` for text
    (comment and blank lines counted, so it is the line an editor shows), ``row 3`` (1-based)
    for Parquet and FITS. The text file is scanned only when a message needs it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: str | None = None,
        comment: str | None = None,
        header: str = "first_line",
    ) -> None:
        self.path, self.comment, self.header = path, comment, header
        self.text = table_format(path, fmt) == "csv"
        self._lines: np.ndarray | None = None

    def __call__(self, position: int) -> str:
        """``position``: the 0-based row of the table as read (before any subsample)."""
        if not self.text:
            return f"row {int(position) + 1}"
        if self._lines is None:
            try:
                self._lines = data_lines(self.path, self.comment, self.header)
            except (OSError, UnicodeDecodeError, ValueError):
                self._lines = np.empty(0, dtype=np.int64)
        if 0 <= position < self._lines.size:
            return f"line {int(self._lines[position])}"
        return f"data row {int(position) + 1}"


#: The reader options of the text-table sources (table, light_curves, spectra).
READER_PARAMS = {
    "format": Param(
        str, None, "null: by the file's suffix", enum=("csv", "parquet", "fits"), nullable=True
    ),
    "sep": Param(str, ",", "column separator of text tables (null: whitespace)", nullable=True),
    "comment": Param(str, None, "lines starting with this are comments", nullable=True),
    "header": Param(
        str,
        "first_line",
        "where the column names are (last_comment: the last comment line, as in OGLE files)",
        enum=("first_line", "last_comment", "none"),
    ),
    "names": Param(
        list, None, "column names when the file has none", nullable=True, items={"type": "string"}
    ),
}
_POLICIES = ["fail", "drop_column", "impute_median", "drop_row"]


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


def check_ids(
    ids: pd.Series, path: str, line0: int = 2, locate: RowLocator | None = None
) -> pd.Series:
    """Ids as str; an empty or NA-like id (pandas reads "", "NA", "nan" as missing) raises naming
    the file line (``locate``; else row position + ``line0``), because objects need an id to be
    labelled."""
    bad = ids.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = locate(i) if locate is not None else f"row {i + line0}"
        raise ConfigError(
            f"{path}: {int(bad.sum())} row(s) have an empty or NA-like id (e.g. {where}); "
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


def _non_numeric(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(values as numbers, NaN where not; boolean (n,) of non-empty cells that are no number)."""
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
    return num, bad.to_numpy(dtype=bool)


def _numeric(
    df: pd.DataFrame, col: str, ids: pd.Series, path: str, locate: RowLocator
) -> pd.Series:
    """Column ``col`` as float64; a non-numeric cell raises naming the id and the file line."""
    s = df[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(np.float64)
    num, bad = _non_numeric(s)
    if bad.any():
        k = np.flatnonzero(bad)
        i = int(k[0])
        more = f" ({k.size} such cells)" if k.size > 1 else ""
        raise ConfigError(
            f"{path}: column {col!r} is not numeric: {s.iloc[i]!r} at id {ids.iloc[i]!r} "
            f"({locate(int(df.index[i]))}){more}; fix the value (an empty cell is a missing "
            "value, for source.missing_policy), or leave the column out (source.exclude, or "
            "source.columns without it)"
        )
    return num.astype(np.float64)


@declared
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

    object_kind = "table"  # astroanom.kinds: what its objects are
    seed_param = (
        "n_max"  # the seed only draws the n_max subsample (astroanom.config.source_uses_seed)
    )

    PARAMS = Params(
        path=Param(
            str, description="CSV/TSV (also .gz/.bz2), Parquet or FITS table; one row per object"
        ),
        id_column=Param(str, "id", "the column of unique object ids"),
        columns=Param(
            list,
            None,
            "feature columns (null: every numeric column but the id, keep and exclude)",
            nullable=True,
            items={"type": "string"},
        ),
        exclude=Param(list, [], "columns never used as features", items={"type": "string"}),
        keep=Param(
            list,
            [],
            "non-feature columns to keep (metadata, or the truth column)",
            items={"type": "string"},
        ),
        derived=Param(
            dict,
            None,
            "name -> expression of columns (e.g. V_I: V - I, logP: log10(P_1)); always features",
            nullable=True,
            extra={"additionalProperties": {"type": "string"}},
        ),
        missing=Param(
            (float, list),
            None,
            "marker value(s) of a missing value, e.g. -99.99 (NaN is always missing)",
            nullable=True,
            items={"type": "number"},
        ),
        missing_policy=Param(
            (str, dict),
            "fail",
            "fail | drop_column | impute_median | drop_row, or column -> policy with a `default`",
            extra={
                "oneOf": [
                    {"type": "string", "enum": _POLICIES},
                    {
                        "type": "object",
                        "additionalProperties": {"type": "string", "enum": _POLICIES},
                    },
                ]
            },
        ),
        **{k: READER_PARAMS[k] for k in ("format", "sep", "comment", "header", "names")},
        hdu=Param((int, str), 1, "the FITS HDU of the table"),
        n_max=Param(int, None, "seeded random subset of rows", minimum=1, nullable=True),
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        id_column: str,
        columns: Sequence[str] | None,
        exclude: Sequence[str],
        keep: Sequence[str],
        derived: Mapping[str, str] | None,
        missing: float | Sequence[float] | None,
        missing_policy: str | Mapping[str, str],
        format: str | None,  # noqa: A002 - the config key's name
        sep: str | None,
        comment: str | None,
        header: str,
        names: Sequence[str] | None,
        hdu: int | str,
        n_max: int | None,
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

    def file_columns(self) -> list[str]:
        """Every column name of the table file (for messages; reads the header or schema)."""
        kind = table_format(self.path, self.reader["fmt"])  # type: ignore[arg-type]
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(self.path).names)
        if kind == "fits":
            from astropy.table import Table

            return list(Table.read(self.path, hdu=self.reader["hdu"]).colnames)
        return list(self._header_names() or [])

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
        df = self._read().reset_index(drop=True)
        path = str(self.path)
        r = self.reader
        locate = RowLocator(self.path, r["fmt"], r["comment"], str(r["header"]))  # type: ignore[arg-type]
        if self.id_column not in df.columns:
            raise ConfigError(
                f"{path}: no id column {self.id_column!r} (columns: {list(df.columns)[:20]}); "
                "set source.id_column"
            )
        if len(df) == 0:
            raise ConfigError(
                f"{path}: the table has no rows (columns: {list(df.columns)[:20]}); give a "
                "table with one row per object (check source.comment and source.header if the "
                "file does hold data)"
            )
        ids = check_ids(df[self.id_column], path, locate=locate)
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
        base = pd.DataFrame({c: _numeric(df, c, ids, path, locate) for c in inputs}, index=df.index)
        base = base.mask(missing_mask(base, self.missing))
        for name, expr in self.derived.items():
            base[name] = self._derive(base, name, expr, path)
        feats = base[cols].copy()
        feats, keep_rows, failures = self._apply_policy(feats, ids, path, locate)
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

    @staticmethod
    def _derive(base: pd.DataFrame, name: str, expr: str, path: str) -> pd.Series:
        """A derived column; +-inf results (log10(0), a / 0) are missing values like NaN, so the
        missing-value policy applies to them (logged)."""
        try:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = pd.to_numeric(base.eval(expr), errors="coerce").astype(np.float64)
        except Exception as exc:
            raise ConfigError(f"source.derived {name}: cannot evaluate {expr!r}: {exc}") from exc
        inf = np.isinf(out.to_numpy())
        if inf.any():
            log.warning(
                "%s: derived column %s = %s is +-inf for %d object(s) (e.g. log10 of 0 or a "
                "division by 0): treated as missing (missing_policy applies)",
                path,
                name,
                expr,
                int(inf.sum()),
            )
            out = out.mask(inf)
        return out

    def _numeric_looking(self, df: pd.DataFrame, col: str) -> bool:
        """A text column of which most non-empty cells are numbers: meant as a feature, so its
        other cells are errors (not a silent drop of the column)."""
        s = df[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            return False
        num, bad = _non_numeric(s)
        n_num = int(num.notna().sum())
        return n_num > 0 and n_num >= bad.sum()

    def _feature_names(self, df: pd.DataFrame) -> list[str]:
        skip = {self.id_column, *self.keep, *self.exclude}
        if self.columns is None:
            cols = [
                c
                for c in df.columns
                if c not in skip
                and (
                    (pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]))
                    or self._numeric_looking(df, c)
                )
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
        self, feats: pd.DataFrame, ids: pd.Series, path: str, locate: RowLocator
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
                shown = ", ".join(
                    f"{ids.iloc[i]!r} ({locate(int(feats.index[i]))})" for i in rows[:5]
                )
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
