# Metrics against the truth, made only for datasets that have truth: per-class tables for
# class truth (aggregated over a dataset's seeds), anomalies in the first N viewed for any truth.


include: "helpers/evaluate.smk"


rule evaluate_classes:
    input:
        truth=RUN.truth,
        active=RUN.active,
        rounds=RUN.rounds,
    output:
        metrics=RUN.class_metrics,
        rounds=RUN.class_rounds,
        curves=RUN.class_curves,
    log:
        logs("evaluate_classes"),
    benchmark:
        benchmarks("evaluate_classes")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        class_ids=lambda w: ds(w)["truth"]["anomaly_classes"],
        ns=lambda w: ds(w)["metrics"]["rws_table_n"],
        top=lambda w: ds(w)["metrics"]["fig7_n"],
        curve_max_n=lambda w: ds(w)["metrics"]["curve_max_n"],
    script:
        "../scripts/evaluate_classes.py"


rule evaluate_aggregate:
    input:
        metrics=seed_files("class_metrics"),
        rounds=seed_files("class_rounds"),
        curves=seed_files("class_curves"),
    output:
        metrics_by_seed=DATASET.metrics_by_seed,
        metrics=report(
            DATASET.metrics,
            caption="../report/sim_metrics.rst",
            category="Evaluation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "table": "RWS and recall"},
        ),
        rounds=report(
            DATASET.rounds_csv,
            caption="../report/sim_rounds.rst",
            category="Evaluation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "table": "incremental rounds"},
        ),
        curves=DATASET.curves,
    log:
        logs("evaluate_aggregate", "{dataset}"),
    benchmark:
        benchmarks("evaluate_aggregate", "{dataset}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seeds=lambda w: [r.seed for r in acfg.runs(config, w.dataset)],
    script:
        "../scripts/evaluate_aggregate.py"


rule evaluate_first_n:
    input:
        truth=RUN.truth,
        active=RUN.active,
        rounds=rounds_input,
    output:
        curves=RUN.recall_curves,
        first_n=report(
            RUN.first_n,
            caption="../report/gal_first_n.rst",
            category="Evaluation",
            subcategory="{run}",
            labels={"dataset": "{run}", "table": "anomalies in first N"},
        ),
    log:
        logs("evaluate_first_n"),
    benchmark:
        benchmarks("evaluate_first_n")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        truth_spec=lambda w: ds(w)["truth"],
        detector=lambda w: ds(w)["detector"]["name"],
        seed=run_seed,
        max_n=lambda w: ds(w)["figures"]["recall_max_n"],
        first_n=lambda w: ds(w)["figures"]["first_n"],
    script:
        "../scripts/evaluate_first_n.py"
