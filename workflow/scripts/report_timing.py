"""Snakemake adapter: rule report_timing -> astroanom.pipeline.report.timing_step."""

from astroanom.pipeline.report import timing_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
timing_step(
    tasks=snakemake.params.tasks,
    notes=snakemake.params.notes,
    experiment=snakemake.params.experiment,
    title=snakemake.params.title,
    out_csv=snakemake.output.csv,
    out_md=snakemake.output.md,
    summed=snakemake.params.summed,
)
