# Where a dataset's objects come from: the source's manifest (a checkpoint: its length sets the
# number of feature shards), the source's own truth columns and the objects it could not use;
# for a source that supplies its own feature values (the simulation's curves), those values: a
# temp() file, made again from the config and the seed whenever a later step needs it (the
# first run keeps them as its features_raw.parquet, a hard link; the other seeds' runs keep
# none: rules/features.smk).


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
    threads: 1
    resources:
        mem_mb=3000,
    params:
        source=source_params,
        workdir=lambda w: rd(w).root,
        seed=run_seed,
        truth=lambda w: ds(w).get("truth"),
    script:
        "../scripts/source_manifest.py"


rule source_values:
    output:
        values=temp(RUN.source_values),
    log:
        logs("source_values"),
    benchmark:
        benchmarks("source_values")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=3000,
    params:
        source=source_params,
        seed=run_seed,
    script:
        "../scripts/source_values.py"
