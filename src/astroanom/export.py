"""Anomaly catalogue export: what the users found, for sharing with collaborators.

From a dataset directory (``objects.parquet``, ``scores.parquet``, ``active.parquet``; see
:mod:`astroanom.store.dataset`) and one or more users' label files, :func:`export_anomalies`
selects every object a user labelled relevant (label >= ``threshold``) and the ``top_n`` objects
by the retrained score S-hat, and writes, each atomically:

- ``anomalies.csv``, ``anomalies.fits`` (a binary table) and ``anomalies.vot`` (a VOTable with
  units and UCDs, :mod:`astroanom.vo.votable`): one row per (object, user label), plus one row
  with an empty user for a selected object nobody labelled. Columns: id, ra, dec (when the
  dataset has them), S, U, d (NaN where the strategy has none), S_hat, rank (by S-hat, 1 = most
  anomalous), label (empty/NaN when unlabelled), user, time (of the label), selected_by
  ("label", "top" or "label+top"); with a cross-match catalogue (``crossmatch``,
  :mod:`astroanom.vo.crossmatch`) also known, known_name, known_sep_arcsec;
- ``anomalies.html``: one self-contained page (no script, no outside request: images are inline
  base64 PNG; follow-up links are plain links) with each selected object drawn as its kind
  draws it (:mod:`astroanom.kinds`: a cutout, a light curve, a spectrum, a curve, a table row's
  feature values), its scores, its labels and its links.
"""

from __future__ import annotations

import base64
import html
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import AstroanomError
from astroanom.links import LINK_TITLES, follow_up_links
from astroanom.ordering import rank_order
from astroanom.store import dataset as ds
from astroanom.store.io import atomic_path, write_people_csv, write_text
from astroanom.store.labels import LABEL_COLUMNS, MAX_LABEL, MIN_LABEL, read_labels

log = logging.getLogger("astroanom.export")
PathLike = str | os.PathLike[str]
CSV_NAME, FITS_NAME, HTML_NAME, VOTABLE_NAME = ds.EXPORT_FILES
Renderer = Callable[[str], bytes]


@dataclass(frozen=True)
class ExportResult:
    """Paths written and counts: ``n_rows`` table rows, ``n_objects`` distinct objects."""

    csv: Path
    fits: Path
    html: Path
    n_rows: int
    n_objects: int
    votable: Path | None = None
    n_known: int | None = None  # objects matched in the cross-match catalogue (None: no match run)


def _read_table(directory: Path, name: str, columns: Sequence[str]) -> pd.DataFrame:
    path = directory / name
    if not path.is_file():
        raise AstroanomError(f"{path} not found: run the workflow for this dataset first")
    df = pd.read_parquet(path)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AstroanomError(f"{path} lacks column(s) {missing} (columns: {list(df.columns)})")
    df["id"] = df["id"].astype(str)
    return df


def score_table(dataset_dir: PathLike) -> pd.DataFrame:
    """One row per object (in the dataset's order): id, ra, dec (when the dataset has them), S,
    U, d (NaN where the strategy has none), S_hat and rank (by S-hat, 1 = most anomalous).

    Raises :class:`AstroanomError` for missing tables or columns, or an object without S-hat.
    """
    d = Path(dataset_dir)
    objects = _read_table(d, ds.OBJECTS, ["id"])
    scores = _read_table(d, ds.SCORES, ["id", "S"])
    active = _read_table(d, ds.ACTIVE, ["id", "score"])
    for col in ("U", "d"):
        if col not in active.columns:
            active[col] = np.nan
    table = objects[["id"] + [c for c in ("ra", "dec") if c in objects.columns]]
    table = table.merge(scores[["id", "S"]], on="id", how="left", validate="one_to_one")
    table = table.merge(
        active[["id", "U", "d", "score"]].rename(columns={"score": "S_hat"}),
        on="id",
        how="left",
        validate="one_to_one",
    )
    if table["S_hat"].isna().any():
        bad = table.loc[table["S_hat"].isna(), "id"].iloc[0]
        raise AstroanomError(f"{d / ds.ACTIVE} has no S-hat for object {bad}; re-run the workflow")
    rank = np.empty(len(table), dtype=np.int64)
    rank[rank_order(table["S_hat"].to_numpy())] = np.arange(1, len(table) + 1)
    table["rank"] = rank
    return table


