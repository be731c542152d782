# Helpers of the Snakefile: what `rule all` builds.


def dataset_targets(name):
    """What `all` builds for one dataset: the overview always; metrics where there is truth;
    the paper's figures for the two experiments."""
    d = config["datasets"][name]
    runs = runs_of(name)
    first = f"{RESULTS}/{runs[0]}"
    out = [f"{first}/ranked.csv"] + [f"{RESULTS}/{r}/summary.json" for r in runs]
    out += [
        f"{first}/figures/{f}.{x}"
        for f in ("top", "scores", "map")
        for x in ("png", "pdf")
    ]
    out += [f"{first}/export/anomalies.{x}" for x in ("csv", "fits", "html")]
    if "truth" in d:
        out += [f"{RESULTS}/{r}/anomalies_first_n.csv" for r in runs]
        out += [f"{first}/figures/fig5_recall_rws.{x}" for x in ("png", "pdf")]
    truth_kind = d.get("truth", {}).get("kind")
    if (
        truth_kind in ("class", "category")
        and d["oracle"]["mode"] == "simulated"
        and d["experiment"] != "simulation"
    ):  # per-class tables and Fig. 7 (the incremental loop) for any class-labelled dataset
        base = f"{RESULTS}/{name}"
        out += [f"{base}/metrics.csv", f"{base}/rounds.csv"]
        out += [f"{base}/figures/fig7_incremental.{x}" for x in ("png", "pdf")]
    if d["experiment"] == "simulation":
        base = f"{RESULTS}/{name}"
        figs = [
            "fig1_tsne_heatmap",
            "fig6_examples",
            "fig7_incremental",
            "fig8_rws",
            "fig9_recall",
        ]
        out += [f"{base}/metrics.csv", f"{base}/rounds.csv", f"{base}/timing.md"]
        out += [f"{base}/figures/{f}.{x}" for f in figs for x in ("png", "pdf")]
    if d["experiment"] == "galaxies":
        out += [
            f"{first}/figures/{f}.{x}" for f in ("fig4_grids",) for x in ("png", "pdf")
        ]
        out += [f"{RESULTS}/{name}/timing.md"]
    return out


def all_targets():
    out = [t for name in config["datasets"] for t in dataset_targets(name)]
    if datasets_of("simulation"):
        out.append(f"{RESULTS}/reproduction/simulation.md")
    return out
