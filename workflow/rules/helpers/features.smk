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
    """Shard outputs of the {run} wildcard."""
    return [rd(wildcards).shard(k) for k in range(shard_count(wildcards.run))]


def fit_part(wildcards):
    """The config entry of the trainable extractor {part} of {run} (features_fit)."""
    return trainable.part_entry(ds(wildcards)["features"], wildcards.part)


def shard_models(wildcards):
    """Model files the feature shards of {run} read: trained in the run, or given (model:)."""
    return trainable.model_files(ds(wildcards)["features"], rd(wildcards).model)


def shard_features(wildcards):
    """The features entry of {run} with each trainable part's model path filled in."""
    return trainable.with_models(ds(wildcards)["features"], rd(wildcards).model)
