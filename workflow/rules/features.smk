# Features of every object, in shards of `features.shard_size` objects (one job each, so a
# cluster spreads them), gathered row for row, then scaled as the detector will see them (one
# job: scaling alone was ~0.5 s of work against ~0.4 s of a job's start-up).
# A replicated dataset whose objects and features do not depend on the seed (e.g. a table
# without n_max) parses its source and extracts its shards once, in its first run; every
# seed's run gathers those (source_rd in common.smk).
# The later seeds' runs of a replicated dataset whose objects depend on the seed (the simulation;
# features_gather_seed) keep their features as temp() files: once detection
# and the loops have read them they are deleted, and made again from the seed only if a later
# step needs them. A first run keeps its own (the labeller, the export and the bundle read them);
# the later seeds of a dataset whose features do not depend on the seed link to the first's.
# A run whose features are one shard that no other run reads (e.g. each simulation seed) makes
# that shard, and the source's own values, inside its gather job (one_shard_here): separate jobs
# would spend more time starting than working.
# A trainable extractor (e.g. `learned`) is first trained once per run (features_fit); its
# model, results/<run>/models/<part>.model, is an input of every shard and is reused by later
# runs. A `model:` in its config reuses a model trained elsewhere: then nothing is trained.


include: "helpers/features.smk"


rule features_fit:
    input:
        manifest=RUN.manifest,
    output:
        model=RUN.model("{part}"),
        info=RUN.model_info("{part}"),
    log:
        logs("features_fit_{part}"),
    benchmark:
        benchmarks("features_fit_{part}")
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=4000,
    params:
        part=fit_part,
        workdir=lambda w: rd(w).root,
        seed=run_seed,
    script:
        "../scripts/features_fit.py"


rule features_shard:
    input:
        manifest=RUN.manifest,
        models=shard_models,
        values=source_values,
    output:
        shard=temp(RUN.shard("{shard}")),
    log:
        logs("features_shard{shard}"),
    benchmark:
        benchmarks("features_shard{shard}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        shard=lambda w: int(w.shard),
        features=shard_features,
        workdir=lambda w: rd(w).root,
    script:
        "../scripts/features_shard.py"


rule features_gather:
    input:
        shards=shard_files,
        manifest=source_file("manifest"),
        truth=source_file("source_truth"),
        failures=source_file("source_failures"),
        info=source_file("source_info"),
        values=gather_values,  # kept until gathered: features_raw is a hard link to it
        models=gather_models,  # when it makes its one shard itself
        same_as_raw=first_seed_file("features_raw"),
        same_as=first_seed_file("features"),
    output:
        # the two feature tables first: either may be a hard link to the input `values`, and
        # Snakemake touches outputs in this order, so every later output is newer than it
        raw=RUN.features_raw,
        features=RUN.features,
        objects=RUN.objects,
        truth=RUN.truth,
        failures=RUN.failures,
        summary=RUN.summary,
        info=RUN.dataset_json,
        params=RUN.scaler,
    log:
        logs("features_gather"),
    benchmark:
        benchmarks("features_gather")
    wildcard_constraints:
        run=feature_runs_regex(temporary=False),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        features=lambda w: ds(w)["features"],
        truth=lambda w: ds(w).get("truth"),
        oracle=lambda w: ds(w)["oracle"],
        workdir=lambda w: source_rd(w.run).root,  # where the source wrote its files
        name=lambda w: run_of(w).name,
        seed=run_seed,
        method=lambda w: ds(w)["scale"],
        pca=lambda w: ds(w)["pca"],
        hard_link=False,
        source=source_params,  # for the values and the shard it makes itself (one_shard_here)
        shard_features=shard_features,
    script:
        "../scripts/features_gather.py"


use rule features_gather as features_gather_seed with:
    output:
        raw=temp(RUN.features_raw),  # the feature tables first, as above
        features=temp(RUN.features),
        objects=RUN.objects,
        truth=RUN.truth,
        failures=RUN.failures,
        summary=RUN.summary,
        info=RUN.dataset_json,
        params=RUN.scaler,
    wildcard_constraints:
        run=feature_runs_regex(temporary=True),
    params:
        features=lambda w: ds(w)["features"],
        truth=lambda w: ds(w).get("truth"),
        oracle=lambda w: ds(w)["oracle"],
        workdir=lambda w: source_rd(w.run).root,
        name=lambda w: run_of(w).name,
        seed=run_seed,
        method=lambda w: ds(w)["scale"],
        pca=lambda w: ds(w)["pca"],
        hard_link=True,  # unscaled: a hard link, which outlives the temp() features_raw
        source=source_params,
        shard_features=shard_features,
