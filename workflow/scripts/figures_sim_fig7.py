"""Snakemake adapter: rule figures_sim_fig7 -> astroanom.pipeline.figures.fig7_step."""

from astroanom.pipeline.figures import fig7_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig7_step(
    rounds=snakemake.input.rounds,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    class_ids=snakemake.params.class_ids,
    top=snakemake.params.top,
    oracle=snakemake.params.oracle,
)
