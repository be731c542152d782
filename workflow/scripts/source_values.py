"""Snakemake adapter: rule source_values -> astroanom.pipeline.features.values_step."""

from astroanom.pipeline.features import values_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
values_step(
    source=snakemake.params.source,
    seed=snakemake.params.seed,
    values_out=snakemake.output.values,
    threads=snakemake.threads,
)
