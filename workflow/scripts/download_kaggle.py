"""Snakemake adapter: rule download_kaggle -> astroanom.sources.galaxy_zoo.kaggle_fetch."""

from astroanom.runtime import configure
from astroanom.sources.galaxy_zoo import kaggle_fetch

configure(snakemake.log[0], 1)
kaggle_fetch(snakemake.output.images, snakemake.output.solutions)
