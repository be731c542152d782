# Anomaly detection: the dataset's detector on its scaled features -> S on 0..5.


rule detect:
    input:
        features=run_file("features.parquet"),
    output:
        scores=f"{RESULTS}/{{run}}/scores.parquet",
    log:
        f"{LOGS}/{{run}}/detect.log",
    benchmark:
        f"{BENCH}/{{run}}/detect.tsv"
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=6000,
    params:
        detector=lambda w: ds(w)["detector"],
        seed=run_seed,
    script:
        "../scripts/detect.py"
