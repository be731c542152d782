"""Snakemake adapter: rule figures_map -> astroanom.pipeline.figures.map_step."""

from astroanom.pipeline.figures import map_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
map_step(
    embedding=snakemake.input.embedding,
    active=snakemake.input.active,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    detector=snakemake.params.detector,
    dataset=snakemake.params.dataset,
)
