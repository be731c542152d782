"""Snakemake adapter: rule extract_gz2_images -> astroanom.data.galaxy_zoo.extract_zip."""

from astroanom.data.galaxy_zoo import extract_zip
from astroanom.runtime import configure

configure(snakemake.log[0], 1)
extract_zip(snakemake.input[0], snakemake.output[0])
