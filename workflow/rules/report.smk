# Reports: a timing table per dataset from the rules' benchmark files (cf. the paper's Tables
# C.2 and C.3) and the simulation experiment's reproduction report across its datasets.


def timing_tasks(wildcards):
    """Task -> benchmark files of a dataset (every run; feature shards of every run)."""
    runs = runs_of(wildcards.dataset)
    b = lambda name: [f"{BENCH}/{r}/{name}.tsv" for r in runs]
    shards = [
        s.replace(f"{RESULTS}/", f"{BENCH}/", 1)
        .replace("/shards/shard", "/features_shard")
        .replace(".parquet", ".tsv")
        for r in runs
        for s in shard_list(r)
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
        "active learning": f"{d['oracle']['budget']} labels, one retrain"
        if d["oracle"]["mode"] == "simulated"
        else "the user's labels",
        "active learning, incremental": f"{d['oracle']['batch']} labels per round",
        "visualisation (t-SNE)": f"{d['embedding']['n_objects']} objects + top {d['embedding']['include_top']} by S",
    }


rule report_timing:
    input:
        unpack(lambda w: {k: v for k, v in timing_tasks(w).items() if v}),
    output:
        csv=f"{RESULTS}/{{dataset}}/timing.csv",
        md=report(
            f"{RESULTS}/{{dataset}}/timing.md",
            caption="../report/timing.rst",
            category="Timing",
            labels={"dataset": "{dataset}", "table": "timing"},
        ),
    log:
        f"{LOGS}/{{dataset}}/report_timing.log",
    benchmark:
        f"{BENCH}/{{dataset}}/report_timing.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
    params:
        tasks=lambda w, input: {k: list(v) for k, v in input.items()},
        notes=timing_notes,
        experiment=lambda w: ds(w)["experiment"],
        title=lambda w: f"Timing of {w.dataset} (cf. the paper's Tables C.2 and C.3)",
        summed=["feature extraction"],
    script:
        "../scripts/report_timing.py"


rule report_reproduction:
    input:
        metrics_by_seed=[
            f"{RESULTS}/{d}/metrics_by_seed.csv" for d in datasets_of("simulation")
        ],
        rounds=[f"{RESULTS}/{d}/rounds.csv" for d in datasets_of("simulation")],
    output:
        md=report(
            f"{RESULTS}/reproduction/simulation.md",
            caption="../report/sim_reproduction.rst",
            category="Reproduction",
            labels={"table": "simulation experiment"},
        ),
    log:
        f"{LOGS}/reproduction/simulation.log",
    benchmark:
        f"{BENCH}/reproduction/simulation.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
    params:
        presets=datasets_of("simulation"),
        seeds=config["seeds"],
        top=lambda w: config["datasets"][datasets_of("simulation")[0]]["metrics"]["fig7_n"],
        descriptions=lambda w: {
            d: config["datasets"][d]["description"]
            + " — "
            + config["simulation_presets"][config["datasets"][d]["source"]["preset"]][
                "description"
            ]
            for d in datasets_of("simulation")
        },
    script:
        "../scripts/report_reproduction.py"
