"""Snakemake adapter: rule figures_sim_fig1 -> astroanom.pipeline.figures.fig1_step."""

from astroanom.pipeline.figures import fig1_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig1_step(
    embedding=snakemake.input.embedding,
    active=snakemake.input.active,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    seed=snakemake.params.seed,
)
