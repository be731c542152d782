# Reports: a timing table per dataset from the rules' benchmark files (cf. the paper's Tables
# C.2 and C.3) and the simulation experiment's reproduction report across its datasets.


include: "helpers/report.smk"


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
        top=lambda w: config["datasets"][datasets_of("simulation")[0]]["metrics"][
            "fig7_n"
        ],
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
