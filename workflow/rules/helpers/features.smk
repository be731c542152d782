# Helpers of rules/features.smk (input functions, parameters, names).
def shard_list(run):
    """Shard outputs of a run; their number comes from the manifest checkpoint."""
    import pandas as pd

    manifest = checkpoints.source_manifest.get(run=run).output.manifest
    n = len(pd.read_parquet(manifest, columns=["id"]))
    size = acfg.dataset(config, acfg.parse_run(config, run).name)["features"][
        "shard_size"
    ]
    count = max(1, -(-n // size))
    return [f"{RESULTS}/{run}/shards/shard{k:05d}.parquet" for k in range(count)]


def shard_files(wildcards):
    return shard_list(wildcards.run)
