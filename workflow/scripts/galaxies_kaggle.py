"""Snakemake adapter: rule download_kaggle -> kaggle CLI download, then unzip images and labels."""

from pathlib import Path

from astroanom.runtime import configure
from astroanom.sources.galaxy_zoo import extract_zip, kaggle_download

configure(snakemake.log[0], 1)
out = Path(snakemake.output.solutions).parent
images_zip, labels_zip = kaggle_download(out)
extract_zip(labels_zip, out / "labels")
(out / "labels" / "training_solutions_rev1.csv").replace(snakemake.output.solutions)
extract_zip(images_zip, snakemake.output.images)
