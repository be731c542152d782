"""Galaxy Zoo inputs: the public GZ2 images on Zenodo with the Hart et al. (2016) labels, and
the Kaggle "Galaxy Zoo - The Galaxy Challenge" set the paper used (``Class6.1`` = "odd")."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.sources.folder import attach_labels, list_images, subsample
from astroanom.sources.remote_files import (  # noqa: F401  (URLs, md5s, column names)
    GZ2_FILES,
    HART16_CHECK,
    HART16_ODD,
    HART16_URL,
    KAGGLE_COMPETITION,
    KAGGLE_FILES,
    KAGGLE_ODD,
    ZENODO_RECORD,
    ZENODO_URL,
    zenodo_url,
)

log = logging.getLogger("astroanom.sources.galaxy_zoo")


def download_hart16(dest: str | os.PathLike[str], **kwargs: object) -> Path:
    """Download the Hart et al. (2016) table to ``dest``. No md5 is published for it, so it is
    verified by the size the server announces, a complete gzip stream (CRC and length) and a
    sha256 recorded beside it and compared on later runs (see docs/galaxies.md)."""
    from astroanom.sources.download import fetch

    return fetch(HART16_URL, dest, md5=None, check=HART16_CHECK, **kwargs)  # type: ignore[arg-type]


def extract_zip(archive: str | os.PathLike[str], outdir: str | os.PathLike[str]) -> int:
    """Extract the image files of ``archive`` flat into ``outdir`` (via a temporary sibling
    directory renamed into place, so a partial extraction is never mistaken for a complete
    one); return the number of files."""
    out = Path(outdir)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    n = 0
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        for k, m in enumerate(members, 1):
            name = Path(m.filename).name
            if not name or name.startswith("."):
                continue
            with zf.open(m) as src, open(tmp / name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            n += 1
            if k % 20000 == 0:
                log.info("extracted %d/%d files", k, len(members))
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    log.info("extracted %d files from %s into %s", n, archive, out)
    return n


def gz2_manifest(
    images_dir: str | os.PathLike[str],
    mapping_csv: str | os.PathLike[str],
    labels_csv: str | os.PathLike[str],
    fraction_column: str = HART16_ODD,
    n_objects: int | None = None,
    seed: int = 0,
    threshold: float = 0.9,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GZ2 manifest: images ``<asset_id>.jpg`` joined via the Zenodo mapping (objid, asset_id)
    to Hart16 labels (``dr7objid``); ``odd_fraction`` = ``fraction_column``. Images without a
    label row and labels without an image are recorded as failures. ``n_objects`` draws a
    seeded subsample (e.g. 61578, the paper's size)."""
    mapping = pd.read_csv(mapping_csv, usecols=["objid", "asset_id"])
    labels = pd.read_csv(labels_csv, usecols=["dr7objid", fraction_column])
    labels = labels.rename(columns={"dr7objid": "objid"})
    by_asset = mapping.merge(labels, on="objid", how="inner")
    by_asset["id"] = by_asset["asset_id"].astype(str)
    images = list_images(images_dir)
    manifest, failures = attach_labels(
        images,
        by_asset.drop(columns="asset_id"),
        "id",
        fraction_column,
        threshold,
        source="gz2_hart16",
    )
    return subsample(manifest, n_objects, seed), failures


