# Helpers of the Snakefile: what the `all` target builds.


def dataset_targets(name):
    """What `all` builds for one dataset: each run's own files (RunDir.outputs: the summary;
    the ranked table, overview figures and export in the first run; first-N metrics with
    truth); per-class tables and Fig. 7 for class truth with a simulated oracle; and what the
    dataset's paper experiment adds (rules/paper.smk)."""
    d = config["datasets"][name]
    runs = rundirs(name)
    out = [
        f
        for i, r in enumerate(runs)
        for f in r.outputs(first=i == 0, truth="truth" in d)
    ]
    if incremental(name):
        base = runs[0].dataset
        out += [
            base.metrics,
            base.rounds_csv,
            *base.figure("fig7_incremental").values(),
        ]
    return out + experiment_targets(name)


def incremental(name):
    """Per-class tables and the incremental loop's Fig. 7: class truth, simulated oracle."""
    d = config["datasets"][name]
    kind = d.get("truth", {}).get("kind")
    return kind in ("class", "category") and d["oracle"]["mode"] == "simulated"


def all_targets():
    out = [t for name in config["datasets"] for t in dataset_targets(name)]
    return out + paper_targets()
