"""Snakemake adapter: rule timing_simulation -> astroanom.simulation_steps.timing_step."""

from astroanom.runtime import configure
from astroanom.simulation_steps import timing_step

configure(snakemake.log[0], snakemake.threads)
timing_step(
    detect=snakemake.input.detect,
    active=snakemake.input.active,
    incremental=snakemake.input.incremental,
    embedding=snakemake.input.embedding,
    simulate=snakemake.input.simulate,
    out_csv=snakemake.output.csv,
    out_md=snakemake.output.md,
    detector=snakemake.params.detector,
    n_labels=snakemake.params.n_labels,
    n_embed=snakemake.params.n_embed,
)
