"""Snakemake adapter: rule evaluate_aggregate -> astroanom.pipeline.evaluate.aggregate_step."""

from astroanom.pipeline.evaluate import aggregate_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
aggregate_step(
    seeds=snakemake.params.seeds,
    metrics=snakemake.input.metrics,
    rounds=snakemake.input.rounds,
    curves=snakemake.input.curves,
    out_metrics_by_seed=snakemake.output.metrics_by_seed,
    out_metrics=snakemake.output.metrics,
    out_rounds=snakemake.output.rounds,
    out_curves=snakemake.output.curves,
)
