"""Simulated labellers (oracles) and the one factory that builds them from config.

An oracle turns object indices into integer relevance labels U in 0..5, as a human would.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError

log = logging.getLogger("astroanom.active.oracle")


class ClassOracle:
    """Relevance by class: ``relevance[class_of_object]`` (simulation, paper section 6)."""

    def __init__(self, classes: np.ndarray, relevance: Mapping[int, int]) -> None:
        present = {int(c) for c in np.unique(classes)}
        missing = sorted(present - {int(k) for k in relevance})
        if missing:
            raise ConfigError(
                f"the oracle's relevance map has no entry for class(es) {missing}; "
                f"add them to oracle.relevance (it has {sorted(int(k) for k in relevance)})"
            )
        bad = {k: v for k, v in relevance.items() if not 0 <= int(v) <= 5}
        if bad:
            raise ConfigError(f"oracle relevance must be integers 0..5, got {bad}")
        lut = np.zeros(max(present | {int(k) for k in relevance}) + 1, dtype=np.int64)
        for k, v in relevance.items():
            lut[int(k)] = int(v)
        self._labels = lut[np.asarray(classes, dtype=np.int64)]

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        return self._labels[np.asarray(indices, dtype=np.int64)]


class FractionOracle:
    """Relevance from a vote fraction f in [0, 1]: U = round(5 f) (Galaxy Zoo "odd" votes)."""

    def __init__(self, fractions: np.ndarray) -> None:
        f = np.asarray(fractions, dtype=np.float64)
        if not np.isfinite(f).all() or (f < 0).any() or (f > 1).any():
            raise ConfigError("vote fractions must be finite and within [0, 1]")
        self._labels = np.rint(5.0 * f).astype(np.int64)

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        return self._labels[np.asarray(indices, dtype=np.int64)]


class LookupOracle:
    """Relevance looked up per object from a precomputed array (n,) of labels 0..5."""

    def __init__(self, labels: np.ndarray) -> None:
        self._labels = np.asarray(labels, dtype=np.int64)

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        return self._labels[np.asarray(indices, dtype=np.int64)]


def category_labels(
    values: np.ndarray, relevance: Mapping[str, int], default: int | None
) -> np.ndarray:
    """U (n,) for text labels: ``relevance[value]``, else ``default``; a :class:`ConfigError`
    names labels that are neither listed nor covered by a default; a warning names listed labels
    that no object has (a typo, or a subsample without them)."""
    vals = np.asarray(values).astype(str)
    present = sorted(set(vals.tolist()))
    absent = sorted(set(map(str, relevance)) - set(present))
    if absent:
        log.warning(
            "oracle.relevance names label(s) %s that no object has (a typo?); labels present: %s",
            absent,
            ", ".join(present[:20]),
        )
    missing = [v for v in present if v not in relevance]
    if missing and default is None:
        raise ConfigError(
            f"oracle.relevance has no entry for {missing}; list them or set "
            "oracle.default_relevance"
        )
    table = {str(k): int(v) for k, v in relevance.items()}
    return np.array([table.get(v, default if default is not None else 0) for v in vals])


def make_oracle(
    truth: pd.DataFrame, truth_spec: Mapping[str, Any], oracle: Mapping[str, Any]
) -> ClassOracle | FractionOracle | LookupOracle:
    """The simulated oracle of a dataset, from its truth table (aligned with the features).

    ``truth.kind: class``: U from ``oracle.relevance`` (class -> U); ``category``: U from
    ``oracle.relevance`` (label -> U) with ``oracle.default_relevance`` for the rest;
    ``fraction``: U = round(5 * value). Objects without a truth value are marked ``unknown``
    and never shown.
    """
    known = truth["known"].to_numpy(dtype=bool)
    if truth_spec["kind"] == "category":
        values = truth["value"].to_numpy()
        labels = category_labels(
            values[known], oracle.get("relevance") or {}, oracle.get("default_relevance")
        )
        full = np.zeros(known.size, dtype=np.int64)
        full[known] = labels
        orc_c = LookupOracle(full)
        orc_c.unknown = ~known
        return orc_c  # type: ignore[return-value]
    value = truth["value"].to_numpy(dtype=np.float64)
    if truth_spec["kind"] == "class":
        relevance = oracle.get("relevance")
        if not relevance:
            raise ConfigError(
                "a simulated oracle on class truth needs oracle.relevance (class -> U in 0..5)"
            )
        classes = np.where(known, value, float(next(iter(relevance)))).astype(np.int64)
        orc: ClassOracle | FractionOracle = ClassOracle(
            classes, {int(k): int(v) for k, v in relevance.items()}
        )
    else:
        orc = FractionOracle(np.where(known, value, 0.0))
    orc.unknown = ~known
    return orc
