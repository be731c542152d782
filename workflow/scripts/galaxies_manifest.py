"""Snakemake adapter: checkpoint galaxies_manifest -> astroanom.pipeline.galaxies.manifest_step."""

from astroanom.pipeline.galaxies import manifest_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
manifest_step(
    source=snakemake.params.source,
    params=snakemake.params.params,
    inputs=dict(snakemake.input.items()),
    manifest_out=snakemake.output.manifest,
    failures_out=snakemake.output.label_failures,
    seed=snakemake.params.seed,
    threshold=snakemake.params.threshold,
)
