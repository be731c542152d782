# Figures. Every dataset: the ranked table, its top objects, the score distributions and the
# map coloured by S^ (first run). experiment: simulation adds the paper's Figs. 1 and 6-9,
# experiment: galaxies Figs. 4 and 5 (both need truth).


include: "helpers/figures.smk"


rule figures_ranked:
    input:
        objects=run_file("objects.parquet"),
        active=run_file("active.parquet"),
    output:
        ranked=f"{RESULTS}/{{run}}/ranked.csv",
    log:
        f"{LOGS}/{{run}}/figures_ranked.log",
    benchmark:
        f"{BENCH}/{{run}}/figures_ranked.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/figures_ranked.py"


rule figures_top:
    input:
        features=run_file("features.parquet"),
        objects=run_file("objects.parquet"),
        active=run_file("active.parquet"),
        info=run_file("dataset.json"),
    output:
        **figure("{run}/figures/top", "top", "Datasets"),
    log:
        f"{LOGS}/{{run}}/figures_top.log",
    benchmark:
        f"{BENCH}/{{run}}/figures_top.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        n=lambda w: ds(w)["figures"]["top_n"],
    script:
        "../scripts/figures_top.py"


rule figures_scores:
    input:
        active=run_file("active.parquet"),
    output:
        **figure("{run}/figures/scores", "scores", "Datasets"),
    log:
        f"{LOGS}/{{run}}/figures_scores.log",
    benchmark:
        f"{BENCH}/{{run}}/figures_scores.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        detector=lambda w: ds(w)["detector"]["name"],
    script:
        "../scripts/figures_scores.py"


rule figures_map:
    input:
        embedding=run_file("embedding.parquet"),
        active=run_file("active.parquet"),
    output:
        **figure("{run}/figures/map", "map", "Datasets"),
    log:
        f"{LOGS}/{{run}}/figures_map.log",
    benchmark:
        f"{BENCH}/{{run}}/figures_map.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        detector=lambda w: ds(w)["detector"]["name"],
    script:
        "../scripts/figures_map.py"


rule figures_sim_fig1:
    input:
        embedding=first_run_file("embedding.parquet"),
        active=first_run_file("active.parquet"),
    output:
        **figure(
            "{dataset}/figures/fig1_tsne_heatmap",
            "sim_fig1",
            "Simulation",
            "{dataset}",
        ),
    log:
        f"{LOGS}/{{dataset}}/figures_fig1.log",
    benchmark:
        f"{BENCH}/{{dataset}}/figures_fig1.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/figures_sim_fig1.py"


rule figures_sim_fig6:
    input:
        features=first_run_file("features.parquet"),
        truth=first_run_file("truth.parquet"),
        active=first_run_file("active.parquet"),
        info=first_run_file("dataset.json"),
    output:
        **figure(
            "{dataset}/figures/fig6_examples", "sim_fig6", "Simulation", "{dataset}"
        ),
    log:
        f"{LOGS}/{{dataset}}/figures_fig6.log",
    benchmark:
        f"{BENCH}/{{dataset}}/figures_fig6.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        seed=lambda w: acfg.runs(config, w.dataset)[0].seed,
    script:
        "../scripts/figures_sim_fig6.py"


rule figures_sim_fig7:
    input:
        rounds=f"{RESULTS}/{{dataset}}/rounds.csv",
    output:
        **figure(
            "{dataset}/figures/fig7_incremental", "sim_fig7", "Simulation", "{dataset}"
        ),
    log:
        f"{LOGS}/{{dataset}}/figures_fig7.log",
    benchmark:
        f"{BENCH}/{{dataset}}/figures_fig7.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=sim_class_ids,
        top=lambda w: ds(w)["metrics"]["fig7_n"],
        oracle=lambda w: ds(w)["oracle"],
    script:
        "../scripts/figures_sim_fig7.py"


rule figures_sim_fig8:
    input:
        curves=f"{RESULTS}/{{dataset}}/curves.parquet",
    output:
        **figure("{dataset}/figures/fig8_rws", "sim_fig8", "Simulation", "{dataset}"),
    log:
        f"{LOGS}/{{dataset}}/figures_fig8.log",
    benchmark:
        f"{BENCH}/{{dataset}}/figures_fig8.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=sim_class_ids,
        oracle=lambda w: ds(w)["oracle"],
        n_class=lambda w: max(
            int(ds(w)["source"]["counts"][c])
            for c in ds(w)["truth"]["anomaly_classes"]
        ),
    script:
        "../scripts/figures_sim_fig8.py"


rule figures_sim_fig9:
    input:
        curves=f"{RESULTS}/{{dataset}}/curves.parquet",
    output:
        **figure("{dataset}/figures/fig9_recall", "sim_fig9", "Simulation", "{dataset}"),
    log:
        f"{LOGS}/{{dataset}}/figures_fig9.log",
    benchmark:
        f"{BENCH}/{{dataset}}/figures_fig9.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=sim_class_ids,
        oracle=lambda w: ds(w)["oracle"],
    script:
        "../scripts/figures_sim_fig9.py"


rule figures_gal_fig4:
    input:
        objects=run_file("objects.parquet"),
        truth=run_file("truth.parquet"),
        active=run_file("active.parquet"),
    output:
        **figure("{run}/figures/fig4_grids", "gal_fig4", "Galaxies"),
    log:
        f"{LOGS}/{{run}}/figures_fig4.log",
    benchmark:
        f"{BENCH}/{{run}}/figures_fig4.tsv"
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


rule figures_recall:
    input:
        curves=run_file("recall_curves.parquet"),
        truth=run_file("truth.parquet"),
    output:
        **figure("{run}/figures/fig5_recall_rws", "gal_fig5", "Evaluation"),
    log:
        f"{LOGS}/{{run}}/figures_recall.log",
    benchmark:
        f"{BENCH}/{{run}}/figures_recall.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        truth_spec=lambda w: ds(w)["truth"],
        detector=lambda w: ds(w)["detector"]["name"],
        n_labels=lambda w: ds(w)["oracle"]["budget"],
    script:
        "../scripts/figures_recall.py"
