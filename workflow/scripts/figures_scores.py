"""Snakemake adapter: rule figures_scores -> astroanom.pipeline.figures.scores_step."""

from astroanom.pipeline.figures import scores_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
scores_step(
    active=snakemake.input.active,
    detector=snakemake.params.detector,
    png=snakemake.output.png,
    pdf=snakemake.output.pdf,
)
