"""Snakemake adapter: rule evaluate_classes -> astroanom.pipeline.evaluate.classes_step."""

from astroanom.pipeline.evaluate import classes_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
classes_step(
    truth=snakemake.input.truth,
    active=snakemake.input.active,
    rounds=snakemake.input.rounds,
    metrics_csv=snakemake.output.metrics,
    rounds_csv=snakemake.output.rounds,
    curves=snakemake.output.curves,
    class_ids=snakemake.params.class_ids,
    ns=snakemake.params.ns,
    top=snakemake.params.top,
    curve_max_n=snakemake.params.curve_max_n,
)
