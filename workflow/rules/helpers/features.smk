# Helpers of rules/features.smk (input functions, parameters, names).
import re

from astroanom.features import trainable


def shard_count(run):
    """Number of feature shards of a run, from the length of its manifest (a checkpoint)."""
    manifest = checkpoints.source_manifest.get(run=run).output.manifest
    size = acfg.dataset(config, acfg.parse_run(config, run).name)["features"][
        "shard_size"
    ]
    return n_shards(manifest_rows(manifest), size)


def one_shard_run(path):
    """Whether the gather job of run `path` (below results/) makes the run's features itself:
    they are one shard, its own (acfg.source_run), and no other run has it as its source.
    A shard's and a values job would each spend ~0.4 s starting for less work than that.
    """
    run = acfg.parse_run(config, path)
    readers = [
        r for r in acfg.runs(config, run.name) if acfg.source_run(config, r.path) == run
    ]
    return readers == [run] and shard_count(path) == 1


def one_shard_here(wildcards):
    """one_shard_run of the {run} wildcard."""
    return one_shard_run(wildcards.run)


def shard_files(wildcards):
    """The feature shards the {run} wildcard gathers (its source run's: source_rd); none when
    its gather job makes the one shard itself (one_shard_here)."""
    if one_shard_here(wildcards):
        return []
    src = source_rd(wildcards.run)
    return [src.shard(k) for k in range(shard_count(src.run))]


def source_file(attr):
    """Input function: a file (a RunDir attribute) of the source run of {run} (source_rd)."""
    return lambda w: getattr(source_rd(w.run), attr)


def fit_part(wildcards):
    """The config entry of the trainable extractor {part} of {run} (features_fit)."""
    return trainable.part_entry(ds(wildcards)["features"], wildcards.part)


def shard_models(wildcards):
    """Model files the feature shards of {run} read: trained in the run, or given (model:)."""
    return trainable.model_files(ds(wildcards)["features"], rd(wildcards).model)


def shard_features(wildcards):
    """The features entry of {run} with each trainable part's model path filled in."""
    return trainable.with_models(ds(wildcards)["features"], rd(wildcards).model)


def source_values(wildcards):
    """The values file of the source run of {run} when its features are the source's own
    values (features.kind: values), else nothing."""
    if ds(wildcards)["features"]["kind"] != "values":
        return []
    return source_rd(wildcards.run).source_values


def gather_values(wildcards):
    """The values file the gather job of {run} links to: none when it makes them itself."""
    return [] if one_shard_here(wildcards) else source_values(wildcards)


def gather_models(wildcards):
    """Model files the gather job of {run} reads: those of its one shard when it makes it."""
    return shard_models(wildcards) if one_shard_here(wildcards) else []


def _temp_features(run):
    """Whether run `run` (an acfg.Run) keeps its features only as temp() files: a later seed's
    run of a dataset whose objects or features depend on the seed (acfg.source_uses_seed).
    """
    entry = acfg.dataset(config, run.name)
    return (
        run.replicated
        and run != acfg.runs(config, run.name)[0]
        and acfg.source_uses_seed(entry)
    )


def feature_runs_regex(temporary):
    """Wildcard constraint matching exactly the runs whose features are (or are not) temp()."""
    paths = [
        r.path
        for name in config["datasets"]
        for r in acfg.runs(config, name)
        if _temp_features(r) == temporary
    ]
    return "(?:" + "|".join(re.escape(p) for p in paths) + ")"


def first_seed_file(attr):
    """Input function: the first run's file (a RunDir attribute) for a later seed's run of a
    dataset whose features do not depend on the seed (that run's equal table is a link to it),
    else nothing."""

    def files(wildcards):
        run = run_of(wildcards)
        first = acfg.runs(config, run.name)[0]
        if run == first or acfg.source_uses_seed(ds(wildcards)):
            return []
        return getattr(RunDir(first.path, RESULTS, config["labels"]["path"]), attr)

    return files
