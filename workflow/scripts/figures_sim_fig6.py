"""Snakemake adapter: rule figures_sim_fig6 -> astroanom.pipeline.figures.fig6_step."""

from astroanom.pipeline.figures import fig6_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig6_step(
    features=snakemake.input.features,
    truth=snakemake.input.truth,
    active=snakemake.input.active,
    info=snakemake.input.info,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    seed=snakemake.params.seed,
)
