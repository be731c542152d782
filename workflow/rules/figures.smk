# Figures and tables. Simulation: per-seed evaluation, aggregation over seeds, Figs. 1 and 6-9,
# the timing table (cf. Table C.3) and reproduction.md.


rule evaluate_simulation:
    input:
        objects=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/objects.parquet",
        active=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/active.parquet",
        rounds=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/rounds.parquet",
    output:
        metrics=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/metrics.csv",
        rounds=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/rounds.csv",
        curves=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/curves.parquet",
    log:
        f"{LOGS}/simulation/{{preset}}/seed{{seed}}/evaluate.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/seed{{seed}}/evaluate.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        class_ids=sim_cfg()["anomaly_classes"],
        ns=sim_cfg()["metrics"]["rws_table_n"],
        top=sim_cfg()["metrics"]["fig7_n"],
        curve_max_n=sim_cfg()["metrics"]["curve_max_n"],
    script:
        "../scripts/evaluate_simulation.py"


rule aggregate_simulation:
    input:
        metrics=sim_seed_files("metrics.csv"),
        rounds=sim_seed_files("rounds.csv"),
        curves=sim_seed_files("curves.parquet"),
    output:
        metrics_by_seed=f"{RESULTS}/simulation/{{preset}}/metrics_by_seed.csv",
        metrics=report(
            f"{RESULTS}/simulation/{{preset}}/metrics.csv",
            caption="../report/sim_metrics.rst",
            category="Simulation",
            subcategory="{preset}",
            labels={"preset": "{preset}", "table": "RWS and recall"},
        ),
        rounds=report(
            f"{RESULTS}/simulation/{{preset}}/rounds.csv",
            caption="../report/sim_rounds.rst",
            category="Simulation",
            subcategory="{preset}",
            labels={"preset": "{preset}", "table": "incremental rounds"},
        ),
        curves=f"{RESULTS}/simulation/{{preset}}/curves.parquet",
    log:
        f"{LOGS}/simulation/{{preset}}/aggregate.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/aggregate.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seeds=SEEDS,
    script:
        "../scripts/aggregate_simulation.py"


rule embedding:
    input:
        features=f"{RESULTS}/{{dataset}}/features.parquet",
        active=f"{RESULTS}/{{dataset}}/active.parquet",
    output:
        embedding=f"{RESULTS}/{{dataset}}/embedding.parquet",
    log:
        f"{LOGS}/{{dataset}}/embedding.log",
    benchmark:
        f"{BENCH}/{{dataset}}/embedding.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 2
    resources:
        mem_mb=3000,
    params:
        n_objects=config.get("embedding", {}).get("n_objects", 2000),
        perplexity=config.get("embedding", {}).get("perplexity", 30),
        seed=lambda w: dataset_settings(w.dataset)["seed"],
    script:
        "../scripts/embedding.py"


rule figure1_simulation:
    input:
        embedding=lambda w: f"{sim_dir(w.preset, SEEDS[0])}/embedding.parquet",
        active=lambda w: f"{sim_dir(w.preset, SEEDS[0])}/active.parquet",
    output:
        **sim_figure("fig1_tsne_heatmap", "sim_fig1"),
    log:
        f"{LOGS}/simulation/{{preset}}/fig1.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/fig1.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/figure_simulation.py"


rule figure6_simulation:
    input:
        features=lambda w: f"{sim_dir(w.preset, SEEDS[0])}/features.parquet",
        objects=lambda w: f"{sim_dir(w.preset, SEEDS[0])}/objects.parquet",
        active=lambda w: f"{sim_dir(w.preset, SEEDS[0])}/active.parquet",
        info=lambda w: f"{sim_dir(w.preset, SEEDS[0])}/dataset.json",
    output:
        **sim_figure("fig6_examples", "sim_fig6"),
    log:
        f"{LOGS}/simulation/{{preset}}/fig6.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/fig6.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seed=SEEDS[0],
    script:
        "../scripts/figure_simulation.py"


rule figure7_simulation:
    input:
        rounds=f"{RESULTS}/simulation/{{preset}}/rounds.csv",
    output:
        **sim_figure("fig7_incremental", "sim_fig7"),
    log:
        f"{LOGS}/simulation/{{preset}}/fig7.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/fig7.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=sim_cfg()["anomaly_classes"],
        top=sim_cfg()["metrics"]["fig7_n"],
        oracle=sim_cfg()["oracle"],
    script:
        "../scripts/figure_simulation.py"


rule figure8_simulation:
    input:
        curves=f"{RESULTS}/simulation/{{preset}}/curves.parquet",
    output:
        **sim_figure("fig8_rws", "sim_fig8"),
    log:
        f"{LOGS}/simulation/{{preset}}/fig8.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/fig8.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=sim_cfg()["anomaly_classes"],
        oracle=sim_cfg()["oracle"],
        n_class=lambda w: int(
            max(sim_cfg()["counts"][c] for c in sim_cfg()["anomaly_classes"])
        ),
    script:
        "../scripts/figure_simulation.py"


rule figure9_simulation:
    input:
        curves=f"{RESULTS}/simulation/{{preset}}/curves.parquet",
    output:
        **sim_figure("fig9_recall", "sim_fig9"),
    log:
        f"{LOGS}/simulation/{{preset}}/fig9.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/fig9.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=sim_cfg()["anomaly_classes"],
        oracle=sim_cfg()["oracle"],
    script:
        "../scripts/figure_simulation.py"


