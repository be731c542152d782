"""Snakemake adapter: rule features_gather -> astroanom.pipeline.features.gather_step, then
scale_step on what it gathered (one job). Given no shards, the job makes the run's one shard
itself first (astroanom.pipeline.features.shards_to_gather)."""

from pathlib import Path

from astroanom.pipeline.features import gather_step, scale_step, shards_to_gather
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
i, o, p = snakemake.input, snakemake.output, snakemake.params
scratch_in = Path(o.raw).parent
with shards_to_gather(
    i.shards,
    i.manifest,
    p.shard_features,
    p.workdir,
    p.source,
    p.seed,
    scratch_in,
    snakemake.threads,
) as (shards, workdir):
    gather_step(
        shards=shards,
        manifest=i.manifest,
        source_truth=i.truth,
        source_failures=i.failures,
        features=p.features,
        truth=p.truth,
        oracle=p.oracle,
        workdir=workdir,
        info_in=i.info,
        name=p.name,
        seed=p.seed,
        features_out=o.raw,
        objects_out=o.objects,
        truth_out=o.truth,
        failures_out=o.failures,
        summary_out=o.summary,
        same_as=i.same_as_raw or None,  # the first seed's table, if shared
    )
    scale_step(
        features_in=o.raw,
        features_out=o.features,
        params_json=o.params,
        method=p.method,
        pca=p.pca,
        seed=p.seed,
        same_as=i.same_as or None,  # the first seed's table, if shared
        hard_link=p.hard_link,
    )
