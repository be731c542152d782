# Anomaly detection: the dataset's detector on its scaled features -> S on 0..5.


rule detect:
    input:
        features=RUN.features,
    output:
        scores=RUN.scores,
        state=RUN.bundle_detector,
    log:
        logs("detect"),
    benchmark:
        benchmarks("detect")
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