def anomaly_table(
    dataset_dir: PathLike,
    label_files: Sequence[PathLike],
    threshold: int = 3,
    top_n: int = 50,
) -> pd.DataFrame:
    """The export's rows (see module docstring), sorted by rank then user.

    Raises :class:`AstroanomError` for missing tables or columns,
    :class:`~astroanom.errors.LabelsError` for a bad label file or a labelled id that is not in
    the dataset, and ``ValueError`` for a threshold outside 0..5 or a negative ``top_n``.
    """
    if not MIN_LABEL <= int(threshold) <= MAX_LABEL:
        raise ValueError(f"threshold must be a label {MIN_LABEL}..{MAX_LABEL}, got {threshold}")
    if int(top_n) < 0:
        raise ValueError(f"top_n must be >= 0, got {top_n}")
    table = score_table(dataset_dir)

    valid = set(table["id"])
    labels = []
    for path in label_files:
        lab = read_labels(path, valid_ids=valid)
        lab["user"] = lab["user"].where(lab["user"] != "", Path(path).stem)  # <user>.csv
        labels.append(lab)
    labels_df = (
        pd.concat(labels, ignore_index=True)
        if labels
        else pd.DataFrame(
            {c: pd.Series(dtype=np.int64 if c == "label" else object) for c in LABEL_COLUMNS}
        )
    )
    relevant = set(labels_df.loc[labels_df["label"] >= int(threshold), "id"])
    top = set(table.loc[table["rank"] <= int(top_n), "id"])
    selected = relevant | top
    sel = table[table["id"].isin(selected)]
    rows = sel.merge(labels_df[["id", "label", "user", "time"]], on="id", how="left")
    rows["label"] = rows["label"].astype("Int64")
    rows["user"] = rows["user"].astype(object).fillna("").astype(str)
    rows["time"] = rows["time"].astype(object).fillna("").astype(str)
    in_top = rows["id"].isin(top)
    in_rel = rows["id"].isin(relevant)
    rows["selected_by"] = np.where(in_rel & in_top, "label+top", np.where(in_rel, "label", "top"))
    return rows.sort_values(["rank", "user"], kind="stable").reset_index(drop=True)


