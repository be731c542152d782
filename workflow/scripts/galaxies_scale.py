"""Snakemake adapter: rule galaxies_scale -> astroanom.features.scaling.scale_step."""

from astroanom.features.scaling import scale_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
scale_step(snakemake.input.features, snakemake.output.features, snakemake.output.params)
