# Helpers of rules/report.smk (input functions, parameters, names).
def timing_tasks(wildcards):
    """Task -> benchmark files of a dataset (every run; feature shards of every run)."""
    runs = runs_of(wildcards.dataset)
    b = lambda name: [f"{BENCH}/{r}/{name}.tsv" for r in runs]
    shards = [
        f"{BENCH}/{r}/features_shard{k:05d}.tsv"
        for r in runs
        for k in range(shard_count(r))
    ]
    tasks = {
        "data generation": b("source_manifest"),
        "feature extraction": shards,
        "anomaly detection": b("detect"),
        "active learning": b("active_retrain"),
        "visualisation (t-SNE)": [f"{BENCH}/{runs[0]}/embedding.tsv"],
    }
    if simulated(wildcards.dataset):
        tasks["active learning, incremental"] = b("active_incremental")
    return tasks


def timing_notes(wildcards):
    d = ds(wildcards)
    return {
        "data generation": f"source {d['source']['kind']}",
        "feature extraction": f"{d['features']['kind']} features, summed over shards",
        "anomaly detection": d["detector"]["name"],
        "active learning": (
            f"{d['oracle']['budget']} labels, one retrain"
            if d["oracle"]["mode"] == "simulated"
            else "the user's labels"
        ),
        "active learning, incremental": f"{d['oracle']['batch']} labels per round",
        "visualisation (t-SNE)": f"{d['embedding']['n_objects']} objects + top {d['embedding']['include_top']} by S",
    }