rule timing_simulation:
    input:
        simulate=sim_bench_files("simulate"),
        detect=sim_bench_files("detect"),
        active=sim_bench_files("active_learning"),
        incremental=sim_bench_files("active_learning_incremental"),
        embedding=lambda w: [
            f"{BENCH}/simulation/{w.preset}/seed{SEEDS[0]}/embedding.tsv"
        ],
    output:
        csv=f"{RESULTS}/simulation/{{preset}}/timing.csv",
        md=report(
            f"{RESULTS}/simulation/{{preset}}/timing.md",
            caption="../report/sim_timing.rst",
            category="Simulation",
            subcategory="{preset}",
            labels={"preset": "{preset}", "table": "timing"},
        ),
    log:
        f"{LOGS}/simulation/{{preset}}/timing.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/timing.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        detector=sim_cfg()["detector"]["name"],
        n_labels=sim_cfg()["oracle"]["budget"],
        n_embed=config.get("embedding", {}).get("n_objects", 2000),
    script:
        "../scripts/timing_simulation.py"


rule reproduction_simulation:
    input:
        metrics_by_seed=expand(
            f"{RESULTS}/simulation/{{preset}}/metrics_by_seed.csv",
            preset=sim_presets(),
        ),
        rounds=expand(
            f"{RESULTS}/simulation/{{preset}}/rounds.csv", preset=sim_presets()
        ),
        timing=(
            f"{RESULTS}/simulation/{sim_presets()[0]}/timing.csv"
            if sim_presets()
            else []
        ),
    output:
        md=report(
            f"{RESULTS}/simulation/reproduction.md",
            caption="../report/sim_reproduction.rst",
            category="Simulation",
            labels={"table": "reproduction"},
        ),
    log:
        f"{LOGS}/simulation/reproduction.log",
    benchmark:
        f"{BENCH}/simulation/reproduction.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        presets=sim_presets(),
        seeds=SEEDS,
        top=sim_cfg()["metrics"]["fig7_n"],
        descriptions=sim_cfg().get("preset_descriptions", {}),
    script:
        "../scripts/reproduction_simulation.py"


TARGETS.extend(simulation_targets())


# ---------------------------------------------------------------------------------------------
# Experiment 2, galaxy images: evaluation, Figs. 4 and 5, t-SNE map, Table C.2-like timing.


rule galaxies_evaluate:
    input:
        objects=f"{RESULTS}/galaxies/{{source}}/objects.parquet",
        active=f"{RESULTS}/galaxies/{{source}}/active.parquet",
        rounds=f"{RESULTS}/galaxies/{{source}}/rounds.parquet",
    output:
        curves=f"{RESULTS}/galaxies/{{source}}/curves.parquet",
        first_n=report(
            f"{RESULTS}/galaxies/{{source}}/anomalies_first_n.csv",
            caption="../report/gal_first_n.rst",
            category="Galaxies",
            subcategory="{source}",
            labels={"source": "{source}", "table": "anomalies in first N"},
        ),
    log:
        f"{LOGS}/galaxies/{{source}}/evaluate.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/evaluate.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seed=SEEDS[0],
        max_n=lambda w: gal_cfg().get("figures", {}).get("recall_max_n", 1000),
    script:
        "../scripts/galaxies_evaluate.py"


rule galaxies_figure4:
    input:
        objects=f"{RESULTS}/galaxies/{{source}}/objects.parquet",
        active=f"{RESULTS}/galaxies/{{source}}/active.parquet",
    output:
        **gal_figure("fig4_grids", "gal_fig4"),
    log:
        f"{LOGS}/galaxies/{{source}}/figure4.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/figure4.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        figure="fig4",
        n=lambda w: gal_cfg().get("figures", {}).get("grid_n", 12),
        seed=SEEDS[0],
    script:
        "../scripts/galaxies_figures.py"


rule galaxies_figure5:
    input:
        objects=f"{RESULTS}/galaxies/{{source}}/objects.parquet",
        curves=f"{RESULTS}/galaxies/{{source}}/curves.parquet",
    output:
        **gal_figure("fig5_recall_rws", "gal_fig5"),
    log:
        f"{LOGS}/galaxies/{{source}}/figure5.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/figure5.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        figure="fig5",
    script:
        "../scripts/galaxies_figures.py"


rule galaxies_tsne_figure:
    input:
        embedding=f"{RESULTS}/galaxies/{{source}}/embedding.parquet",
        active=f"{RESULTS}/galaxies/{{source}}/active.parquet",
    output:
        **gal_figure("tsne", "gal_tsne"),
    log:
        f"{LOGS}/galaxies/{{source}}/tsne_figure.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/tsne_figure.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        figure="tsne",
    script:
        "../scripts/galaxies_figures.py"


rule galaxies_timing:
    input:
        shards=gal_shard_files,
        scores=f"{RESULTS}/galaxies/{{source}}/scores.parquet",
        active=f"{RESULTS}/galaxies/{{source}}/active.parquet",
        embedding=f"{RESULTS}/galaxies/{{source}}/embedding.parquet",
    output:
        table=report(
            f"{RESULTS}/galaxies/{{source}}/timing.csv",
            caption="../report/gal_timing.rst",
            category="Galaxies",
            subcategory="{source}",
            labels={"source": "{source}", "table": "timing (cf. Table C.2)"},
        ),
    log:
        f"{LOGS}/galaxies/{{source}}/timing.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/timing.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=500,
    params:
        bench=gal_timing_bench,
        notes=lambda w: {
            "feature extraction": "sigma clipping and ellipse fitting (sum over shards)",
            "anomaly detection": "isolation forest",
            "active learning": f"{dataset_settings(f'galaxies/{w.source}')['oracle']['budget']} labelled objects used",
            "visualisation (t-SNE)": f"subset of {config.get('embedding', {}).get('n_objects', 2000)} objects",
        },
    script:
        "../scripts/galaxies_timing.py"


TARGETS.extend(galaxy_targets())
