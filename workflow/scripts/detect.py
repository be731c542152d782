"""Snakemake adapter: rule detect -> astroanom.pipeline.detect.detect_step."""

from astroanom.pipeline.detect import detect_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
detect_step(
    features=snakemake.input.features,
    scores=snakemake.output.scores,
    detector=snakemake.params.detector,
    seed=snakemake.params.seed,
    threads=snakemake.threads,
    state=snakemake.output.get("state"),  # the bundle's part; none in benchmark cells
)
