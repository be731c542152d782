"""Snakemake adapter: rule simulate -> astroanom.pipeline.steps.simulate_step."""

from astroanom.pipeline.steps import simulate_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
simulate_step(
    outdir=snakemake.output.features.rsplit("/", 1)[0],
    classes=snakemake.params.classes,
    counts=snakemake.params.counts,
    seed=int(snakemake.wildcards.seed),
    n_x=snakemake.params.n_x,
    noise_sd=snakemake.params.noise_sd,
    name=f"simulation/{snakemake.wildcards.preset}/seed{snakemake.wildcards.seed}",
)
