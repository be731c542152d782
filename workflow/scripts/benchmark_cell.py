"""Snakemake adapter: rule benchmark_cell -> astroanom.pipeline.benchmark.cell_step."""

from astroanom.pipeline.benchmark import cell_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
cell_step(
    features=snakemake.input.features,
    truth=snakemake.input.truth,
    scores=snakemake.input.scores,
    cell=snakemake.output.cell,
    curve=snakemake.output.curve,
    keys=snakemake.params.cell_keys,
    strategy=snakemake.params.strategy,
    shared=snakemake.params.shared,
    oracle=snakemake.params.oracle,
    truth_spec=snakemake.params.truth_spec,
    batch=snakemake.params.batch,
    budget=snakemake.params.budgets,
    ns=snakemake.params.ns,
    first_viewed=snakemake.params.first_viewed,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    task=snakemake.params.task,
)
