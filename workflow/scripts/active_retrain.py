"""Snakemake adapter: rule active_retrain -> astroanom.pipeline.active.retrain_step."""

from astroanom.pipeline.active import retrain_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
retrain_step(
    features=snakemake.input.features,
    scores=snakemake.input.scores,
    active=snakemake.output.active,
    oracle=snakemake.params.oracle,
    strategy=snakemake.params.strategy,
    shared=snakemake.params.shared,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    truth=snakemake.input.truth[0] if snakemake.input.truth else None,
    truth_spec=snakemake.params.truth_spec,
    labels_file=snakemake.params.labels_file,
    dataset=snakemake.params.dataset,
    state=snakemake.output.state,
)
