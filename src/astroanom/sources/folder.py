"""A folder of the user's own cutouts (FITS, PNG or JPEG; any size; 1 or 3 channels), with an
optional CSV of labels or metadata joined on an id column (the file name without suffix)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.sources.imageio import IMAGE_SUFFIXES
from astroanom.store.rundir import FAILURE_COLUMNS


def image_id(path: Path) -> str:
    """Object id of an image file: its name without the image suffix (``a.fits.gz`` -> ``a``)."""
    name = path.name
    for suf in sorted(IMAGE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return path.stem


def list_images(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """id and absolute image_path of every image file in ``folder`` (recursively), sorted by id.

    Raises :class:`ConfigError` if the folder does not exist, holds no images, or two files
    share an id.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(
            f"image folder {root} does not exist; check source.path of this dataset in your config"
        )
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)
    )
    if not files:
        raise ConfigError(
            f"no FITS, PNG or JPEG files in {root} (suffixes {', '.join(IMAGE_SUFFIXES)})"
        )
    df = pd.DataFrame(
        {"id": [image_id(p) for p in files], "image_path": [str(p.resolve()) for p in files]}
    )
    dup = df[df["id"].duplicated(keep=False)]
    if len(dup):
        first = dup.groupby("id")["image_path"].apply(list).iloc[0]
        raise ConfigError(
            f"{len(dup)} files share an id, e.g. {first}; rename them so each stem is unique"
        )
    return df.sort_values("id", kind="stable").reset_index(drop=True)


def attach_labels(
    images: pd.DataFrame,
    labels: pd.DataFrame,
    id_column: str,
    fraction_column: str | None,
    threshold: float = 0.9,
    source: str = "labels",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join ``labels`` onto ``images`` (id, image_path) by ``id_column``.

    With a ``fraction_column`` (an "odd" vote fraction in [0, 1]) it is copied to
    ``odd_fraction`` and ``is_anomaly`` = odd_fraction > ``threshold``; images without a valid
    label row are dropped and recorded. Label rows for ids with no image are recorded too.
    Returns (manifest, failures with columns id, stage, reason).
    """
    if id_column not in labels.columns:
        raise ConfigError(
            f"{source}: no column {id_column!r} (columns: {list(labels.columns)[:10]})"
        )
    labels = labels.rename(columns={id_column: "id"})
    labels["id"] = labels["id"].astype(str)
    labels = labels.drop_duplicates("id", keep="first")
    known = set(images["id"])
    unknown = labels.loc[~labels["id"].isin(known), "id"]
    fails = [
        pd.DataFrame(
            {
                "id": unknown,
                "stage": "labels",
                "reason": f"{source}: label row for an id with no image",
            }
        )
    ]
    merged = images.merge(labels, on="id", how="left", indicator=True)
    missing = merged["_merge"] == "left_only"
    merged = merged.drop(columns="_merge")
    if fraction_column is not None:
        if fraction_column not in labels.columns:
            raise ConfigError(
                f"{source}: no column {fraction_column!r} (columns: {list(labels.columns)[:10]})"
            )
        f = pd.to_numeric(merged[fraction_column], errors="coerce")
        bad = ~missing & ~f.between(0.0, 1.0)
        fails.append(
            pd.DataFrame(
                {
                    "id": merged.loc[missing, "id"],
                    "stage": "labels",
                    "reason": f"{source}: no label row for this image",
                }
            )
        )
        fails.append(
            pd.DataFrame(
                {
                    "id": merged.loc[bad, "id"],
                    "stage": "labels",
                    "reason": f"{source}: {fraction_column} missing or outside [0, 1]",
                }
            )
        )
        merged["odd_fraction"] = f
        merged = merged.loc[~missing & ~bad].copy()
        merged["is_anomaly"] = merged["odd_fraction"].to_numpy() > threshold
    failures = pd.concat(
        [x for x in fails if len(x)] or [pd.DataFrame(columns=FAILURE_COLUMNS)], ignore_index=True
    )
    return merged.reset_index(drop=True), failures[FAILURE_COLUMNS]


def subsample(manifest: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """A seeded random subset of ``n`` rows (all if ``n`` is None or >= rows), kept in id order."""
    if n is None or n >= len(manifest):
        return manifest
    keep = np.sort(np.random.default_rng(seed).choice(len(manifest), size=n, replace=False))
    return manifest.iloc[keep].reset_index(drop=True)


@declared
class ImageFolderSource:
    """``source.kind: images``: a folder of the user's own cutouts (FITS, PNG, JPEG; searched
    recursively); the id of an object is its file name without the image suffix."""

    object_kind = "image"  # astroanom.kinds: what its objects are
    seed_param = "n_objects"  # the seed only draws the n_objects subsample

    PARAMS = Params(
        path=Param(str, description="a folder of FITS/PNG/JPEG cutouts, searched recursively"),
        n_objects=Param(int, None, "seeded subsample size; null = all", minimum=1, nullable=True),
    )

    def __init__(self, path: str, n_objects: int | None) -> None:
        self.path, self.n_objects = path, n_objects

    def manifest(
        self, workdir: str | os.PathLike[str], seed: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        del workdir
        images = subsample(list_images(self.path), self.n_objects, seed)
        return images, pd.DataFrame(columns=FAILURE_COLUMNS)

    def describe(self) -> dict[str, object]:
        return {"description": f"image cutouts from {self.path}"}
