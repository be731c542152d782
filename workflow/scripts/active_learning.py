"""Snakemake adapter: rule active_learning -> astroanom.pipeline.steps.retrain_step."""

from astroanom.pipeline.steps import retrain_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
retrain_step(
    features=snakemake.input.features,
    scores=snakemake.input.scores,
    objects=snakemake.input.objects,
    active=snakemake.output.active,
    oracle=snakemake.params.oracle,
    n_labels=snakemake.params.n_labels,
    alpha=snakemake.params.alpha,
    n_estimators=snakemake.params.n_estimators,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    labels_file=snakemake.params.labels,
)