def _renderer(d: Path, display: Mapping[str, Any]) -> Renderer:
    """id -> PNG bytes: the object's thumbnail as its kind draws it (``dataset.json``'s kind,
    :meth:`astroanom.kinds.base.ObjectKind.thumbnail`): a cutout, a light curve against the
    source's time axis, a spectrum, a curve, or a table row's feature values."""
    from astroanom import kinds
    from astroanom.kinds.base import RunObjects

    run = RunObjects.open(d)
    kind = kinds.get(str(run.info.get("kind")))
    return lambda oid: kind.thumbnail(run, oid, display)


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em}.meta{color:#555;font-size:.9em}
.grid{display:flex;flex-wrap:wrap;gap:14px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;width:300px}
.card img{width:280px;image-rendering:pixelated;display:block;margin:0 auto 6px}
.card h2{font-size:1em;margin:.2em 0;word-break:break-all}
.card table{font-size:.85em;border-collapse:collapse}.card td{padding:1px 6px 1px 0}
.links a{font-size:.85em;margin-right:8px}.err{color:#a00;font-size:.85em}
"""


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}f}"
    return str(v)


def anomaly_html(
    rows: pd.DataFrame,
    render: Renderer,
    title: str,
    threshold: int,
    top_n: int,
) -> str:
    """The self-contained page: one card per object in rank order (see module docstring)."""
    esc = html.escape
    cards = []
    for oid, grp in rows.groupby("id", sort=False):
        first = grp.iloc[0]
        try:
            data = render(str(oid))
            mime = "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"
            img = base64.b64encode(data).decode("ascii")
            picture = f'<img alt="{esc(str(oid))}" src="data:{mime};base64,{img}">'
        except Exception as exc:  # an unreadable cutout must not lose the rest of the export
            log.warning("export: cannot render %s: %s", oid, exc)
            picture = f'<p class="err">no image: {esc(str(exc))}</p>'
        facts = [
            ("rank", _fmt(first["rank"])),
            ("S", _fmt(first["S"])),
            ("Ŝ", _fmt(first["S_hat"])),
        ]
        links = ""
        if "ra" in grp.columns and pd.notna(first["ra"]) and pd.notna(first["dec"]):
            facts += [("RA", _fmt(first["ra"], 6)), ("Dec", _fmt(first["dec"], 6))]
            try:
                urls = follow_up_links(float(first["ra"]), float(first["dec"]))
                links = (
                    '<div class="links">'
                    + "".join(
                        f'<a href="{esc(u)}" rel="noopener noreferrer">{esc(LINK_TITLES[k])}</a>'
                        for k, u in urls.items()
                    )
                    + "</div>"
                )
            except ValueError:
                links = ""
        for _, r in grp.iterrows():
            if r["user"]:
                facts.append((f"label ({r['user']})", f"{_fmt(r['label'])} · {_fmt(r['time'])}"))
        facts.append(("selected by", str(first["selected_by"])))
        if "known" in grp.columns:
            known = bool(first["known"])
            facts.append(
                (
                    "known",
                    f"{first['known_name']} ({_fmt(first['known_sep_arcsec'], 2)}\u2033)"
                    if known
                    else "no",
                )
            )
        table = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in facts)
        cards.append(
            f'<div class="card" id="obj-{esc(str(oid))}">{picture}<h2>{esc(str(oid))}</h2>'
            f"<table>{table}</table>{links}</div>"
        )
    n_obj = rows["id"].nunique()
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="meta">{n_obj} objects: labelled relevant '
        f"(label &ge; {int(threshold)}) or among the top {int(top_n)} by Ŝ.</p>"
        f'<div class="grid">{"".join(cards)}</div></body></html>\n'
    )


#: FITS text columns hold UTF-8 bytes (FITS itself allows only ASCII); the header says so.
TEXT_ENCODING = "UTF-8"


def _fixed_str(col: pd.Series) -> np.ndarray:
    """Fixed-width UTF-8 byte strings (FITS tables hold neither Python objects nor non-ASCII
    unicode); width in bytes >= 1. Read back with ``np.char.decode(column, "utf-8")``."""
    vals = [v.encode("utf-8") for v in col.astype(str).tolist()]
    width = max([1] + [len(v) for v in vals])
    return np.array(vals, dtype=f"S{width}")


def _write_fits(rows: pd.DataFrame, path: Path, meta: Mapping[str, Any]) -> None:
    from astropy.table import Table

    t = Table()
    t["id"] = _fixed_str(rows["id"])
    for c in ("ra", "dec"):
        if c in rows.columns:
            t[c] = rows[c].to_numpy(np.float64)
            t[c].unit = "deg"
    for c in ("S", "U", "d", "S_hat"):
        if c in rows.columns:
            t[c] = rows[c].to_numpy(np.float64)
    t["rank"] = rows["rank"].to_numpy(np.int64)
    t["label"] = rows["label"].astype("Float64").to_numpy(np.float64, na_value=np.nan)
    for c in ("user", "time", "selected_by"):
        t[c] = _fixed_str(rows[c])
    if "known" in rows.columns:
        t["known"] = rows["known"].to_numpy(bool)
        t["known_name"] = _fixed_str(rows["known_name"])
        t["known_sep_arcsec"] = rows["known_sep_arcsec"].to_numpy(np.float64)
        t["known_sep_arcsec"].unit = "arcsec"
    for k, v in meta.items():
        t.meta[k] = v
    t.meta["TEXTENC"] = (TEXT_ENCODING, "encoding of the text columns")
    with atomic_path(path) as tmp:
        t.write(tmp, format="fits", overwrite=True)


class _CountedRenderer:
    """A renderer that reports its progress (:class:`astroanom.progress.Progress`) per object
    and stores plotted thumbnails as 256-colour PNGs (:func:`astroanom.plots.style.compact_png`:
    a curve's 21 KB become about 7 KB)."""

    def __init__(self, render: Renderer, total: int) -> None:
        from astroanom.progress import Progress

        self.render = render
        self.bar = Progress("export thumbnails", total, "objects", logger=log)

    def __call__(self, oid: str) -> bytes:
        try:
            data = self.render(oid)
        finally:
            self.bar.advance()
        if data[:8] == PNG_SIGNATURE:  # a plot (curve, spectrum, features): a palette PNG
            from astroanom.plots.style import compact_png

            data = compact_png(data)
        return data


#: The first bytes of a PNG file (image kinds' thumbnails are JPEG and are kept as they are).
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def labels_used_meta(dataset_dir: Path) -> dict[str, Any]:
    """FITS header cards naming whose labels the ranking S-hat was retrained on (from the
    run's ``labels_used.json``, :mod:`astroanom.store.users`); {} without one."""
    from astroanom.store.users import read_record

    record = read_record(dataset_dir / ds.LABELS_USED)
    if not record or record.get("oracle") != "human":
        return {}
    users = ",".join(u["user"] for u in record.get("users", []))
    return {
        "LABUSERS": (users[:68], "users whose labels S_hat was retrained on"),
        "LABCOMB": (str(record.get("combine", "")), "rule combining the users' labels"),
        "LABNDISP": (int(record.get("n_disputed", 0)), "objects the users disagree on"),
    }


def export_anomalies(
    dataset_dir: PathLike,
    label_files: Sequence[PathLike],
    out_dir: PathLike,
    threshold: int = 3,
    top_n: int = 50,
    title: str | None = None,
    display: Mapping[str, Any] | None = None,
    render: Renderer | None = None,
    crossmatch: Mapping[str, Any] | None = None,
) -> ExportResult:
    """Write ``anomalies.csv``, ``anomalies.fits``, ``anomalies.vot`` and ``anomalies.html``
    into ``out_dir``.

    ``label_files``: the users' current-state label files (``labels/<dataset>/<user>.csv``);
    ``threshold``: the lowest label that counts as relevant (0..5); ``top_n``: how many of the
    highest-S-hat objects to add; ``display``: image display choices for
    :func:`astroanom.kinds.image_display.render_image` (e.g. ``{"kind": "asinh"}``);
    ``render``: a custom id -> PNG renderer (default: cutout, or a plot of the feature vector);
    ``crossmatch``: a catalogue to mark known objects in (``path``, ``ra``, ``dec``, ``name``,
    ``radius_arcsec``; :func:`astroanom.vo.crossmatch.crossmatch_rows`), or None.
    """
    d = Path(dataset_dir)
    rows = anomaly_table(d, label_files, threshold, top_n)
    n_known = None
    if crossmatch:
        from astroanom.vo.crossmatch import crossmatch_rows

        rows = crossmatch_rows(rows, crossmatch, source=f"export of {d}")
        n_known = int(rows.loc[rows["known"], "id"].nunique())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = title or f"Anomalies of {d.name}"
    csv_path, fits_path, html_path = out / CSV_NAME, out / FITS_NAME, out / HTML_NAME
    vot_path = out / VOTABLE_NAME
    write_people_csv(rows, csv_path)
    meta: dict[str, Any] = {"DATASET": d.name, "THRESH": int(threshold), "TOPN": int(top_n)}
    meta.update(labels_used_meta(d))
    _write_fits(rows, fits_path, meta)
    from astroanom.vo.votable import write_votable

    vot_meta = {"dataset": d.name, "threshold": int(threshold), "top_n": int(top_n)}
    if crossmatch:
        from astroanom.vo.crossmatch import DEFAULTS

        xm = {**DEFAULTS, **{k: v for k, v in crossmatch.items() if v is not None}}
        vot_meta["crossmatch"] = f"{xm['path']} within {xm['radius_arcsec']:g} arcsec"
    write_votable(rows, vot_path, vot_meta)
    ids = rows["id"].drop_duplicates().tolist()
    draw = _CountedRenderer(render or _renderer(d, display or {}), len(ids))
    write_text(anomaly_html(rows, draw, name, threshold, top_n), html_path)
    draw.bar.done()
    log.info("export: %d rows, %d objects -> %s", len(rows), len(ids), out)
    return ExportResult(
        csv_path, fits_path, html_path, len(rows), len(ids), votable=vot_path, n_known=n_known
    )
