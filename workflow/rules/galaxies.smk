# Experiment 2 data: synthetic galaxy cutouts (default, no network) and the image manifest of
# the configured source. The manifest is a checkpoint: its length sets the number of shards.


def gal_cfg():
    return config.get("galaxies", {})


def gal_enabled():
    return gal_cfg().get("enabled", False)


def gal_source():
    return gal_cfg().get("source", "synthetic")


def gal_dir(source=None):
    return f"{RESULTS}/galaxies/{source or gal_source()}"


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
    threads: 2
    resources:
        mem_mb=1500,
    params:
        cfg=lambda w: gal_cfg().get("synthetic", {}),
        seed=SEEDS[0],
    script:
        "../scripts/galaxies_synthetic.py"


def manifest_inputs(w):
    if w.source == "synthetic":
        return {"catalogue": f"{RESULTS}/galaxies/synthetic/catalogue.parquet"}
    if w.source == "galaxy_zoo":
        return {
            "images": f"{GZ_RES}/gz2/images",
            "mapping": f"{GZ_RES}/gz2/gz2_filename_mapping.csv",
            "labels": f"{GZ_RES}/gz2/gz2_hart16.csv.gz",
        }
    if w.source == "kaggle":
        return {
            "images": f"{GZ_RES}/kaggle/images_training_rev1",
            "solutions": f"{GZ_RES}/kaggle/training_solutions_rev1.csv",
        }
    return {}


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
