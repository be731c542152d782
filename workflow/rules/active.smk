# Active learning with the dataset's strategy: the single retrain (simulated oracle: one round
# of `budget` labels; human oracle: every user's label file of the run, combined into one
# relevance per object by labels.combine; they are then the only label-dependent inputs) and,
# for a simulated oracle, the incremental loop (`batch` labels per round). Both start from the
# dataset's known examples (`known:`; its CSV is an input, so editing it reruns them).
# A human-oracle run retrains alone (rule active_retrain: a label change reruns only it and
# what reads its outputs). A simulated run does everything that follows from its truth in one
# job (each step alone is ~1 s of work against ~0.5 s of a process's start-up): the retrain,
# the incremental loop, the first-N metrics (rules/evaluate.smk's evaluate_first_n for a human
# oracle) and, with class truth, the per-class tables (rule active_simulated_classes). Each
# step writes its own benchmark file (results/benchmarks/<run>/steps/<step>.tsv).


include: "helpers/active.smk"


rule active_retrain:
    input:
        features=RUN.features,
        scores=RUN.scores,
        truth=truth_input,
        labels=human_labels,
        known=known_input,
    output:
        active=RUN.active,
        labels_used=RUN.labels_used,
        state=RUN.bundle_relevance,
    log:
        logs("active_retrain"),
    benchmark:
        benchmarks("active_retrain")
    wildcard_constraints:
        run=oracle_runs_regex("human"),
    conda:
        ENV
    threads: threads_by_objects()
    resources:
        mem_mb=4000,
    params:
        oracle=lambda w: ds(w)["oracle"],
        strategy=lambda w: ds(w)["strategy"],
        shared=config["active_learning"],
        truth_spec=lambda w: ds(w).get("truth"),
        labels=retrain_labels_params,
        dataset=lambda w: w.run,
        known=lambda w: ds(w)["known"],
        seed=run_seed,
    script:
        "../scripts/active_retrain.py"


rule active_simulated:
    input:
        features=RUN.features,
        scores=RUN.scores,
        truth=RUN.truth,
        labels=human_labels,
        known=known_input,
    output:
        **simulated_outputs(classes=False),
    log:
        logs("active_simulated"),
    benchmark:
        benchmarks("active_simulated")
    wildcard_constraints:
        run=oracle_runs_regex("simulated", classes=False),
    conda:
        ENV
    threads: threads_by_objects()
    resources:
        mem_mb=4000,
    params:
        **simulated_params(classes=False),
    script:
        "../scripts/active_simulated.py"


use rule active_simulated as active_simulated_classes with:
    output:
        **simulated_outputs(classes=True),
    wildcard_constraints:
        run=oracle_runs_regex("simulated", classes=True),
    params:
        **simulated_params(classes=True),
