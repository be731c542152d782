"""Snakemake adapter: rule embedding -> astroanom.pipeline.embedding.embedding_step."""

from astroanom.pipeline.embedding import embedding_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
embedding_step(
    features=snakemake.input.features,
    scores=snakemake.input.scores,
    embedding=snakemake.output.embedding,
    n_objects=snakemake.params.n_objects,
    perplexity=snakemake.params.perplexity,
    include_top=snakemake.params.include_top,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    method=snakemake.params.method,
    params=snakemake.params.embed_params,
)
