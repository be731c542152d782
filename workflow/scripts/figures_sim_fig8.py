"""Snakemake adapter: rule figures_sim_fig8 -> astroanom.pipeline.figures.fig8_step."""

from astroanom.pipeline.figures import fig8_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig8_step(
    curves=snakemake.input.curves,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    class_ids=snakemake.params.class_ids,
    oracle=snakemake.params.oracle,
    n_class=snakemake.params.n_class,
)
