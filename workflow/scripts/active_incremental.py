"""Snakemake adapter: rule active_incremental -> astroanom.pipeline.active.incremental_step."""

from astroanom.pipeline.active import incremental_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
incremental_step(
    features=snakemake.input.features,
    scores=snakemake.input.scores,
    truth=snakemake.input.truth,
    rounds=snakemake.output.rounds,
    oracle=snakemake.params.oracle,
    truth_spec=snakemake.params.truth_spec,
    strategy=snakemake.params.strategy,
    shared=snakemake.params.shared,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    known=snakemake.params.known,
    keep_top=snakemake.params.keep_top,
)
