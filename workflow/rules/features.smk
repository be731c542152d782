# Features of every object, in shards of `features.shard_size` objects (one job each, so a
# cluster spreads them), gathered row for row, then scaled as the detector will see them.


include: "helpers/features.smk"


rule features_shard:
    input:
        manifest=run_file("manifest.parquet"),
    output:
        shard=f"{RESULTS}/{{run}}/shards/shard{{shard}}.parquet",
    log:
        f"{LOGS}/{{run}}/features_shard{{shard}}.log",
    benchmark:
        f"{BENCH}/{{run}}/features_shard{{shard}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        shard=lambda w: int(w.shard),
        features=lambda w: ds(w)["features"],
        workdir=lambda w: f"{RESULTS}/{w.run}",
    script:
        "../scripts/features_shard.py"


rule features_gather:
    input:
        shards=shard_files,
        manifest=run_file("manifest.parquet"),
        truth=run_file("source/truth.parquet"),
        failures=run_file("source/failures.csv"),
        info=run_file("source/info.json"),
    output:
        features=f"{RESULTS}/{{run}}/features_raw.parquet",
        objects=f"{RESULTS}/{{run}}/objects.parquet",
        truth=f"{RESULTS}/{{run}}/truth.parquet",
        failures=f"{RESULTS}/{{run}}/failures.csv",
        summary=f"{RESULTS}/{{run}}/summary.json",
        info=f"{RESULTS}/{{run}}/dataset.json",
    log:
        f"{LOGS}/{{run}}/features_gather.log",
    benchmark:
        f"{BENCH}/{{run}}/features_gather.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        features=lambda w: ds(w)["features"],
        truth=lambda w: ds(w).get("truth"),
        oracle=lambda w: ds(w)["oracle"],
        workdir=lambda w: f"{RESULTS}/{w.run}",
        name=lambda w: run_of(w).name,
        seed=run_seed,
    script:
        "../scripts/features_gather.py"


rule features_scale:
    input:
        features=run_file("features_raw.parquet"),
    output:
        features=f"{RESULTS}/{{run}}/features.parquet",
        params=f"{RESULTS}/{{run}}/scaler.json",
    log:
        f"{LOGS}/{{run}}/features_scale.log",
    benchmark:
        f"{BENCH}/{{run}}/features_scale.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        method=lambda w: ds(w)["scale"],
        pca=lambda w: ds(w)["pca"],
        seed=run_seed,
    script:
        "../scripts/features_scale.py"
