# Experiment 2 data: synthetic galaxy cutouts (default, no network) and the image manifest of
# the configured source. The manifest is a checkpoint: its length sets the number of shards.


GZ_RES = "resources/galaxy_zoo"


wildcard_constraints:
    source="synthetic|galaxy_zoo|kaggle|folder",
    shard=r"\d+",


rule galaxies_synthetic:
    output:
        images=directory(f"{RESULTS}/galaxies/synthetic/images"),
        catalogue=f"{RESULTS}/galaxies/synthetic/catalogue.parquet",
    log:
        f"{LOGS}/galaxies/synthetic/generate.log",
    benchmark:
        f"{BENCH}/galaxies/synthetic/generate.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 2
    resources:
        mem_mb=1500,
    params:
        cfg=lambda w: gal_cfg().get("synthetic", {}),
        seed=SEEDS[0],
    script:
        "../scripts/galaxies_synthetic.py"


checkpoint galaxies_manifest:
    input:
        unpack(manifest_inputs),
    output:
        manifest=f"{RESULTS}/galaxies/{{source}}/manifest.parquet",
        label_failures=f"{RESULTS}/galaxies/{{source}}/label_failures.csv",
    log:
        f"{LOGS}/galaxies/{{source}}/manifest.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/manifest.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        source=lambda w: w.source,
        params=lambda w: gal_cfg().get(w.source, {}),
        threshold=gal_cfg().get("anomaly_threshold", 0.9),
        seed=SEEDS[0],
    script:
        "../scripts/galaxies_manifest.py"
