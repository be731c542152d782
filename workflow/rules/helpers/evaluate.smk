# Helpers of rules/evaluate.smk (input functions, parameters, names).
def seed_files(name):
    """Input function: results/<run>/<name> of every run of the {dataset} wildcard."""
    return lambda w: [f"{RESULTS}/{r}/{name}" for r in runs_of(w.dataset)]


def rounds_input(wildcards):
    return (
        [f"{RESULTS}/{wildcards.run}/rounds.parquet"]
        if simulated(run_of(wildcards).name)
        else []
    )
