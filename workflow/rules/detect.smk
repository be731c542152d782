# Anomaly detection on any dataset directory: features -> S on 0..5.


rule detect:
    input:
        features=f"{RESULTS}/{{dataset}}/features.parquet",
    output:
        scores=f"{RESULTS}/{{dataset}}/scores.parquet",
    log:
        f"{LOGS}/{{dataset}}/detect.log",
    benchmark:
        f"{BENCH}/{{dataset}}/detect.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 2
    resources:
        mem_mb=6000,
    params:
        detector=lambda w: dataset_settings(w.dataset)["detector"],
        seed=lambda w: dataset_settings(w.dataset)["seed"],
    script:
        "../scripts/detect.py"
