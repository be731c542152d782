"""Snakemake adapter: rule galaxies_gather -> astroanom.pipeline.galaxies.gather_step."""

from pathlib import Path

from astroanom.pipeline.galaxies import gather_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
gather_step(
    shards=list(snakemake.input.shards),
    manifest=snakemake.input.manifest,
    label_failures=snakemake.input.label_failures,
    features_out=snakemake.output.features,
    objects_out=snakemake.output.objects,
    failures_out=snakemake.output.failures,
    summary_out=snakemake.output.summary,
    info_dir=Path(snakemake.output.info).parent,
    name=f"galaxies/{snakemake.wildcards.source}",
    seed=snakemake.params.seed,
    source=snakemake.wildcards.source,
)
