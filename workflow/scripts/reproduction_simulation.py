"""Snakemake adapter: rule reproduction_simulation -> astroanom.pipeline.simulation.reproduction_step."""

from astroanom.pipeline.simulation import reproduction_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
reproduction_step(
    presets=snakemake.params.presets,
    metrics_by_seed=snakemake.input.metrics_by_seed,
    rounds=snakemake.input.rounds,
    timing=snakemake.input.timing,
    out_md=snakemake.output.md,
    seeds=snakemake.params.seeds,
    top=snakemake.params.top,
    descriptions=snakemake.params.descriptions,
)
