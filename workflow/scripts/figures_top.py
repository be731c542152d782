"""Snakemake adapter: rule figures_top -> astroanom.pipeline.figures.top_step."""

from astroanom.pipeline.figures import top_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
top_step(
    features=snakemake.input.features,
    objects=snakemake.input.objects,
    active=snakemake.input.active,
    info=snakemake.input.info,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
    n=snakemake.params.n,
)
