"""Snakemake adapter: rule embedding -> astroanom.pipeline.simulation.embedding_step."""

from astroanom.pipeline.simulation import embedding_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
embedding_step(
    features=snakemake.input.features,
    active=snakemake.input.active,
    embedding=snakemake.output.embedding,
    n_objects=snakemake.params.n_objects,
    perplexity=snakemake.params.perplexity,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
)
