# Active learning with the dataset's strategy: the single retrain (simulated oracle: one round
# of `budget` labels; human oracle: the user's label file, which is then the only
# label-dependent input) and the incremental loop (`batch` labels per round).


include: "helpers/active.smk"


rule active_retrain:
    input:
        features=RUN.features,
        scores=RUN.scores,
        truth=truth_input,
        labels=human_labels,
    output:
        active=RUN.active,
    log:
        logs("active_retrain"),
    benchmark:
        benchmarks("active_retrain")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
    params:
        oracle=lambda w: ds(w)["oracle"],
        strategy=lambda w: ds(w)["strategy"],
        shared=config["active_learning"],
        truth_spec=lambda w: ds(w).get("truth"),
        labels_file=lambda w: labels_file(w.run),
        dataset=lambda w: w.run,
        seed=run_seed,
    script:
        "../scripts/active_retrain.py"


rule active_incremental:
    input:
        features=RUN.features,
        scores=RUN.scores,
        truth=RUN.truth,
    output:
        rounds=RUN.rounds,
    log:
        logs("active_incremental"),
    benchmark:
        benchmarks("active_incremental")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
    params:
        oracle=lambda w: ds(w)["oracle"],
        truth_spec=lambda w: ds(w)["truth"],
        strategy=lambda w: ds(w)["strategy"],
        shared=config["active_learning"],
        seed=run_seed,
        # intermediate rounds keep their top 1000 (>= Fig. 7's top N): rounds.parquet ~2 n floats
        keep_top=lambda w: max(1000, int(ds(w)["metrics"]["fig7_n"])),
    script:
        "../scripts/active_incremental.py"
