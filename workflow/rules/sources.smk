# Where a dataset's objects come from: the source's manifest (a checkpoint: its length sets the
# number of feature shards), the source's own truth columns and the objects it could not use.


include: "helpers/sources.smk"


checkpoint source_manifest:
    input:
        unpack(source_inputs),
    output:
        manifest=RUN.manifest,
        truth=RUN.source_truth,
        failures=RUN.source_failures,
        info=RUN.source_info,
    log:
        logs("source_manifest"),
    benchmark:
        benchmarks("source_manifest")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=3000,
    params:
        source=source_params,
        workdir=lambda w: rd(w).root,
        seed=run_seed,
        truth=lambda w: ds(w).get("truth"),
    script:
        "../scripts/source_manifest.py"
