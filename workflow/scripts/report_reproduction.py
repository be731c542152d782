"""Snakemake adapter: rule report_reproduction -> astroanom.pipeline.report.reproduction_step."""

from astroanom.pipeline.report import reproduction_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
reproduction_step(
    presets=snakemake.params.presets,
    metrics_by_seed=snakemake.input.metrics_by_seed,
    rounds=snakemake.input.rounds,
    out_md=snakemake.output.md,
    seeds=snakemake.params.seeds,
    top=snakemake.params.top,
    descriptions=snakemake.params.descriptions,
)
