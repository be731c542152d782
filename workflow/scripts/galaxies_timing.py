"""Snakemake adapter: rule galaxies_timing -> astroanom.pipeline.galaxies.timing_table_step."""

from astroanom.pipeline.galaxies import timing_table_step
from astroanom.runtime import configure

configure(snakemake.log[0], 1)
timing_table_step(snakemake.params.bench, snakemake.params.notes, snakemake.output.table)
