"""Snakemake adapter: rule galaxies_scale -> astroanom.scaling.scale_step."""

from astroanom.runtime import configure
from astroanom.scaling import scale_step

configure(snakemake.log[0], snakemake.threads)
scale_step(snakemake.input.features, snakemake.output.features, snakemake.output.params)
