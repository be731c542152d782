"""Snakemake adapter: rule features_gather -> astroanom.pipeline.features.gather_step, then
scale_step on what it gathered (one job)."""

from astroanom.pipeline.features import gather_step, scale_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
i, o, p = snakemake.input, snakemake.output, snakemake.params
gather_step(
    shards=i.shards,
    manifest=i.manifest,
    source_truth=i.truth,
    source_failures=i.failures,
    features=p.features,
    truth=p.truth,
    oracle=p.oracle,
    workdir=p.workdir,
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