def kaggle_credentials() -> str | None:
    """Where Kaggle credentials were found (env or kaggle.json), or None."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "environment (KAGGLE_USERNAME, KAGGLE_KEY)"
    cfg = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle")) / "kaggle.json"
    return str(cfg) if cfg.is_file() else None


def kaggle_download(dest_dir: str | os.PathLike[str]) -> list[Path]:
    """Download the competition's image and label archives with the ``kaggle`` CLI.

    Raises :class:`ConfigError` saying how to fix it when the CLI, the credentials or the
    accepted competition rules are missing.
    """
    how = (
        f"Create an API token at https://www.kaggle.com/settings (it saves kaggle.json; put it in "
        f"~/.kaggle/ or set KAGGLE_USERNAME and KAGGLE_KEY), accept the rules at "
        f"https://www.kaggle.com/c/{KAGGLE_COMPETITION}/rules, then re-run. Or download "
        f"{', '.join(KAGGLE_FILES)} by hand into {Path(dest_dir).resolve()}."
    )
    if kaggle_credentials() is None:
        raise ConfigError(f"no Kaggle credentials found. {how}")
    exe = shutil.which("kaggle")
    if exe is None:
        raise ConfigError(f"the 'kaggle' command is not installed (pip install kaggle). {how}")
    out = Path(dest_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in KAGGLE_FILES:
        proc = subprocess.run(
            [exe, "competitions", "download", "-c", KAGGLE_COMPETITION, "-f", name, "-p", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            msg = (proc.stderr or proc.stdout).strip()
            if "403" in msg or "rules" in msg.lower():
                raise ConfigError(
                    f"Kaggle refused the download (competition rules not accepted?): {msg}. {how}"
                )
            raise ConfigError(f"kaggle download of {name} failed: {msg}. {how}")
        paths.append(out / name)
    return paths


def kaggle_fetch(images_dir: str | os.PathLike[str], solutions_csv: str | os.PathLike[str]) -> None:
    """Download the Kaggle archives next to ``solutions_csv`` and unpack the images into
    ``images_dir`` and the solutions table into ``solutions_csv``."""
    out = Path(solutions_csv).parent
    images_zip, labels_zip = kaggle_download(out)
    extract_zip(labels_zip, out / "labels")
    (out / "labels" / "training_solutions_rev1.csv").replace(solutions_csv)
    extract_zip(images_zip, images_dir)


def kaggle_manifest(
    images_dir: str | os.PathLike[str],
    solutions_csv: str | os.PathLike[str],
    n_objects: int | None = None,
    seed: int = 0,
    threshold: float = 0.9,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaggle manifest: ``<GalaxyID>.jpg`` joined to ``training_solutions_rev1.csv``;
    ``odd_fraction`` = ``Class6.1`` (61,578 objects)."""
    sol = pd.read_csv(solutions_csv, usecols=["GalaxyID", KAGGLE_ODD], dtype={"GalaxyID": str})
    images = list_images(images_dir)
    manifest, failures = attach_labels(
        images, sol, "GalaxyID", KAGGLE_ODD, threshold, source="training_solutions_rev1"
    )
    return subsample(manifest, n_objects, seed), failures


#: ``resources``: where the download rules put the files (the rule resolves it into paths).
RESOURCES = Param(str, "resources/galaxy_zoo", "folder of the downloaded files")


@declared
class GalaxyZooSource:
    """``source.kind: galaxy_zoo``: Galaxy Zoo 2 images (Zenodo) with the Hart et al. (2016)
    vote fractions; the file paths are the download rules' outputs (``resources/``)."""

    object_kind = "image"  # astroanom.kinds: what its objects are
    seed_param = "n_objects"  # the seed only draws the n_objects subsample

    truth_columns = ("odd_fraction",)
    PARAMS = Params(
        fraction_column=Param(str, HART16_ODD, "the Hart et al. (2016) vote fraction of truth"),
        n_objects=Param(int, None, "seeded subsample size; null = all", minimum=1, nullable=True),
        resources=RESOURCES,
    )

    def __init__(
        self, images: str, mapping: str, labels: str, fraction_column: str, n_objects: int | None
    ) -> None:
        self.images, self.mapping, self.labels = images, mapping, labels
        self.fraction_column, self.n_objects = fraction_column, n_objects

    def manifest(
        self, workdir: str | os.PathLike[str], seed: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        del workdir
        man, fails = gz2_manifest(
            self.images, self.mapping, self.labels, self.fraction_column, self.n_objects, seed
        )
        return man.drop(columns=["is_anomaly"], errors="ignore"), fails

    def describe(self) -> dict[str, object]:
        return {"description": "Galaxy Zoo 2 cutouts (424x424 JPEG)"}


@declared
class KaggleSource:
    """``source.kind: kaggle``: the Kaggle Galaxy Challenge images and ``Class6.1`` fractions."""

    object_kind = "image"  # astroanom.kinds: what its objects are
    seed_param = "n_objects"  # the seed only draws the n_objects subsample

    truth_columns = ("odd_fraction",)
    PARAMS = Params(
        n_objects=Param(int, None, "seeded subsample size; null = all", minimum=1, nullable=True),
        resources=RESOURCES,
    )

    def __init__(self, images: str, solutions: str, n_objects: int | None) -> None:
        self.images, self.solutions, self.n_objects = images, solutions, n_objects

    def manifest(
        self, workdir: str | os.PathLike[str], seed: int
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        del workdir
        man, fails = kaggle_manifest(self.images, self.solutions, self.n_objects, seed)
        return man.drop(columns=["is_anomaly"], errors="ignore"), fails

    def describe(self) -> dict[str, object]:
        return {
            "description": "Kaggle Galaxy Zoo challenge cutouts (424x424 JPEG)",
        }
