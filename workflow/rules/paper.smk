# The paper's experiments (Lochner & Bassett 2021), switched on per dataset by `experiment:`.
# experiment: simulation (section 6) adds Figs. 1, 6, 8 and 9, a timing table and, across the
# simulation datasets, the reproduction report; experiment: galaxies (section 5) adds Fig. 4's
# grids and a timing table. Every dataset's own outputs (ranked table, overview figures, export,
# per-class tables, Figs. 5 and 7) are made by the other rule files whether or not it is part
# of an experiment. What each experiment adds to `all` is written once, in helpers/paper.smk.


include: "helpers/paper.smk"


rule figures_simulation:
    input:
        embedding=first_run_file("embedding"),
        active=first_run_file("active"),
        features=first_run_file("features"),
        truth=first_run_file("truth"),
        info=first_run_file("dataset_json"),
        curves=DATASET.curves,
    output:
        **simulation_figures(),
    log:
        logs("figures_simulation", "{dataset}"),
    benchmark:
        benchmarks("figures_simulation", "{dataset}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seed=lambda w: acfg.runs(config, w.dataset)[0].seed,
        class_ids=class_ids,
        oracle=lambda w: ds(w)["oracle"],
        n_class=lambda w: max(
            int(ds(w)["source"]["counts"][c])
            for c in ds(w)["truth"]["anomaly_classes"]
        ),
    script:
        "../scripts/figures_simulation.py"


rule figures_gal_fig4:
    input:
        objects=RUN.objects,
        truth=RUN.truth,
        active=RUN.active,
    output:
        **figure(RUN, "fig4_grids", "gal_fig4", "Galaxies"),
    log:
        logs("figures_fig4"),
    benchmark:
        benchmarks("figures_fig4")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        truth_spec=lambda w: ds(w)["truth"],
        detector=lambda w: ds(w)["detector"]["name"],
        n=lambda w: ds(w)["figures"]["grid_n"],
        seed=run_seed,
    script:
        "../scripts/figures_gal_fig4.py"


rule report_timing:
    input:
        unpack(lambda w: {k: v for k, v in timing_tasks(w).items() if v}),
    output:
        csv=DATASET.timing_csv,
        md=report(
            DATASET.timing_md,
            caption="../report/timing.rst",
            category="Timing",
            labels={"dataset": "{dataset}", "table": "timing"},
        ),
    log:
        logs("report_timing", "{dataset}"),
    benchmark:
        benchmarks("report_timing", "{dataset}")
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
        metrics_by_seed=[RunDir(d).metrics_by_seed for d in datasets_of("simulation")],
        rounds=[RunDir(d).rounds_csv for d in datasets_of("simulation")],
    output:
        md=report(
            REPRODUCTION,
            caption="../report/sim_reproduction.rst",
            category="Reproduction",
            labels={"table": "simulation experiment"},
        ),
    log:
        logs("simulation", "reproduction"),
    benchmark:
        benchmarks("simulation", "reproduction")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
    params:
        presets=datasets_of("simulation"),
        seeds=config["seeds"],
        top=lambda w: reproduction_top(),
        descriptions=lambda w: reproduction_descriptions(),
    script:
        "../scripts/report_reproduction.py"
