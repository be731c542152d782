"""Snakemake adapter: rule benchmark_collect -> astroanom.pipeline.benchmark.collect_step."""

from astroanom.pipeline.benchmark import collect_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
collect_step(
    cells=list(snakemake.input.cells),
    curves=list(snakemake.input.curves),
    detector_benchmarks={
        tuple(k): p
        for k, p in zip(
            snakemake.params.detector_keys, snakemake.input.detector_benchmarks, strict=True
        )
    },
    cell_benchmarks=list(snakemake.input.cell_benchmarks),
    table_parquet=snakemake.output.table,
    table_csv=snakemake.output.csv,
    summary_csv=snakemake.output.summary_csv,
    summary_md=snakemake.output.summary_md,
    figure_png=snakemake.output.png,
    figure_pdf=snakemake.output.pdf,
    first_viewed=snakemake.params.first_viewed,
    ns=snakemake.params.ns,
    tasks=snakemake.params.tasks,
    wins_csv=snakemake.output.wins_csv,
)
