"""Snakemake adapter: rule galaxies_features_shard -> astroanom.pipeline.galaxies.features_shard_step."""

from astroanom.pipeline.galaxies import features_shard_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
features_shard_step(
    manifest=snakemake.input.manifest,
    shard=snakemake.params.shard,
    shard_size=snakemake.params.shard_size,
    out=snakemake.output.shard,
    n_sigma=snakemake.params.n_sigma,
    channel=snakemake.params.channel,
)
