"""Atomic file output and validated input of the columnar tables the workflow passes around.

Every writer goes to a temporary file in the destination directory and is renamed into place,
so a crash or a bad input never leaves a half-written result that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.errors import BadFeaturesError

FEATURE_PREFIX = "f"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


#: Parquet compression of every table the workflow writes (zstd: about a third smaller than
#: snappy on the feature tables, and as fast to read).
PARQUET_COMPRESSION = "zstd"
#: A float column keeps dictionary encoding only with at most this share of distinct values
#: (catalogue values of a few decimals, relevance predictions, mostly-NaN rounds); others are
#: stored byte-stream-split, which zstd compresses best. Measured: a dictionary of unique
#: float32 curves makes a column 1.5x its raw size (BSS + zstd: 0.85x); OGLE-III's log period
#: with 32 % distinct values is 1.8 MB with a dictionary, 2.8 MB byte-stream-split.
DICTIONARY_MAX_SHARE = 0.5


def parquet_options(df: pd.DataFrame) -> dict[str, object]:
    """``to_parquet`` options of :func:`write_parquet`: zstd; float columns with many distinct
    values BYTE_STREAM_SPLIT-encoded without a dictionary; every other column (ids, text,
    integers, floats with few distinct values) with one. The values are stored exactly."""
    plain = []
    for col in df.columns:
        s = df[col]
        if s.dtype.kind == "f" and s.nunique(dropna=False) > DICTIONARY_MAX_SHARE * len(s):
            plain.append(str(col))
    dictionary = [str(c) for c in df.columns if str(c) not in set(plain)]
    return {
        "compression": PARQUET_COMPRESSION,
        "use_dictionary": dictionary,
        "column_encoding": dict.fromkeys(plain, "BYTE_STREAM_SPLIT"),
    }


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``df`` as Parquet atomically (index dropped, deterministic metadata; encodings
    and compression of :func:`parquet_options`)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", **parquet_options(df))


def _place_link(src: str | os.PathLike[str], dest: str | os.PathLike[str], symbolic: bool) -> bool:
    """Make ``dest`` a link to ``src`` (relative symbolic or hard), or a copy where that link
    cannot be made, atomically (one rename). Returns True for a link."""
    import shutil

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        if symbolic:
            os.symlink(os.path.relpath(src, dest.parent), tmp)
        else:
            os.link(src, tmp)
        linked = True
    except OSError:  # no such links here (Windows without the privilege, another device, FAT)
        shutil.copyfile(src, tmp)
        linked = False
    try:
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return linked


def symlink_or_copy(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> bool:
    """Make ``dest`` a relative symbolic link to ``src`` (a copy where links cannot be made),
    atomically. Unlike a hard link, touching ``dest`` (Snakemake touches every output) leaves
    ``src``'s timestamp alone. Returns True for a link."""
    return _place_link(src, dest, symbolic=True)


def link_or_copy(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> bool:
    """Make ``dest`` the same file as ``src`` (a hard link: no second copy on disk; a copy
    where the file system has none), atomically: ``dest`` is replaced in one rename. Every
    writer here replaces files by rename, never in place, so rewriting one name later never
    changes the other. Returns True for a link."""
    return _place_link(src, dest, symbolic=False)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], **kwargs: object) -> None:
    """Write ``df`` as CSV atomically."""
    kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)


#: A text cell starting with one of these is taken for a formula by spreadsheets (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"
_PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot run as spreadsheet formulas: a cell starting
    with ``= + - @``, a tab, a carriage return or ``'`` gets one ``'`` in front (``=1+2`` ->
    ``'=1+2``; ``'x`` -> ``''x``), so :func:`unescape_formulas` restores every text exactly.
    Numeric columns and plain numbers in text (``-2.5``, ``+1e3``: no formula) are untouched."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        try:
            start = s.str.startswith((*FORMULA_START, _QUOTE), na=False).to_numpy(dtype=bool)
            hit = start & ~s.str.fullmatch(_PLAIN_NUMBER, na=False).to_numpy(dtype=bool)
        except AttributeError:  # no text in this column
            continue
        if hit.any():
            s = s.astype(object)
            s[hit] = _QUOTE + s[hit]
            out[col] = s
    return out


def unescape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`escape_formulas` on a table read back (one leading ``'`` before a formula
    character or a second ``'`` is removed), in place; returns ``df``."""
    for col in df.columns:
        s = df[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        try:
            hit = s.str.match(r"'[=+\-@\t\r']", na=False).to_numpy(dtype=bool)
        except AttributeError:  # no text in this column
            continue
        if hit.any():
            s = s.copy()
            s[hit] = s[hit].str.slice(1)
            df[col] = s
    return df


def write_people_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a CSV meant for people (``ranked.csv``, ``failures.csv``, ``anomalies.csv``)
    atomically, UTF-8, with :func:`escape_formulas` applied to its text cells."""
    write_csv(escape_formulas(df), path, encoding="utf-8")


def read_people_csv(path: str | os.PathLike[str], **kwargs: object) -> pd.DataFrame:
    """Read a CSV written by :func:`write_people_csv`; text cells come back as they were
    (``kwargs`` go to ``pandas.read_csv``, e.g. ``dtype={"id": str}``)."""
    kwargs.setdefault("encoding", "utf-8")
    return unescape_formulas(pd.read_csv(path, **kwargs))  # type: ignore[call-overload]


def write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write a UTF-8 text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def feature_columns(df: pd.DataFrame) -> list[str]:
    """Names of the feature columns (``f000``, ``f001``, ...) of a feature table, in order."""
    cols = [c for c in df.columns if c.startswith(FEATURE_PREFIX) and c[1:].isdigit()]
    if not cols:
        raise BadFeaturesError("the table has no feature columns (expected f000, f001, ...)")
    return cols


def feature_frame(ids: np.ndarray, features: np.ndarray) -> pd.DataFrame:
    """Build a feature table: an ``id`` column and one float32 column per feature."""
    width = max(3, len(str(features.shape[1] - 1)))
    cols = {f"{FEATURE_PREFIX}{j:0{width}d}": features[:, j] for j in range(features.shape[1])}
    return pd.DataFrame({"id": ids, **cols})


def check_finite(
    features: np.ndarray, ids: np.ndarray | None = None, what: str = "features"
) -> None:
    """Raise :class:`BadFeaturesError` naming the rows that hold NaN or inf values.

    ``features`` has shape (n, m); ``ids`` (n,) are used in the message when given.
    """
    if features.ndim != 2 or features.shape[0] == 0:
        raise BadFeaturesError(
            f"{what}: expected a non-empty 2-D array, got shape {features.shape}"
        )
    bad = ~np.isfinite(features).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        names = ids[rows] if ids is not None else rows
        shown = ", ".join(str(x) for x in names[:10])
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        raise BadFeaturesError(
            f"{what}: {len(rows)} row(s) hold NaN or inf values (ids {shown}{more}); "
            "remove or repair these objects before detection"
        )


def read_features(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a feature table; return it and its features as a C-contiguous float32 (n, m) array.

    Raises :class:`BadFeaturesError` for an empty table or non-finite values, naming the ids.
    """
    df = pd.read_parquet(path)
    if len(df) == 0:
        raise BadFeaturesError(f"{path}: the feature table is empty")
    x = np.ascontiguousarray(df[feature_columns(df)].to_numpy(dtype=np.float32))
    check_finite(x, df["id"].to_numpy() if "id" in df else None, what=str(path))
    return df, x
