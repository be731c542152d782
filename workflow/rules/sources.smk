# Where a dataset's objects come from: the source's manifest (a checkpoint: its length sets the
# number of feature shards), the source's own truth columns and the objects it could not use.


include: "helpers/sources.smk"


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
        truth=lambda w: ds(w).get("truth"),
    script:
        "../scripts/source_manifest.py"
