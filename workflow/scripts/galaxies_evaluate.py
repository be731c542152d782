"""Snakemake adapter: rule galaxies_evaluate -> astroanom.pipeline.galaxies.evaluate_step."""

from astroanom.pipeline.galaxies import evaluate_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
evaluate_step(
    objects=snakemake.input.objects,
    active=snakemake.input.active,
    rounds=snakemake.input.rounds,
    curves_out=snakemake.output.curves,
    first_n_out=snakemake.output.first_n,
    seed=snakemake.params.seed,
    max_n=snakemake.params.max_n,
)
