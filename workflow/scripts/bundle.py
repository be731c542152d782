"""Snakemake adapter: rule bundle -> astroanom.bundle.write_bundle (which needs numpy and the
standard library only, so the job starts without importing pandas)."""

from astroanom.bundle import write_bundle
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
p = snakemake.params
write_bundle(
    snakemake.output.bundle,
    run=p.run,
    seed=p.seed,
    dataset_json=snakemake.input.info,
    scaler_json=snakemake.input.scaler,
    detector=snakemake.input.detector,
    relevance=snakemake.input.relevance,
    features=p.features,
    scale=p.scale,
    pca=p.pca,
    source_kind=p.source_kind,
    models=p.models,
)
