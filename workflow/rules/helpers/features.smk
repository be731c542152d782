# Helpers of rules/features.smk (input functions, parameters, names).
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
