"""Snakemake adapter: rule features_scale -> astroanom.pipeline.features.scale_step."""

from astroanom.pipeline.features import scale_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
scale_step(
    features_in=snakemake.input.features,
    features_out=snakemake.output.features,
    params_json=snakemake.output.params,
    method=snakemake.params.method,
    pca=snakemake.params.pca,
    seed=snakemake.params.seed,
    same_as=snakemake.input.same_as or None,  # the first seed's table, if shared
    hard_link=snakemake.params.get("hard_link", False),
)
