# Active learning on any dataset directory: simulated-oracle labels -> relevance regressor -> S^.


rule active_learning:
    input:
        features=f"{RESULTS}/{{dataset}}/features.parquet",
        scores=f"{RESULTS}/{{dataset}}/scores.parquet",
        objects=f"{RESULTS}/{{dataset}}/objects.parquet",
        labels=human_labels,  # oracle mode human: the labeller's label file (see common.smk)
    output:
        active=f"{RESULTS}/{{dataset}}/active.parquet",
    log:
        f"{LOGS}/{{dataset}}/active_learning.log",
    benchmark:
        f"{BENCH}/{{dataset}}/active_learning.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        oracle=lambda w: dataset_settings(w.dataset)["oracle"],
        labels=human_labels_param,
        n_labels=lambda w: dataset_settings(w.dataset)["oracle"]["budget"],
        alpha=al_cfg().get("alpha", 1.0),
        n_estimators=al_cfg().get("n_estimators", 100),
        seed=lambda w: dataset_settings(w.dataset)["seed"],
    script:
        "../scripts/active_learning.py"


rule active_learning_incremental:
    input:
        features=f"{RESULTS}/{{dataset}}/features.parquet",
        scores=f"{RESULTS}/{{dataset}}/scores.parquet",
        objects=f"{RESULTS}/{{dataset}}/objects.parquet",
    output:
        rounds=f"{RESULTS}/{{dataset}}/rounds.parquet",
    log:
        f"{LOGS}/{{dataset}}/active_learning_incremental.log",
    benchmark:
        f"{BENCH}/{{dataset}}/active_learning_incremental.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 2
    resources:
        mem_mb=4000,
    params:
        oracle=lambda w: dataset_settings(w.dataset)["oracle"],
        batch=lambda w: dataset_settings(w.dataset)["oracle"]["batch"],
        budget=lambda w: dataset_settings(w.dataset)["oracle"]["budget"],
        alpha=al_cfg().get("alpha", 1.0),
        n_estimators=al_cfg().get("n_estimators", 100),
        seed=lambda w: dataset_settings(w.dataset)["seed"],
    script:
        "../scripts/active_learning_incremental.py"
