"""Snakemake adapter: rule export -> astroanom.pipeline.export.export_step."""

from pathlib import Path

from astroanom.pipeline.export import export_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
export_step(
    run_dir=Path(snakemake.input.active).parent,
    label_files=snakemake.input.labels,
    out_dir=snakemake.params.out_dir,
    threshold=snakemake.params.threshold,
    top_n=snakemake.params.top_n,
    title=snakemake.params.title,
    crossmatch=snakemake.params.crossmatch,
    stretch=snakemake.params.stretch,
)
