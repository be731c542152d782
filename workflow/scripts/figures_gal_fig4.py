"""Snakemake adapter: rule figures_gal_fig4 -> astroanom.pipeline.figures.fig4_step."""

from astroanom.pipeline.figures import fig4_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fig4_step(
    objects=snakemake.input.objects,
    truth=snakemake.input.truth,
    active=snakemake.input.active,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    truth_spec=snakemake.params.truth_spec,
    detector=snakemake.params.detector,
    n=snakemake.params.n,
    seed=snakemake.params.seed,
)
