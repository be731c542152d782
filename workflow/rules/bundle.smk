# The run's model bundle: what it fitted (scaling, detector, relevance model, learned encoder's
# model file), for `astroanom score <dataset> <new objects>` (docs/scoring.md).


include: "helpers/bundle.smk"


rule bundle:
    input:
        info=RUN.dataset_json,
        scaler=RUN.scaler,
        detector=RUN.bundle_detector,
        relevance=RUN.bundle_relevance,
        models=shard_models,
    output:
        bundle=RUN.bundle,
    log:
        logs("bundle"),
    benchmark:
        benchmarks("bundle")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        run=lambda w: w.run,
        seed=run_seed,
        features=shard_features,
        models=bundle_models,
        scale=lambda w: ds(w)["scale"],
        pca=lambda w: ds(w)["pca"],
        source_kind=lambda w: ds(w)["source"]["kind"],
    script:
        "../scripts/bundle.py"
