# Metrics against the truth, made only for datasets that have truth: per-class tables for
# class truth, aggregated over a dataset's seeds (rule evaluate_aggregate), and anomalies in
# the first N viewed for any truth. A simulated oracle's run makes its per-run metrics in its
# active-learning job (rules/active.smk: active_simulated, active_simulated_classes, which run
# first_n_step and classes_step after the incremental loop); rule evaluate_first_n makes them
# for a human oracle's run (the retrained ranking against the truth; no incremental loop).


include: "helpers/evaluate.smk"


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
    wildcard_constraints:
        run=human_runs_regex(),
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
