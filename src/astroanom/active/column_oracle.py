"""A simulated labeller from a text column of the manifest (e.g. a catalogue's variable-star
type): relevance per value, with an explicit default for every value not listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from astroanom.active.oracle import ClassOracle
from astroanom.errors import ConfigError


def column_oracle(
    values: Sequence[str] | np.ndarray,
    relevance: Mapping[str, int],
    default: int | None = None,
) -> tuple[ClassOracle, np.ndarray, list[str]]:
    """Oracle giving ``relevance[value]`` (0..5) for each object's ``values`` entry.

    Values not in ``relevance`` get ``default``; with ``default=None`` every value present must
    be listed (a :class:`ConfigError` names the missing ones). Returns (oracle, integer class
    per object (n,), class names: class k is ``names[k]``, sorted).
    """
    vals = np.asarray(values).astype(str)
    names = sorted(set(vals.tolist()))
    unknown = sorted(set(relevance) - set(names))
    if unknown:
        raise ConfigError(f"oracle relevance names value(s) {unknown} absent from the data {names}")
    missing = [v for v in names if v not in relevance]
    if missing and default is None:
        raise ConfigError(
            f"oracle relevance has no entry for {missing}; list them or set a default"
        )
    classes = np.searchsorted(names, vals)
    table = {
        k: int(relevance.get(v, default if default is not None else 0)) for k, v in enumerate(names)
    }
    return ClassOracle(classes, table), classes, names
