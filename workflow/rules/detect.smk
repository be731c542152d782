# Anomaly detection: the dataset's detector on its scaled features -> S on 0..5. A dataset's
# first run also keeps the fitted detector for its bundle (bundle.smk); the other seeds, whose
# bundle nobody builds, do not (for LOF that part holds every feature value again).


include: "helpers/detect.smk"


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
    wildcard_constraints:
        run=first_runs_regex(),
    conda:
        ENV
    threads: threads_by_objects()
    resources:
        mem_mb=6000,
    params:
        detector=lambda w: ds(w)["detector"],
        seed=run_seed,
    script:
        "../scripts/detect.py"


rule detect_seed:
    input:
        features=RUN.features,
    output:
        scores=RUN.scores,
    log:
        logs("detect"),
    benchmark:
        benchmarks("detect")
    wildcard_constraints:
        run=other_runs_regex(),
    conda:
        ENV
    threads: threads_by_objects()
    resources:
        mem_mb=6000,
    params:
        detector=lambda w: ds(w)["detector"],
        seed=run_seed,
    script:
        "../scripts/detect.py"
