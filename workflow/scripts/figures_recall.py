"""Snakemake adapter: rule figures_recall -> astroanom.pipeline.figures.fig5_step."""

from astroanom.pipeline.figures import fig5_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig5_step(
    curves=snakemake.input.curves,
    truth=snakemake.input.truth,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    truth_spec=snakemake.params.truth_spec,
    detector=snakemake.params.detector,
    n_labels=snakemake.params.n_labels,
    seed=snakemake.params.seed,
)
