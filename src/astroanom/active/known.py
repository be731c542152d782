"""Known examples ("find more like these"): objects the user already knows, by id with a relevance.

A dataset's ``known:`` entry gives them as a CSV (``path``, columns ``id,relevance``; a file with
only ``id`` gives each the entry's ``relevance``) and/or inline (``ids``: a mapping id ->
relevance, or a list of ids each with ``relevance``, default 5). Inline values win over the
file's for the same id. Every strategy is fitted on them before the first object is shown
(:func:`astroanom.active.loop.labelling_loop` ``known=``); a person's own label of a known
object wins over the known relevance (:func:`merge_labels`).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from astroanom.errors import ConfigError

#: Relevance of ids given as a list (the schema's default).
DEFAULT_RELEVANCE = 5


def _relevance(value: Any, where: str) -> int:
    """An integer relevance 0..5 from a CSV cell or a config value; else a ConfigError."""
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: relevance {value!r} is not a number 0..5") from None
    if not (0 <= number <= 5) or number != int(number):
        raise ConfigError(f"{where}: relevance {value!r} must be an integer 0..5")
    return int(number)


def read_known_csv(path: str | Path, relevance: int = DEFAULT_RELEVANCE) -> dict[str, int]:
    """id -> relevance of a CSV with a header ``id[,relevance]``; errors name file and line."""
    from astroanom.sources.paths import data_path

    file = data_path(path)
    if not file.is_file():
        raise ConfigError(f"known examples file {path} does not exist")
    out: dict[str, int] = {}
    with open(file, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        cols = [c.strip() for c in reader.fieldnames or []]
        if "id" not in cols:
            raise ConfigError(
                f"{path}:1: the header needs an 'id' column (id,relevance); got {cols}"
            )
        reader.fieldnames = cols
        for row in reader:
            line = reader.line_num
            oid = str(row.get("id") or "").strip()
            if not oid:
                raise ConfigError(f"{path}:{line}: empty id")
            if oid in out:
                raise ConfigError(f"{path}:{line}: id {oid!r} is given twice")
            cell = row.get("relevance")
            has_cell = cell is not None and str(cell).strip() != ""
            out[oid] = _relevance(cell, f"{path}:{line}") if has_cell else relevance
    return out


def read_known(spec: Mapping[str, Any] | None) -> dict[str, int]:
    """id -> relevance of a dataset's validated ``known:`` entry (empty when none is given)."""
    if not spec:
        return {}
    relevance = _relevance(spec.get("relevance", DEFAULT_RELEVANCE), "known.relevance")
    out: dict[str, int] = {}
    if spec.get("path"):
        out.update(read_known_csv(spec["path"], relevance))
    ids = spec.get("ids") or {}
    if isinstance(ids, Mapping):
        out.update({str(k): _relevance(v, f"known.ids.{k}") for k, v in ids.items()})
    else:
        seen = [str(k) for k in ids]
        if len(set(seen)) != len(seen):
            raise ConfigError("known.ids: an id is given twice")
        out.update({k: relevance for k in seen})
    return out


def unknown_ids_error(missing: list[str]) -> ConfigError:
    """The error for known example ids that are not objects of the dataset (the first 10 named)."""
    shown = ", ".join(repr(m) for m in missing[:10])
    more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
    return ConfigError(
        f"{len(missing)} known example id(s) are not objects of this dataset: {shown}{more}; "
        "fix the dataset's known: entry (ids are the source's id column)"
    )


def known_rows(known: Mapping[str, int], ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (k0,) int64 and relevance (k0,) float64 of ``known`` among ``ids`` (n,); every id
    must be an object of the run (the error names the ones that are not). No known examples:
    empty arrays, without indexing the ids (a dict of 10M ids is 0.9 GiB)."""
    if not known:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    index = {k: i for i, k in enumerate(np.asarray(ids).astype(str))}
    missing = [k for k in known if k not in index]
    if missing:
        raise unknown_ids_error(missing)
    rows = np.fromiter((index[k] for k in known), dtype=np.int64, count=len(known))
    return rows, np.fromiter(known.values(), dtype=np.float64, count=len(known))


def merge_labels(known: Mapping[str, int], labels: Mapping[str, int]) -> dict[str, int]:
    """Known examples and a person's labels as one id -> relevance map; the label wins."""
    return {**dict(known), **dict(labels)}
