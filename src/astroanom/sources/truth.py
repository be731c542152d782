"""Truth: what is known about the objects for evaluation and for a simulated oracle.

Truth is optional. It comes from the source itself (e.g. the simulation's classes) or from a
table of the user's (CSV or Parquet) joined on an id column. It is kept apart from the object
table, so the labeller never shows it unless asked to.

``kind: fraction``  a value in [0, 1] (e.g. the fraction of volunteers who voted "odd");
                    anomalies have value > ``anomaly_above``; a simulated oracle gives
                    U = round(5 * value).
``kind: class``     an integer class; anomalies are the ``anomaly_classes``; a simulated
                    oracle gives U from a class -> U map.
``kind: category``  a text label (e.g. a variable-star type); anomalies are the
                    ``anomaly_classes``; a simulated oracle gives U from a label -> U map, with
                    ``oracle.default_relevance`` for labels it does not list.

An object with no truth row is *unknown*: it is detected, ranked and can be labelled, but
counts in no metric and a simulated oracle never labels it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.store.rundir import FAILURE_COLUMNS

log = logging.getLogger("astroanom.sources.truth")
PathLike = str | os.PathLike[str]


def read_table(path: PathLike, id_column: str) -> pd.DataFrame:
    """A truth table (CSV or Parquet) with ids as strings; errors name the file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"truth table {p} not found; check truth.table in your config")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            t = pd.read_parquet(p)
        else:
            t = pd.read_csv(p, dtype={id_column: str}, encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(f"truth table {p} is not UTF-8 text ({err}); save it as UTF-8") from None
    except (ValueError, OSError) as err:
        raise ConfigError(f"cannot read truth table {p}: {err}") from None
    if id_column not in t.columns:
        raise ConfigError(
            f"truth table {p} has no id column {id_column!r} (columns: "
            f"{', '.join(map(str, t.columns[:12]))}); set truth.id_column"
        )
    t = t.rename(columns={id_column: "id"})
    t["id"] = t["id"].astype(str)
    dup = t["id"].duplicated()
    if dup.any():
        raise ConfigError(
            f"truth table {p}: id {t.loc[dup, 'id'].iloc[0]!r} appears more than once "
            f"({int(dup.sum())} repeated ids); keep one row per object"
        )
    return t


def check_values(values: pd.Series, ids: pd.Series, spec: Mapping[str, Any], where: str) -> None:
    """Stop with the file, the column, the first offending rows and the likely fix when a
    truth value lies outside its kind's range."""
    col = spec["column"]
    if spec["kind"] == "category":
        return  # any text is a category
    v = pd.to_numeric(values, errors="coerce")
    text = values.notna() & v.isna()
    if spec["kind"] == "fraction":
        bad = text | (v < 0) | (v > 1)
        want = "a fraction in [0, 1]"
    else:
        bad = text | (v.notna() & (v != np.round(v)))
        want = "an integer class"
    if not bad.any():
        return
    rows = [f"{i!r}: {x!r}" for i, x in zip(ids[bad][:5], values[bad][:5], strict=True)]
    hint = ""
    if spec["kind"] == "fraction" and v.max(skipna=True) > 1 and v.max(skipna=True) <= 100:
        hint = (
            " The values go up to "
            f"{v.max(skipna=True):g}: they look like percentages; divide the column by 100."
        )
    raise ConfigError(
        f"{where}, column {col!r}: {int(bad.sum())} value(s) are not {want}, e.g. "
        f"{'; '.join(rows)}.{hint}"
    )


def build_truth(
    ids: Sequence[str] | np.ndarray,
    spec: Mapping[str, Any],
    source_truth: pd.DataFrame | None,
    all_ids: Sequence[str] | np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Truth aligned with ``ids``: columns id, ``value`` (float; text for categories),
    ``known``, ``is_anomaly`` and
    the table's own columns; and failures for truth rows naming ids that are not objects
    (``all_ids``: every object of the source, also those whose features failed; default
    ``ids``)."""
    ids_s = pd.Series(np.asarray(ids).astype(str), name="id")
    col = spec["column"]
    if spec.get("table"):
        table = read_table(spec["table"], spec["id_column"])
        where = f"truth table {spec['table']}"
    else:
        if source_truth is None or col not in source_truth.columns:
            have = [] if source_truth is None else list(source_truth.columns)
            raise ConfigError(
                f"truth.column {col!r} is not a truth column of this source (it has: "
                f"{', '.join(map(str, have)) or 'none'}); for a table source add it to "
                "source.keep, or give truth.table for a table of yours"
            )
        table = source_truth.assign(id=source_truth["id"].astype(str))
        where = "the source's truth"
    if col not in table.columns:
        raise ConfigError(
            f"{where} has no column {col!r} (columns: {', '.join(map(str, table.columns[:12]))})"
        )
    check_values(table[col], table["id"], spec, where)
    every = set(ids_s) if all_ids is None else set(np.asarray(all_ids).astype(str))
    stray = table.loc[~table["id"].isin(every), "id"]
    fails = pd.DataFrame(
        {"id": stray, "stage": "truth", "reason": f"{where}: a row for an id with no object"}
    )
    merged = ids_s.to_frame().merge(table, on="id", how="left", validate="one_to_one")
    if spec["kind"] == "category":
        text = merged[col].astype("string").str.strip()
        value = text.where(text.notna() & (text != ""), None).astype(object)
        known = value.notna().to_numpy()
        anomaly = np.isin(value.to_numpy().astype(str), [str(c) for c in spec["anomaly_classes"]])
    else:
        value = pd.to_numeric(merged[col], errors="coerce")
        known = value.notna().to_numpy()
    if spec["kind"] == "fraction":
        anomaly = value.to_numpy() > float(spec["anomaly_above"])
    elif spec["kind"] == "class":
        anomaly = np.isin(value.to_numpy(), [float(c) for c in spec["anomaly_classes"]])
    # the truth's own verdict columns are recomputed here from the config
    out = merged.drop(
        columns=[c for c in ("value", "known", "is_anomaly") if c in merged and c != col]
    )
    out.insert(1, "value", value.to_numpy())
    out.insert(2, "known", known)
    out.insert(3, "is_anomaly", anomaly & known)
    n_unknown = int((~known).sum())
    if n_unknown:
        log.warning(
            "%d of %d objects have no truth value (%s): they are ranked and can be labelled, "
            "but count in no metric and the simulated oracle skips them",
            n_unknown,
            len(ids_s),
            where,
        )
    if len(fails):
        log.warning("%d truth rows name ids that are not objects (see failures.csv)", len(fails))
    return out, fails.reindex(columns=FAILURE_COLUMNS)


def _present(truth: pd.DataFrame, kind: str) -> pd.Series:
    """Counts of each truth label of the known objects (class truth: integer labels as text)."""
    v = truth.loc[truth["known"].to_numpy(dtype=bool), "value"]
    if kind == "class":
        v = pd.to_numeric(v).astype(np.int64)
    return v.astype(str).value_counts()


def check_label_names(
    truth: pd.DataFrame,
    spec: Mapping[str, Any],
    oracle: Mapping[str, Any] | None = None,
    subsample: bool = False,
) -> list[str]:
    """The labels named by ``truth.anomaly_classes``, ``truth.wanted_classes`` and (simulated
    oracle) ``oracle.relevance`` that no object has: a :class:`ConfigError` naming them and the
    labels that exist (with counts) for the full dataset, where it can only be a typo (every
    count would be 0); a warning, returned, for a subsample (``source.n_max``/``n_objects``),
    which may simply not have drawn a rare class."""
    if spec.get("kind") not in ("class", "category"):
        return []
    counts = _present(truth, spec["kind"])

    def key(x: object) -> str:
        return str(int(float(x))) if spec["kind"] == "class" else str(x)  # type: ignore[arg-type]

    named = {
        "truth.anomaly_classes": spec.get("anomaly_classes") or [],
        "truth.wanted_classes": spec.get("wanted_classes") or [],
    }
    if oracle is not None and oracle.get("mode") == "simulated":
        named["oracle.relevance"] = list(oracle.get("relevance") or {})
    problems = []
    for where, names in named.items():
        absent = [str(n) for n in names if key(n) not in counts.index]
        if absent:
            problems.append(f"{where} names {absent}")
    if not problems:
        return []
    shown = ", ".join(f"{k} ({n})" for k, n in counts.head(30).items())
    more = f" and {counts.size - 30} more" if counts.size > 30 else ""
    col = spec.get("column")
    msg = (
        f"{'; '.join(problems)}: no object has such a {col!r} value (labels present, with "
        f"counts: {shown or 'none'}{more})"
    )
    if subsample:
        log.warning("%s; this subsample may not hold them (every count for them will be 0)", msg)
        return problems
    raise ConfigError(f"{msg}; correct the name (a typo?) or remove it")


def wanted(truth: pd.DataFrame, spec: Mapping[str, Any]) -> np.ndarray:
    """Boolean (n,) of the objects a user wants to find (benchmark headline): class truth,
    the ``wanted_classes`` (default: the anomaly classes); fraction truth, the anomalies."""
    known = truth["known"].to_numpy(dtype=bool)
    if spec["kind"] in ("class", "category"):
        classes = spec.get("wanted_classes") or spec["anomaly_classes"]
        if spec["kind"] == "class":
            hit = np.isin(truth["value"].to_numpy(), [float(c) for c in classes])
        else:
            hit = np.isin(truth["value"].to_numpy().astype(str), [str(c) for c in classes])
        mask = known & hit
    else:
        mask = truth["is_anomaly"].to_numpy(dtype=bool)
    if not mask.any():
        log.warning("the truth (%s) marks no object as wanted: every count will be 0", dict(spec))
    return mask
