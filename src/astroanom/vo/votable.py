"""The anomaly tables as VOTable 1.4 (``astropy.io.votable``), every known column with its
unit, UCD (IVOA UCD1+ words) and a description.

Column meanings and UCDs (:data:`COLUMNS`):

=================  ==========================  ======  =====================================
column             UCD                         unit    meaning
=================  ==========================  ======  =====================================
id                 meta.id;meta.main                   the object's id in the dataset
ra, dec            pos.eq.ra/dec;meta.main     deg     ICRS position, when the source has one
S                  stat.value                          detector anomaly score, 0..5
U                  stat.value                          predicted relevance, 0..5
d                  stat.value                          feature-space distance to nearest label
S_hat              stat.value;meta.main                retrained score (the ranking's)
rank               stat.rank                           1 = most anomalous by S_hat
label              meta.code.qual                      a user's label 0..5 (null: none)
user, time         meta.id;meta.curation,              who labelled, and when (ISO 8601)
                   time.creation
selected_by        meta.code                           label, top or label+top
known              meta.code                           matched in the user's catalogue
known_name         meta.id.cross                       its name there
known_sep_arcsec   pos.angDistance             arcsec  separation to it
=================  ==========================  ======  =====================================

A table without ``ra``/``dec`` (a dataset without coordinates) has no position columns; its
resource then carries an ``INFO name="coordinates" value="none"`` saying so.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.store.io import atomic_path

PathLike = str | os.PathLike[str]

#: column -> (UCD, unit or None, description)
COLUMNS: dict[str, tuple[str, str | None, str]] = {
    "id": ("meta.id;meta.main", None, "object id in the dataset"),
    "ra": ("pos.eq.ra;meta.main", "deg", "right ascension (ICRS)"),
    "dec": ("pos.eq.dec;meta.main", "deg", "declination (ICRS)"),
    "S": ("stat.value", None, "anomaly score S of the detector, 0..5 (5: most anomalous)"),
    "U": ("stat.value", None, "relevance U predicted from the labels, 0..5 (null: no model)"),
    "d": (
        "stat.value",
        None,
        "distance in scaled feature space to the nearest labelled object (null: no model)",
    ),
    "S_hat": ("stat.value;meta.main", None, "retrained anomaly score S^ that ranks the objects"),
    "rank": ("stat.rank", None, "rank by S^, 1 = most anomalous"),
    "label": ("meta.code.qual", None, "a user's label 0..5 (5: most interesting; null: none)"),
    "user": ("meta.id;meta.curation", None, "who gave the label"),
    "time": ("time.creation", None, "when the label was given (ISO 8601, UTC)"),
    "selected_by": ("meta.code", None, "why the row is exported: label, top or label+top"),
    "known": ("meta.code", None, "matched within the radius in the user's catalogue"),
    "known_name": ("meta.id.cross", None, "name of the nearest catalogue match (empty: none)"),
    "known_sep_arcsec": (
        "pos.angDistance",
        "arcsec",
        "separation to the nearest catalogue match (null: no match)",
    ),
}
NO_COORDINATES = (
    "this dataset has no sky coordinates (no ra/dec in its objects), so the table has no "
    "position columns"
)


def _column(values: pd.Series) -> Any:
    """A pandas column as an astropy column value: masked where missing, text as str."""
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(bool)
    if pd.api.types.is_integer_dtype(values) or str(values.dtype) == "Int64":
        mask = values.isna().to_numpy()
        data = values.astype("Float64").fillna(0).to_numpy(np.int64)
        return np.ma.MaskedArray(data, mask=mask) if mask.any() else data
    if pd.api.types.is_float_dtype(values):
        return values.to_numpy(np.float64)
    return np.array(values.astype(object).fillna("").astype(str).tolist(), dtype=str)


def to_votable(rows: pd.DataFrame, meta: Mapping[str, Any] | None = None, name: str = "anomalies"):
    """``rows`` as an ``astropy.io.votable.tree.VOTableFile``: one table named ``name``, the
    columns of :data:`COLUMNS` annotated, others written as they are; ``meta`` items become
    ``INFO`` elements of the resource (e.g. ``dataset``, ``threshold``)."""
    from astropy.io.votable import from_table
    from astropy.io.votable.tree import Info
    from astropy.table import Table

    t = Table()
    for col in rows.columns:
        t[str(col)] = _column(rows[col])
    vot = from_table(t, table_id=name)
    table = vot.get_first_table()
    table.name = name
    from astropy.io.votable.converters import get_converter

    for field in table.fields:
        if field.datatype == "bit":  # astropy writes numpy bools as bits; logical is "boolean"
            field.datatype, field.arraysize = "boolean", None
            field.converter = get_converter(field)
        if field.name in COLUMNS:
            ucd, unit, description = COLUMNS[field.name]
            field.ucd = ucd
            field.unit = unit
            field.description = description
    resource = vot.resources[0]
    for k, v in (meta or {}).items():
        resource.infos.append(Info(name=str(k), value=str(v)))
    if not {"ra", "dec"} <= set(rows.columns):
        info = Info(name="coordinates", value="none")
        info.content = NO_COORDINATES
        resource.infos.append(info)
    return vot


def write_votable(
    rows: pd.DataFrame, path: PathLike, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write :func:`to_votable` of ``rows`` to ``path`` atomically (TABLEDATA, readable by
    TOPCAT, Aladin and ``astropy.io.votable.parse``)."""
    out = Path(path)
    with atomic_path(out) as tmp:
        to_votable(rows, meta).to_xml(str(tmp))
    return out


def votable_bytes(rows: pd.DataFrame, meta: Mapping[str, Any] | None = None) -> bytes:
    """The VOTable of ``rows`` as XML bytes."""
    buf = io.BytesIO()
    to_votable(rows, meta).to_xml(buf)
    return buf.getvalue()
