"""Snakemake adapter: rule active_simulated (and active_simulated_classes) -> in one process,
astroanom.pipeline.active.retrain_step (the single retrain), incremental_step (the loop),
then astroanom.pipeline.evaluate.first_n_step (first-N metrics) and, with class truth,
classes_step (per-class tables); each reads the previous steps' outputs from disk and writes
its own benchmark file (timing.timed_step)."""

from astroanom.evaluate.timing import timed_step
from astroanom.pipeline.active import incremental_step, retrain_step
from astroanom.pipeline.evaluate import classes_step, first_n_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
i, o, p = snakemake.input, snakemake.output, snakemake.params
with timed_step(o.bench_active_retrain):
    retrain_step(
        features=i.features,
        scores=i.scores,
        active=o.active,
        oracle=p.oracle,
        strategy=p.strategy,
        shared=p.shared,
        seed=p.seed,
        threads=snakemake.threads,
        truth=i.truth,
        truth_spec=p.truth_spec,
        label_files=i.labels,
        dataset=p.dataset,
        labels_cfg=p.labels,
        labels_used=o.labels_used,
        known=p.known,
        state=o.state,
    )
with timed_step(o.bench_active_incremental):
    incremental_step(
        features=i.features,
        scores=i.scores,
        truth=i.truth,
        rounds=o.rounds,
        oracle=p.oracle,
        truth_spec=p.truth_spec,
        strategy=p.strategy,
        shared=p.shared,
        seed=p.seed,
        threads=snakemake.threads,
        known=p.known,
        keep_top=p.keep_top,
    )
with timed_step(o.bench_evaluate_first_n):
    first_n_step(
        truth=i.truth,
        active=o.active,
        rounds=o.rounds,
        curves_out=o.curves,
        first_n_out=o.first_n,
        truth_spec=p.truth_spec,
        detector_name=p.detector,
        seed=p.seed,
        max_n=p.max_n,
        first_n=p.first_n,
    )
if o.get("class_metrics"):  # active_simulated_classes
    with timed_step(o.bench_evaluate_classes):
        classes_step(
            truth=i.truth,
            active=o.active,
            rounds=o.rounds,
            metrics_csv=o.class_metrics,
            rounds_csv=o.class_rounds,
            curves=o.class_curves,
            class_ids=p.class_ids,
            ns=p.ns,
            top=p.top,
            curve_max_n=p.curve_max_n,
        )
