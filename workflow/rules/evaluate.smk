# Metrics against the truth, made only for datasets that have truth: per-class tables for
# class truth (aggregated over a dataset's seeds), anomalies in the first N viewed for any truth.


include: "helpers/evaluate.smk"


rule evaluate_classes:
    input:
        truth=run_file("truth.parquet"),
        active=run_file("active.parquet"),
        rounds=run_file("rounds.parquet"),
    output:
        metrics=f"{RESULTS}/{{run}}/class_metrics.csv",
        rounds=f"{RESULTS}/{{run}}/class_rounds.csv",
        curves=f"{RESULTS}/{{run}}/class_curves.parquet",
    log:
        f"{LOGS}/{{run}}/evaluate_classes.log",
    benchmark:
        f"{BENCH}/{{run}}/evaluate_classes.tsv"
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
        metrics=seed_files("class_metrics.csv"),
        rounds=seed_files("class_rounds.csv"),
        curves=seed_files("class_curves.parquet"),
    output:
        metrics_by_seed=f"{RESULTS}/{{dataset}}/metrics_by_seed.csv",
        metrics=report(
            f"{RESULTS}/{{dataset}}/metrics.csv",
            caption="../report/sim_metrics.rst",
            category="Simulation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "table": "RWS and recall"},
        ),
        rounds=report(
            f"{RESULTS}/{{dataset}}/rounds.csv",
            caption="../report/sim_rounds.rst",
            category="Simulation",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "table": "incremental rounds"},
        ),
        curves=f"{RESULTS}/{{dataset}}/curves.parquet",
    log:
        f"{LOGS}/{{dataset}}/evaluate_aggregate.log",
    benchmark:
        f"{BENCH}/{{dataset}}/evaluate_aggregate.tsv"
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
        truth=run_file("truth.parquet"),
        active=run_file("active.parquet"),
        rounds=rounds_input,
    output:
        curves=f"{RESULTS}/{{run}}/recall_curves.parquet",
        first_n=report(
            f"{RESULTS}/{{run}}/anomalies_first_n.csv",
            caption="../report/gal_first_n.rst",
            category="Evaluation",
            subcategory="{run}",
            labels={"dataset": "{run}", "table": "anomalies in first N"},
        ),
    log:
        f"{LOGS}/{{run}}/evaluate_first_n.log",
    benchmark:
        f"{BENCH}/{{run}}/evaluate_first_n.tsv"
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
