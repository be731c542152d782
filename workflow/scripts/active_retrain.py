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
    label_files=snakemake.input.labels,
    dataset=snakemake.params.dataset,
    labels_cfg=snakemake.params.labels,
    labels_used=snakemake.output.labels_used,
    known=snakemake.params.known,
    state=snakemake.output.state,
)
