# Ellipse-fitting features (paper Appendix B), sharded: one job per `shard_size` images of the
# manifest, gathered in manifest order into one table (identical to an unsharded run).


rule galaxies_features_shard:
    input:
        manifest=f"{RESULTS}/galaxies/{{source}}/manifest.parquet",
    output:
        shard=f"{RESULTS}/galaxies/{{source}}/shards/shard{{shard}}.parquet",
    log:
        f"{LOGS}/galaxies/{{source}}/shards/shard{{shard}}.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/shards/shard{{shard}}.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        shard=lambda w: int(w.shard),
        shard_size=gal_cfg().get("shard_size", 1000),
        n_sigma=gal_cfg().get("n_sigma", 3.0),
        channel=gal_cfg().get("channel", 0),
    script:
        "../scripts/galaxies_features_shard.py"


rule galaxies_gather:
    input:
        shards=gal_shard_files,
        manifest=f"{RESULTS}/galaxies/{{source}}/manifest.parquet",
        label_failures=f"{RESULTS}/galaxies/{{source}}/label_failures.csv",
    output:
        features=f"{RESULTS}/galaxies/{{source}}/features_raw.parquet",
        objects=f"{RESULTS}/galaxies/{{source}}/objects.parquet",
        failures=f"{RESULTS}/galaxies/{{source}}/failures.csv",
        summary=f"{RESULTS}/galaxies/{{source}}/summary.json",
        info=f"{RESULTS}/galaxies/{{source}}/dataset.json",
    log:
        f"{LOGS}/galaxies/{{source}}/gather.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/gather.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seed=SEEDS[0],
    script:
        "../scripts/galaxies_gather.py"
