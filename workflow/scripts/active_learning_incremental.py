"""Snakemake adapter: rule active_learning_incremental -> astroanom.pipeline.steps.incremental_step."""

from astroanom.pipeline.steps import incremental_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
incremental_step(
    features=snakemake.input.features,
    scores=snakemake.input.scores,
    objects=snakemake.input.objects,
    rounds=snakemake.output.rounds,
    oracle=snakemake.params.oracle,
    batch=snakemake.params.batch,
    budget=snakemake.params.budget,
    alpha=snakemake.params.alpha,
    n_estimators=snakemake.params.n_estimators,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
)
