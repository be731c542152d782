# Active learning with the dataset's strategy: the single retrain (simulated oracle: one round
# of `budget` labels; human oracle: every user's label file of the run, combined into one
# relevance per object by labels.combine; they are then the only label-dependent inputs) and
# the incremental loop (`batch` labels per round). Both start from the dataset's known
# examples (`known:`; its CSV is an input, so editing it reruns them).


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


rule active_incremental:
    input:
        features=RUN.features,
        scores=RUN.scores,
        truth=RUN.truth,
        known=known_input,
    output:
        rounds=RUN.rounds,
    log:
        logs("active_incremental"),
    benchmark:
        benchmarks("active_incremental")
    conda:
        ENV
    threads: threads_by_objects()
    resources:
        mem_mb=4000,
    params:
        oracle=lambda w: ds(w)["oracle"],
        truth_spec=lambda w: ds(w)["truth"],
        strategy=lambda w: ds(w)["strategy"],
        shared=config["active_learning"],
        known=lambda w: ds(w)["known"],
        seed=run_seed,
        # intermediate rounds keep their top 1000 (>= Fig. 7's top N): rounds.parquet ~2 n floats
        keep_top=lambda w: max(1000, int(ds(w)["metrics"]["fig7_n"])),
    script:
        "../scripts/active_incremental.py"
