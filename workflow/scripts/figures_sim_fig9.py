"""Snakemake adapter: rule figures_sim_fig9 -> astroanom.pipeline.figures.fig9_step."""

from astroanom.pipeline.figures import fig9_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig9_step(
    curves=snakemake.input.curves,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    class_ids=snakemake.params.class_ids,
    oracle=snakemake.params.oracle,
)
