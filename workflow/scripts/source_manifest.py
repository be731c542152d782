"""Snakemake adapter: rule source_manifest -> astroanom.pipeline.features.manifest_step."""

from astroanom.pipeline.features import manifest_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
manifest_step(
    source=snakemake.params.source,
    workdir=snakemake.params.workdir,
    seed=snakemake.params.seed,
    manifest_out=snakemake.output.manifest,
    source_truth_out=snakemake.output.truth,
    failures_out=snakemake.output.failures,
    info_out=snakemake.output.info,
    threads=snakemake.threads,
    truth=snakemake.params.truth,
)
