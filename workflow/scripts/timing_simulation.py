"""Snakemake adapter: rule timing_simulation -> astroanom.pipeline.simulation.timing_step."""

from astroanom.pipeline.simulation import timing_step
from astroanom.runtime import configure

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
