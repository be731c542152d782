"""Snakemake adapter: rule bundle -> astroanom.pipeline.bundle.bundle_step."""

from astroanom.pipeline.bundle import bundle_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
bundle_step(
    snakemake.output.bundle,
    run=snakemake.params.run,
    seed=snakemake.params.seed,
    dataset_json=snakemake.input.info,
    scaler_json=snakemake.input.scaler,
    detector=snakemake.input.detector,
    relevance=snakemake.input.relevance,
    features=snakemake.params.features,
    scale=snakemake.params.scale,
    pca=snakemake.params.pca,
    source_kind=snakemake.params.source_kind,
    models=snakemake.params.models,
)
