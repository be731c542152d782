"""Step of ``workflow/rules/export.smk`` (and ``astroanom export``): the anomaly catalogue."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PathLike = str | os.PathLike[str]


def user_label_files(labels_dir: PathLike) -> list[Path]:
    """Every user's current label file in ``labels/<run>/`` (``<user>.csv``, not the logs)."""
    d = Path(labels_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.glob("*.csv") if not p.name.endswith(".log.csv"))


def export_step(
    run_dir: PathLike,
    label_files: Sequence[PathLike],
    out_dir: PathLike,
    threshold: int,
    top_n: int,
    title: str,
    crossmatch: Mapping[str, Any] | None = None,
    stretch: str = "asinh",
) -> None:
    """CSV, FITS table, VOTable and self-contained HTML page of the objects the users marked
    relevant (label >= ``threshold``) and the ``top_n`` by S^, marked known where within
    ``crossmatch``'s radius of its catalogue (:func:`astroanom.export.export_anomalies`);
    image thumbnails with ``stretch`` (``export.stretch``, :func:`thumbnail_display`)."""
    from astroanom.export import export_anomalies

    export_anomalies(
        run_dir,
        label_files,
        out_dir,
        threshold=threshold,
        top_n=top_n,
        title=title,
        crossmatch=crossmatch,
        display=thumbnail_display(stretch),
    )


def thumbnail_display(stretch: str) -> dict[str, Any]:
    """Display choices of the export's image thumbnails for ``export.stretch``: none for
    asinh (the renderer's default, so its bytes stay as they were), else the stretch's."""
    from astroanom.kinds.image_display import parse_display

    return {} if stretch == "asinh" else parse_display({"stretch": stretch})
