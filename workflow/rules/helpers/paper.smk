# Helpers of rules/paper.smk: which datasets belong to which experiment, what each experiment
# adds to `all` (the one place the `experiment` switch is read), the timing table's inputs.
REPRODUCTION = f"{RESULTS}/reproduction/simulation.md"


def datasets_of(experiment):
    return [n for n, d in config["datasets"].items() if d["experiment"] == experiment]


#: The simulation experiment's figures (the figures_simulation rule, one job for the four);
#: stem -> report caption.
SIMULATION_FIGURES = {
    "fig1_tsne_heatmap": "sim_fig1",
    "fig6_examples": "sim_fig6",
    "fig8_rws": "sim_fig8",
    "fig9_recall": "sim_fig9",
}


def simulation_figures():
    """Outputs of the figures_simulation rule; <stem>_png (in the report) and <stem>_pdf."""
    out = {}
    for stem, caption in SIMULATION_FIGURES.items():
        paths = figure(DATASET, stem, caption, "Simulation", "{dataset}")
        out |= {f"{stem}_png": paths["png"], f"{stem}_pdf": paths["pdf"]}
    return out


def experiment_targets(name):
    """What the paper's experiment of dataset `name` adds to `all` (nothing for `none`)."""
    exp = config["datasets"][name]["experiment"]
    runs = rundirs(name)
    base = runs[0].dataset
    if exp == "simulation":
        figs = SIMULATION_FIGURES
        return [base.timing_md] + [p for f in figs for p in base.figure(f).values()]
    if exp == "galaxies":
        return [base.timing_md, *runs[0].figure("fig4_grids").values()]
    return []


def paper_targets():
    """Targets across datasets: the reproduction report of the simulation experiment."""
    return [REPRODUCTION] if datasets_of("simulation") else []


def reproduction_top():
    return config["datasets"][datasets_of("simulation")[0]]["metrics"]["fig7_n"]


def reproduction_descriptions():
    """Dataset -> its description and its simulation preset's."""
    presets = config["simulation_presets"]
    return {
        d: config["datasets"][d]["description"]
        + " — "
        + presets[config["datasets"][d]["source"]["preset"]]["description"]
        for d in datasets_of("simulation")
    }


def extraction_benchmarks(src):
    """Benchmark files of the feature extraction of source run `src` (a RunDir): its shards',
    or its gather job's when that job made the one shard itself (one_shard_run)."""
    if one_shard_run(src.run):
        return [src.benchmark("features_gather")]
    return [
        src.benchmark(f"features_shard{k:05d}") for k in range(shard_count(src.run))
    ]


def timing_tasks(wildcards):
    """Task -> benchmark files of a dataset (every run; the source and feature shards of every
    run that makes its own: source_rd)."""
    runs = rundirs(wildcards.dataset)
    b = lambda step: [r.benchmark(step) for r in runs]
    # a simulated run's retrain and loop are steps of one job (rules/active.smk: active_simulated)
    steps = lambda step: [r.step_benchmark(step) for r in runs]
    al = steps if simulated(wildcards.dataset) else b
    sources = list({source_rd(r.run).run: source_rd(r.run) for r in runs}.values())
    shards = [f for r in sources for f in extraction_benchmarks(r)]
    tasks = {
        "data generation": [r.benchmark("source_manifest") for r in sources],
        "feature extraction": shards,
        "anomaly detection": b("detect"),
        "active learning": al("active_retrain"),
        "visualisation (t-SNE)": [runs[0].benchmark("embedding")],
    }
    if simulated(wildcards.dataset):
        tasks["active learning, incremental"] = al("active_incremental")
    return tasks


def timing_notes(wildcards):
    d = ds(wildcards)
    return {
        "data generation": f"source {d['source']['kind']}",
        "feature extraction": f"{d['features']['kind']} features, summed over shards (one shard made in its gather job: that job)",
        "anomaly detection": d["detector"]["name"],
        "active learning": (
            f"{d['oracle']['budget']} labels, one retrain"
            if d["oracle"]["mode"] == "simulated"
            else "the user's labels"
        ),
        "active learning, incremental": f"{d['oracle']['batch']} labels per round",
        "visualisation (t-SNE)": f"{d['embedding']['n_objects']} objects + top {d['embedding']['include_top']} by S",
    }
