# Helpers of rules/features.smk (input functions, parameters, names).
from astroanom.features import trainable


def shard_count(run):
    """Number of feature shards of a run, from the length of its manifest (a checkpoint)."""
    manifest = checkpoints.source_manifest.get(run=run).output.manifest
    size = acfg.dataset(config, acfg.parse_run(config, run).name)["features"][
        "shard_size"
    ]
    return n_shards(manifest_rows(manifest), size)


def shard_files(wildcards):
    """The feature shards the {run} wildcard gathers (its source run's: source_rd)."""
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
