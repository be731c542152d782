"""Snakemake adapter: rule figures_ranked -> astroanom.pipeline.figures.ranked_step."""

from astroanom.pipeline.figures import ranked_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
ranked_step(
    objects=snakemake.input.objects,
    active=snakemake.input.active,
    out=snakemake.output.ranked,
)
