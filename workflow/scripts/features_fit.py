"""Snakemake adapter: rule features_fit -> astroanom.pipeline.features.fit_step."""

from astroanom.pipeline.features import fit_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
fit_step(
    manifest=snakemake.input.manifest,
    part=snakemake.params.part,
    workdir=snakemake.params.workdir,
    seed=snakemake.params.seed,
    model_out=snakemake.output.model,
    info_out=snakemake.output.info,
    threads=snakemake.threads,
)
