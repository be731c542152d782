# Helpers of rules/features.smk (input functions, parameters, names).
def shard_count(run):
    """Number of feature shards of a run, from the length of its manifest (a checkpoint)."""
    import pandas as pd

    manifest = checkpoints.source_manifest.get(run=run).output.manifest
    n = len(pd.read_parquet(manifest, columns=["id"]))
    name = acfg.parse_run(config, run).name
    size = acfg.dataset(config, name)["features"]["shard_size"]
    return max(1, -(-n // size))


def shard_files(wildcards):
    """Shard outputs of the {run} wildcard."""
    run = wildcards.run
    return [
        f"{RESULTS}/{run}/shards/shard{k:05d}.parquet" for k in range(shard_count(run))
    ]
