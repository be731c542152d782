"""``features.kind: embeddings``: features computed elsewhere (bring your own embeddings), joined
to the dataset's objects by id.

A table with one row per object (e.g. Zoobot representations of a folder of cutouts, or any
model's embedding of light curves or spectra) supplies the feature vectors; the objects stay what
the source makes them, so the labeller, the figures and the export show cutouts, curves, spectra
or table rows as their kind does. The extractor reads every kind of object (``reads`` is
:data:`astroanom.features.READS_ANY`), also as a part of ``combine`` beside an image extractor.

Config (the ``features:`` mapping)::

    features:
      kind: embeddings
      path: data/zoobot_features.parquet   # Parquet, CSV/TSV (.gz) or a FITS binary table
      id_column: id_str                    # default "id"
      prefix: feat_                        # or columns: [...]; neither: every numeric column

**Ids** are compared as text after stripping surrounding whitespace on both sides (FITS pads
strings with blanks; bytes are decoded as UTF-8; a CSV id column is read as text, so "00123"
stays "00123"). An integer id column is written in decimal (123 -> "123"), so it does not match
an object id "00123": when none of a job's objects matches but they would without leading zeros,
a :class:`ConfigError` says so. A floating-point id column, an empty id, or an id on two rows
(naming the lines) is a :class:`ConfigError`.

**Per object**: no row for its id -> a failure row "no row for id 'X' in <file> (id column
'id')"; a NaN/inf value -> a failure row naming the columns (the shard step's check,
:func:`astroanom.pipeline.features.storable`). Table rows matching no object are counted over the
whole manifest by the gather step (:meth:`EmbeddingsExtractor.join_reports`): a warning, and
``summary.json``/``dataset.json`` record the count and the first ids.

**Reading**: Parquet reads the id column, then only the row groups holding the job's objects and
only the selected columns (pyarrow); a FITS table is memory-mapped (only the job's rows are read);
a text table is read once per job (the id and selected columns only).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.features import READS_ANY
from astroanom.params import Param, Params, declared
from astroanom.sources.paths import data_path
from astroanom.sources.table import RowLocator, table_format

log = logging.getLogger("astroanom.features")
PathLike = str | os.PathLike[str]

#: Rows of a text table read to tell its numeric columns (for ``prefix`` / every column).
SAMPLE_ROWS = 1000
#: Ids shown in messages about unmatched rows.
N_SHOWN = 5


def _quoted(ids: Sequence[Any]) -> str:
    return ", ".join(repr(str(i)) for i in ids)


def normalise_ids(values: Any, where: str, locate: RowLocator) -> np.ndarray:
    """Ids (n,) as stripped text (object array): integers in decimal, bytes decoded as UTF-8.

    ``where`` names the file and column in messages, ``locate(row)`` the row's line. A missing
    or empty id, or a floating-point id column, raises :class:`ConfigError`.
    """
    arr = np.asarray(values)
    missing = pd.isna(arr) if arr.dtype.kind in "fOU" else np.zeros(arr.shape, bool)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ConfigError(
            f"{where}: {int(missing.sum())} row(s) have no id (e.g. {locate(i)}); give every "
            "row the id of its object"
        )
    if arr.dtype.kind in "iu":
        return arr.astype(str).astype(object)
    if arr.dtype.kind in "fcb":
        raise ConfigError(
            f"{where} holds {arr.dtype} values, not ids; write the ids as integers or text "
            "(floating-point numbers lose digits of long ids)"
        )
    s = pd.Series(arr.astype(object) if arr.dtype.kind != "S" else arr, dtype=object)
    if arr.dtype.kind == "S" or (len(s) and isinstance(s.iloc[0], bytes)):
        s = s.map(lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
    text = s.astype(str).str.strip()
    empty = (text == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ConfigError(
            f"{where}: {int(empty.sum())} row(s) have an empty id (e.g. {locate(i)}); give every "
            "row the id of its object"
        )
    return text.to_numpy(dtype=object)


def object_ids(ids: Any) -> np.ndarray:
    """The dataset's object ids (n,) as the join compares them: text, surrounding blanks
    stripped."""
    return pd.Series(np.asarray(ids), dtype=object).astype(str).str.strip().to_numpy(dtype=object)


def _without_zeros(ids: np.ndarray) -> set[str]:
    """Ids made only of digits, leading zeros dropped ("00123" -> "123")."""
    s = pd.Series(ids, dtype=object).astype(str)
    digits = s[s.str.fullmatch(r"\d+")]
    return set(digits.str.lstrip("0").replace("", "0"))


def zero_padding_hint(objects: np.ndarray, table: np.ndarray) -> str | None:
    """A sentence when the ids match only without leading zeros (e.g. "00123" vs 123), else
    None."""
    if not len(objects) or not len(table):
        return None
    if not _without_zeros(objects) & _without_zeros(table):
        return None
    return (
        f"the ids match only when leading zeros are dropped (dataset ids e.g. "
        f"{_quoted(objects[:3])}, file ids e.g. {_quoted(table[:3])}): write the file's id "
        "column as text exactly as the dataset's ids (e.g. zero-padded), since an integer "
        "column loses the zeros"
    )


def _numeric_arrow(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _numeric_dtype(dtype: Any) -> bool:
    dt = np.dtype(dtype) if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else dtype
    return bool(
        pd.api.types.is_numeric_dtype(dt)
        and not pd.api.types.is_bool_dtype(dt)
        and getattr(dt, "shape", ()) == ()
    )


class FeatureTable:
    """One table of per-object values: its columns (name -> numeric?), its ids and the values of
    chosen rows. ``fmt`` None: by the suffix (:func:`astroanom.sources.table.table_format`);
    ``sep`` None: tab for ``.tsv``, else comma; ``hdu``: the FITS table's HDU."""

    def __init__(
        self, path: Path, id_column: str, fmt: str | None, sep: str | None, hdu: int | str
    ) -> None:
        if not path.is_file():
            raise ConfigError(
                f"features.path: {path} does not exist; give the table of precomputed features "
                "(a relative path is read from the directory snakemake runs in)"
            )
        self.path, self.id_column, self.hdu = path, id_column, hdu
        self.fmt = table_format(path, fmt)
        name = path.name.lower()
        self.sep = sep if sep is not None else ("\t" if ".tsv" in name else ",")
        self.locate = RowLocator(path, self.fmt)
        self._ids: np.ndarray | None = None
        self._index: pd.Index | None = None
        self._frame: pd.DataFrame | None = None  # a text table's id + selected columns

    # -- columns ------------------------------------------------------------------------------

    def columns(self) -> dict[str, bool]:
        """Column name -> numeric (integer or floating point, one value per cell), file order.
        A text table's types are those of its first :data:`SAMPLE_ROWS` rows."""
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            schema = pq.read_schema(self.path)
            cols = {f.name: _numeric_arrow(f.type) for f in schema}
        elif self.fmt == "fits":
            with self._fits() as hdul:
                hdu = self._fits_hdu(hdul)
                dtype = hdu.columns.dtype
                cols = {n: _numeric_dtype(dtype[n]) for n in hdu.columns.names}
        else:
            head = self._read_csv(nrows=0)
            if self.id_column not in head.columns:
                cols = {str(c): False for c in head.columns}
            else:
                sample = self._read_csv(nrows=SAMPLE_ROWS, dtype={self.id_column: str})
                cols = {str(c): _numeric_dtype(sample[c].dtype) for c in sample.columns}
        if self.id_column not in cols:
            raise ConfigError(
                f"{self.path} has no id column {self.id_column!r} (columns: "
                f"{', '.join(list(cols)[:20])}); set features.id_column"
            )
        return cols

    # -- ids ----------------------------------------------------------------------------------

    def ids(self, values: Sequence[str] | None = None) -> np.ndarray:
        """Every row's id (n_rows,) as text (:func:`normalise_ids`), checked unique. A text
        table is read once: with the ``values`` columns too when they will be needed."""
        if self._ids is None:
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                col = pq.read_table(self.path, columns=[self.id_column]).column(0)
                raw: Any = (
                    col.to_numpy(zero_copy_only=False)
                    if col.null_count == 0
                    else (col.to_pandas().to_numpy(dtype=object))
                )
            elif self.fmt == "fits":
                with self._fits() as hdul:
                    raw = np.array(self._fits_hdu(hdul).data.field(self.id_column))
            else:
                frame = self._csv(list(values or []))
                raw = frame[self.id_column].to_numpy(dtype=object)
            self._ids = normalise_ids(raw, self.where(), self.locate)
            self._check_unique(self._ids)
        return self._ids

    def where(self) -> str:
        """The file and its id column, for messages."""
        return f"{self.path} (id column {self.id_column!r})"

    def _check_unique(self, ids: np.ndarray) -> None:
        index = pd.Index(ids)
        if index.is_unique:
            self._index = index
            return
        dup = index.duplicated(keep=False)
        first = ids[np.flatnonzero(dup)[0]]
        rows = np.flatnonzero(ids == first)
        where = ", ".join(self.locate(int(r)) for r in rows[:5])
        n_ids = len(set(ids[dup]))
        raise ConfigError(
            f"{self.path}: id {first!r} is on {rows.size} rows ({where}) of column "
            f"{self.id_column!r}; {n_ids} id(s) repeat. Each object needs exactly one row of "
            "features: drop the repeats"
        )

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id (n,) int64 in the table, -1 where it has none."""
        self.ids()
        assert self._index is not None
        return self._index.get_indexer(pd.Index(ids)).astype(np.int64)

    # -- values -------------------------------------------------------------------------------

    def fill(
        self, out: np.ndarray, dest: np.ndarray, rows: np.ndarray, columns: Sequence[str]
    ) -> None:
        """``out[dest[i]] = row rows[i]`` of the table's ``columns`` (``out`` (n, m) float64;
        ``rows`` 0-based, any order), column by column so no second (n, m) copy is made."""
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        rows, dest = rows[order], np.asarray(dest)[order]
        if self.fmt == "parquet":
            self._parquet_fill(out, dest, rows, columns)
        elif self.fmt == "fits":
            with self._fits() as hdul:
                data = self._fits_hdu(hdul).data
                for j, c in enumerate(columns):
                    out[dest, j] = data.field(c)[rows]
        else:
            frame = self._csv(list(columns))
            for j, c in enumerate(columns):
                out[dest, j] = frame[c].to_numpy()[rows]

    def _parquet_fill(
        self, out: np.ndarray, dest: np.ndarray, rows: np.ndarray, columns: Sequence[str]
    ) -> None:
        """Only the row groups holding ``rows`` (sorted) are read, one at a time, only
        ``columns``."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        meta = pf.metadata
        sizes = np.array([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        bounds = np.searchsorted(rows, starts)  # rows of group g: rows[bounds[g]:bounds[g + 1]]
        for g in np.flatnonzero(np.diff(bounds)):
            a, b = bounds[g], bounds[g + 1]
            local = rows[a:b] - starts[g]
            group = pf.read_row_group(int(g), columns=list(columns))
            cols = []
            for j in range(len(columns)):
                col = group.column(j)
                if not (pa.types.is_floating(col.type) and col.null_count == 0):
                    col = pc.fill_null(pc.cast(col, pa.float64()), np.nan)
                cols.append(col.to_numpy()[local])
            out[dest[a:b]] = np.stack(cols, axis=1)  # one group's rows, (b - a, m)

    def _fits(self) -> Any:
        from astropy.io import fits

        try:
            return fits.open(self.path, memmap=True)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read it as FITS: {exc}") from exc

    def _fits_hdu(self, hdul: Any) -> Any:
        from astropy.io import fits

        try:
            hdu = hdul[self.hdu]
        except (IndexError, KeyError):
            raise ConfigError(
                f"{self.path} has no HDU {self.hdu!r} ({len(hdul)} HDUs); set features.hdu"
            ) from None
        if not isinstance(hdu, fits.BinTableHDU | fits.TableHDU):
            raise ConfigError(f"{self.path}: HDU {self.hdu!r} is not a table; set features.hdu")
        return hdu

    def _read_csv(self, **kwargs: Any) -> pd.DataFrame:
        try:
            return pd.read_csv(self.path, sep=self.sep, **kwargs)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: cannot read the table: {exc}") from exc

    def _csv(self, columns: list[str]) -> pd.DataFrame:
        """The text table's id and ``columns`` (read once; ``columns`` as float32, the
        precision the feature matrix keeps, so a 1M x 128 table holds 0.5 GB; a cell that is no
        number raises naming the column, the id and the line)."""
        if self._frame is not None and all(c in self._frame.columns for c in columns):
            return self._frame
        want = [self.id_column, *columns]
        dtypes: dict[str, Any] = {c: np.float32 for c in columns} | {self.id_column: str}
        try:
            frame = pd.read_csv(self.path, sep=self.sep, usecols=want, dtype=dtypes)
        except ValueError:
            frame = self._read_csv(usecols=want, dtype=str)
            self._not_numeric(frame, columns)
            raise
        self._frame = frame
        return frame

    def _not_numeric(self, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        """Raise naming the first column with a cell that is no number."""
        for c in columns:
            s = frame[c]
            bad = (pd.to_numeric(s, errors="coerce").isna() & s.notna()).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ConfigError(
                    f"{self.path}: column {c!r} is not numeric: {s.iloc[i]!r} at id "
                    f"{frame[self.id_column].iloc[i]!r} ({self.locate(i)}); fix the value or "
                    "leave the column out of features.columns"
                )


@declared
class EmbeddingsExtractor:
    """Precomputed features of each object from the table ``path``, joined by ``id_column``.

    Selected columns: ``columns`` (in that order), or every numeric column starting with
    ``prefix`` (file order), or, with neither, every numeric column but the id.
    """

    reads = READS_ANY
    name = "embeddings"

    PARAMS = Params(
        path=Param(
            str,
            description="Parquet, CSV/TSV (also .gz) or FITS table of precomputed features, one "
            "row per object (package:<dist>/<file> for a file a package ships)",
        ),
        id_column=Param(str, "id", "the column holding each row's object id"),
        columns=Param(
            list,
            None,
            "feature columns, in this order (null: by prefix, or every numeric column)",
            nullable=True,
            items={"type": "string"},
            extra={"minItems": 1},
        ),
        prefix=Param(
            str,
            None,
            "every numeric column whose name starts with this, in file order (e.g. feat_)",
            nullable=True,
        ),
        format=Param(
            str, None, "null: by the file's suffix", enum=("csv", "parquet", "fits"), nullable=True
        ),
        sep=Param(
            str, None, "text tables' separator (null: tab for .tsv, else comma)", nullable=True
        ),
        hdu=Param((int, str), 1, "the FITS HDU of the table"),
    )
    #: Objects per job: the join costs microseconds per object; each job reads the id column.
    SHARD_SIZE = 200000

    def __init__(
        self,
        path: str,
        id_column: str,
        columns: Sequence[str] | None,
        prefix: str | None,
        format: str | None,  # noqa: A002 - the config key's name
        sep: str | None,
        hdu: int | str,
    ) -> None:
        if columns is not None and prefix is not None:
            raise ConfigError(
                "features: give columns or prefix, not both (neither: every numeric column)"
            )
        self.path = data_path(path)
        self.id_column = id_column
        self.table = FeatureTable(self.path, id_column, format, sep, hdu)
        self.columns = self._select(columns, prefix)

    def _select(self, columns: Sequence[str] | None, prefix: str | None) -> list[str]:
        have = self.table.columns()
        numeric = [c for c, ok in have.items() if ok and c != self.id_column]
        if columns is not None:
            columns = [str(c) for c in columns]
            absent = [c for c in columns if c not in have]
            if absent:
                raise ConfigError(
                    f"features.columns: {self.path} has no column(s) {absent} (columns: "
                    f"{', '.join(list(have)[:20])})"
                )
            if self.id_column in columns:
                raise ConfigError(f"features.columns lists the id column {self.id_column!r}")
            dup = [c for c in dict.fromkeys(columns) if columns.count(c) > 1]
            if dup:
                raise ConfigError(f"features.columns lists {dup} more than once")
            text = [c for c in columns if not have[c]]
            if text:
                raise ConfigError(
                    f"features.columns: column(s) {text} of {self.path} are not numeric (one "
                    "number per cell needed); leave them out"
                )
            return columns
        if prefix is not None:
            chosen = [c for c in numeric if c.startswith(prefix)]
            skipped = [c for c, ok in have.items() if c.startswith(prefix) and not ok]
            if skipped:
                log.warning("%s: non-numeric column(s) %s skipped", self.path, skipped[:10])
            if not chosen:
                raise ConfigError(
                    f"features.prefix {prefix!r}: no numeric column of {self.path} starts with it "
                    f"(columns: {', '.join(list(have)[:20])})"
                )
            return chosen
        if not numeric:
            raise ConfigError(f"{self.path} has no numeric column besides {self.id_column!r}")
        return numeric

    def names(self) -> list[str]:
        return list(self.columns)

    def _missing_reason(self, oid: str) -> str:
        return f"no row for id {oid!r} in {self.path} (id column {self.id_column!r})"

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        """(n, len(names())) float64 in the rows' order, NaN rows where the table has no row
        for the id; a reason per object (None if found)."""
        ids = object_ids(objects["id"])
        self.table.ids(self.columns)  # a text table: one read for ids and values
        pos = self.table.positions(ids)
        found = pos >= 0
        X = np.empty((len(ids), len(self.columns)), dtype=np.float64)
        missing = np.flatnonzero(~found)
        X[missing] = np.nan
        if missing.size < len(ids):
            self.table.fill(X, np.flatnonzero(found), pos[found], self.columns)
        elif len(ids):
            hint = zero_padding_hint(ids, self.table.ids())
            if hint is not None:
                raise ConfigError(f"no object id is in {self.table.where()}: {hint}")
        reasons: list[str | None] = [None] * len(ids)
        for i in missing:
            reasons[i] = self._missing_reason(str(ids[i]))
        if missing.size:
            log.warning("%d object(s) have no row in %s: failure rows", missing.size, self.path)
        return X, reasons

    def join_reports(self, ids: Any) -> list[dict[str, Any]]:
        """How the table matches the dataset's objects ``ids`` (the whole manifest): rows, rows
        matching an object, rows matching none and the first of their ids (file order). None
        matching at all is a :class:`ConfigError` (wrong file or id column)."""
        obj = object_ids(ids)
        tids = self.table.ids()
        pos = self.table.positions(obj)
        matched = np.zeros(tids.size, dtype=bool)
        matched[pos[pos >= 0]] = True
        unmatched = np.flatnonzero(~matched)
        if len(obj) and not matched.any():
            hint = zero_padding_hint(obj, tids) or (
                f"dataset ids e.g. {_quoted(obj[:3])}, file ids e.g. {_quoted(tids[:3])}; check "
                "features.path and features.id_column"
            )
            raise ConfigError(f"no object of the dataset has a row in {self.table.where()}: {hint}")
        return [
            {
                "path": str(self.path),
                "id_column": self.id_column,
                "n_rows": int(tids.size),
                "n_matched": int(matched.sum()),
                "n_unmatched": int(unmatched.size),
                "unmatched_ids": [str(i) for i in tids[unmatched[:N_SHOWN]]],
            }
        ]


def unmatched_sentence(report: dict[str, Any]) -> str:
    """'N rows of <file> match no object (first few ids: ...)' for a :meth:`join_reports`
    entry."""
    shown = _quoted(report["unmatched_ids"])
    return (
        f"{report['n_unmatched']} of {report['n_rows']} rows of {report['path']} match no object "
        f"(first few ids: {shown})"
    )
