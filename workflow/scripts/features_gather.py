"""Snakemake adapter: rule features_gather -> astroanom.pipeline.features.gather_step."""

from astroanom.pipeline.features import gather_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
gather_step(
    shards=snakemake.input.shards,
    manifest=snakemake.input.manifest,
    source_truth=snakemake.input.truth,
    source_failures=snakemake.input.failures,
    features=snakemake.params.features,
    truth=snakemake.params.truth,
    oracle=snakemake.params.oracle,
    workdir=snakemake.params.workdir,
    info_in=snakemake.input.info,
    name=snakemake.params.name,
    seed=snakemake.params.seed,
    features_out=snakemake.output.features,
    objects_out=snakemake.output.objects,
    truth_out=snakemake.output.truth,
    failures_out=snakemake.output.failures,
    summary_out=snakemake.output.summary,
    same_as=snakemake.input.same_as or None,  # the first seed's table, if shared
)
