# Where a dataset's objects come from: the source's manifest (a checkpoint: its length sets the
# number of feature shards), the source's own truth columns and the objects it could not use.


def source_params(wildcards):
    """The source config of a run with what the reader needs resolved: a simulation preset's
    class definitions, the downloaded files of Galaxy Zoo and Kaggle."""
    src = dict(ds(wildcards)["source"])
    if src["kind"] == "simulation":
        src["classes"] = config["simulation_presets"][src["preset"]]["classes"]
    elif src["kind"] in ("galaxy_zoo", "kaggle"):
        src.update(source_inputs(wildcards))
        src.pop("resources")
    return src


def source_inputs(wildcards):
    """Downloaded files a source reads (rules in download.smk)."""
    src = ds(wildcards)["source"]
    res = src.get("resources")
    if src["kind"] == "galaxy_zoo":
        return {
            "images": f"{res}/gz2/images",
            "mapping": f"{res}/gz2/gz2_filename_mapping.csv",
            "labels": f"{res}/gz2/gz2_hart16.csv.gz",
        }
    if src["kind"] == "kaggle":
        return {
            "images": f"{res}/kaggle/images_training_rev1",
            "solutions": f"{res}/kaggle/training_solutions_rev1.csv",
        }
    return {}


checkpoint source_manifest:
    input:
        unpack(source_inputs),
    output:
        manifest=f"{RESULTS}/{{run}}/manifest.parquet",
        truth=f"{RESULTS}/{{run}}/source/truth.parquet",
        failures=f"{RESULTS}/{{run}}/source/failures.csv",
        info=f"{RESULTS}/{{run}}/source/info.json",
    log:
        f"{LOGS}/{{run}}/source_manifest.log",
    benchmark:
        f"{BENCH}/{{run}}/source_manifest.tsv"
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=3000,
    params:
        source=source_params,
        workdir=lambda w: f"{RESULTS}/{w.run}",
        seed=run_seed,
    script:
        "../scripts/source_manifest.py"
