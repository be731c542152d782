"""Snakemake adapter: rule extract_gz2_images -> astroanom.sources.galaxy_zoo.extract_zip."""

from astroanom.runtime import configure
from astroanom.sources.galaxy_zoo import extract_zip

configure(snakemake.log[0], 1)
extract_zip(snakemake.input[0], snakemake.output[0])
