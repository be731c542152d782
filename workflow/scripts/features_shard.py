"""Snakemake adapter: rule features_shard -> astroanom.pipeline.features.shard_step."""

from astroanom.pipeline.features import shard_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
shard_step(
    manifest=snakemake.input.manifest,
    shard=snakemake.params.shard,
    features=snakemake.params.features,
    workdir=snakemake.params.workdir,
    out=snakemake.output.shard,
    threads=snakemake.threads,
)
