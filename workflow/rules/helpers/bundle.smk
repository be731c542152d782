# Helpers of rules/bundle.smk (parameters).
from astroanom.features import trainable


def bundle_models(wildcards):
    """part -> model file of each trainable extractor of {run} (recorded with its SHA-256)."""
    parts = trainable.parts(ds(wildcards)["features"])
    return {n: e.get("model") or rd(wildcards).model(n) for n, e in parts.items()}
