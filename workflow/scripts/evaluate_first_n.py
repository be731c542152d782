"""Snakemake adapter: rule evaluate_first_n (a human oracle's run) -> astroanom.pipeline.evaluate.first_n_step."""

from astroanom.pipeline.evaluate import first_n_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
first_n_step(
    truth=snakemake.input.truth,
    active=snakemake.input.active,
    rounds=None,  # a human oracle: no incremental loop (a simulated run: active_simulated.py)
    curves_out=snakemake.output.curves,
    first_n_out=snakemake.output.first_n,
    truth_spec=snakemake.params.truth_spec,
    detector_name=snakemake.params.detector,
    seed=snakemake.params.seed,
    max_n=snakemake.params.max_n,
    first_n=snakemake.params.first_n,
)
