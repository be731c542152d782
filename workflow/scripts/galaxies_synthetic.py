"""Snakemake adapter: rule galaxies_synthetic -> astroanom.pipeline.galaxies.synthetic_step."""

from astroanom.pipeline.galaxies import synthetic_step
from astroanom.runtime import configure

configure(snakemake.log[0], 1)
synthetic_step(
    images_dir=snakemake.output.images,
    catalogue=snakemake.output.catalogue,
    cfg=snakemake.params.cfg,
    seed=snakemake.params.seed,
    workers=snakemake.threads,
)
