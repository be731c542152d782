"""The labeller's columns (ids, features X, anomaly score S), read once and memory-mapped.

At ten million objects a pandas table of the features, a copy of it as an array, the ids as
Python strings and a dict from id to row took 5 GiB. Here the feature table is read one column
at a time straight into a float32 (n, m) array, the ids become one fixed-width numpy string
array (looked up through a sorted permutation, :class:`IdIndex`), and the three arrays are
written once as ``.npy`` files in ``<dataset>/.labeller-cache/`` (atomically, with the sizes and
modification times of the Parquet files they came from): later starts map them read-only
(``numpy.load(mmap_mode="r")``) and the pages stay in the page cache, shared and reclaimable,
instead of private copies. When the dataset folder is not writable the arrays stay in memory.

Values are unchanged: X is the feature table's float32 values (as
:func:`astroanom.store.io.read_features` returns them) and S its float64 scores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from astroanom.errors import BadFeaturesError
from astroanom.ordering import rank_order
from astroanom.store.io import FEATURE_PREFIX, atomic_path, check_finite

log = logging.getLogger("astroanom.labeller")
CACHE_DIR = ".labeller-cache"
CACHE_VERSION = 1
ID_BATCH = 1 << 20


class IdIndex(Set[str]):
    """Row of each id through a sorted permutation of the ids (n,) (4-8 bytes per object
    instead of a dict's ~100): ``index[id]`` -> row, ``id in index``, ``index.get(id)``."""

    def __init__(self, ids: np.ndarray, order: np.ndarray | None = None) -> None:
        self.ids = ids
        if order is None:
            order = sorted_ids(ids)
        # searchsorted converts a sorter that is not intp on every call (a copy of n values
        # per look-up: 40 ms at 10M); converted once here
        self._order = np.ascontiguousarray(order, dtype=np.intp)

    @property
    def order(self) -> np.ndarray:
        """Rows (n,) that sort the ids."""
        return self._order

    def get(self, key: object, default: int | None = None) -> int | None:
        if not isinstance(key, str) or not key or len(key) > self.ids.dtype.itemsize // 4:
            return default
        at = int(np.searchsorted(self.ids, key, sorter=self._order))
        if at < self._order.size:
            row = int(self._order[at])
            if self.ids[row] == key:
                return row
        return default

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (str(v) for v in self.ids)

    def __len__(self) -> int:
        return int(self.ids.size)

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """Rows (k,) int64 of ``keys`` (k,) strings, -1 where a key is not an id."""
        keys = np.asarray(keys, dtype=self.ids.dtype if keys.size else str)
        if keys.size == 0:
            return np.empty(0, dtype=np.int64)
        at = np.searchsorted(self.ids, keys, sorter=self._order)
        at = np.minimum(at, self._order.size - 1)
        rows = self._order[at].astype(np.int64)
        return np.where(self.ids[rows] == keys, rows, -1)


def sorted_ids(ids: np.ndarray, what: str = "the feature table") -> np.ndarray:
    """Rows (n,) intp that sort ``ids``; raises
    :class:`BadFeaturesError` naming ``what`` and an id that appears twice."""
    order = np.argsort(ids, kind="quicksort").astype(np.intp, copy=False)
    s = ids[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if dup.size:
        raise BadFeaturesError(
            f"{what}: ids are not unique ({str(s[dup[0]])!r} appears more than once)"
        )
    return order


@dataclass
class Columns:
    """Ids (n,) numpy str, X (n, m) float32, S (n,) float64, the rows (n,) that sort the ids,
    the rows by decreasing S and by decreasing |S| (:func:`astroanom.ordering.rank_order`,
    int32) and the feature table's column names besides the id (X's columns among them)."""

    ids: np.ndarray
    X: np.ndarray
    S: np.ndarray
    order: np.ndarray
    by_S: np.ndarray
    by_abs_S: np.ndarray
    names: list[str]
    mapped: bool


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [int(st.st_size), int(st.st_mtime_ns)]


def _feature_names(pf: pq.ParquetFile) -> tuple[list[str], list[str]]:
    cols = [c for c in pf.schema_arrow.names if c != "id"]
    feats = [c for c in cols if c.startswith(FEATURE_PREFIX) and c[1:].isdigit()]
    if not feats:
        raise BadFeaturesError("the table has no feature columns (expected f000, f001, ...)")
    return cols, feats


def _read_ids(path: Path) -> np.ndarray:
    """The ``id`` column as one fixed-width numpy str array, read in batches."""
    pf = pq.ParquetFile(path)
    parts = [
        b.column(0).to_numpy(zero_copy_only=False).astype(str)
        for b in pf.iter_batches(batch_size=ID_BATCH, columns=["id"])
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=str)


def _read_features_into(path: Path, feats: list[str], X: np.ndarray) -> None:
    pf = pq.ParquetFile(path)
    for j, name in enumerate(feats):
        col = pf.read(columns=[name]).column(0)
        X[:, j] = col.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)


def _read_scores(path: Path, ids: np.ndarray, feature_path: Path) -> np.ndarray:
    """S (n,) float64 aligned to ``ids`` (by id when the score table's rows differ)."""
    table = pq.read_table(path, columns=["id", "S"])
    S = table.column("S").to_numpy(zero_copy_only=False).astype(np.float64)
    same = pq.read_table(feature_path, columns=["id"]).column("id")
    if len(same) == len(table) and table.column("id").equals(same):
        return S  # the same ids in the same order (the workflow's case): no conversion
    del same
    sid = _read_ids(path)
    if sid.size == ids.size and np.array_equal(sid, ids):
        return S
    rows = IdIndex(sid, sorted_ids(sid, str(path))).rows(ids)
    if (rows < 0).any():
        raise BadFeaturesError(f"{path}: ids do not cover the feature table's ids")
    return S[rows]


def _check_finite(X: np.ndarray, ids: np.ndarray, what: str) -> None:
    for start in range(0, X.shape[0], ID_BATCH):
        block = X[start : start + ID_BATCH]
        if not np.isfinite(block).all():
            check_finite(block, ids[start : start + ID_BATCH], what=what)


def load_columns(directory: Path, features: str, scores: str) -> Columns:
    """The dataset's ids, X and S, from the cache when it matches the Parquet files, else read
    (and cached when the folder is writable). Raises :class:`BadFeaturesError` for an empty
    table, repeated ids, non-finite features or scores that miss an id."""
    fpath, spath = directory / features, directory / scores
    pf = pq.ParquetFile(fpath)
    names, feats = _feature_names(pf)
    if pf.metadata.num_rows == 0:
        raise BadFeaturesError(f"{fpath}: the feature table is empty")
    cache = directory / CACHE_DIR
    meta = {
        "version": CACHE_VERSION,
        "features": _stamp(fpath),
        "scores": _stamp(spath),
        "columns": feats,
    }
    try:
        if json.loads((cache / "meta.json").read_text()) == meta:
            return Columns(
                ids=np.load(cache / "ids.npy", mmap_mode="r"),
                X=np.load(cache / "X.npy", mmap_mode="r"),
                S=np.load(cache / "S.npy", mmap_mode="r"),
                order=np.load(cache / "order.npy", mmap_mode="r"),
                by_S=np.load(cache / "by_S.npy", mmap_mode="r"),
                by_abs_S=np.load(cache / "by_abs_S.npy", mmap_mode="r"),
                names=names,
                mapped=True,
            )
    except (OSError, ValueError):
        pass
    ids = _read_ids(fpath)
    order = sorted_ids(ids, str(fpath))
    n, m = ids.size, len(feats)
    X = np.empty((n, m), dtype=np.float32)
    _read_features_into(fpath, feats, X)
    _check_finite(X, ids, str(fpath))
    S = _read_scores(spath, ids, fpath)
    small = np.int32 if n < 2**31 else np.int64
    by_S = rank_order(S).astype(small)
    by_abs_S = rank_order(np.abs(S)).astype(small)
    arrays = {"ids": ids, "X": X, "S": S, "order": order, "by_S": by_S, "by_abs_S": by_abs_S}
    if _write_cache(cache, meta, arrays):
        del X, arrays
        return load_columns(directory, features, scores)
    return Columns(
        ids=ids, X=X, S=S, order=order, by_S=by_S, by_abs_S=by_abs_S, names=names, mapped=False
    )


def _write_cache(cache: Path, meta: dict[str, object], arrays: dict[str, np.ndarray]) -> bool:
    """Write the arrays and meta.json atomically; False when the folder is not writable."""
    try:
        cache.mkdir(exist_ok=True)
        (cache / "meta.json").unlink(missing_ok=True)  # invalid while the arrays change
        for name, arr in arrays.items():
            with atomic_path(cache / f"{name}.npy") as tmp, open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
        with atomic_path(cache / "meta.json") as tmp:
            tmp.write_text(json.dumps(meta))
    except OSError as err:
        log.info("labeller cache not written (%s): the columns stay in memory", err)
        return False
    return True
