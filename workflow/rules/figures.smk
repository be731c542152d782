# Figures of every dataset: the ranked table, its top objects, the score distributions and the
# map coloured by S^ (first run); with truth Fig. 5 (wanted objects in the first N); with class
# truth and a simulated oracle Fig. 7 (the incremental loop). The paper's own figures (Figs. 1,
# 4, 6, 8, 9) are in rules/paper.smk.


include: "helpers/figures.smk"


rule figures_ranked:
    input:
        objects=RUN.objects,
        active=RUN.active,
    output:
        ranked=RUN.ranked,
    log:
        logs("figures_ranked"),
    benchmark:
        benchmarks("figures_ranked")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/figures_ranked.py"


rule figures_top:
    input:
        features=RUN.features,
        objects=RUN.objects,
        active=RUN.active,
        info=RUN.dataset_json,
    output:
        **figure(RUN, "top", "top", "Datasets"),
    log:
        logs("figures_top"),
    benchmark:
        benchmarks("figures_top")
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
        active=RUN.active,
    output:
        **figure(RUN, "scores", "scores", "Datasets"),
    log:
        logs("figures_scores"),
    benchmark:
        benchmarks("figures_scores")
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
        embedding=RUN.embedding,
        active=RUN.active,
    output:
        **figure(RUN, "map", "map", "Datasets"),
    log:
        logs("figures_map"),
    benchmark:
        benchmarks("figures_map")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        detector=lambda w: ds(w)["detector"]["name"],
        dataset=lambda w: run_of(w).name,
    script:
        "../scripts/figures_map.py"


rule figures_recall:
    input:
        curves=RUN.recall_curves,
        truth=RUN.truth,
    output:
        **figure(RUN, "fig5_recall_rws", "gal_fig5", "Evaluation"),
    log:
        logs("figures_recall"),
    benchmark:
        benchmarks("figures_recall")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        truth_spec=lambda w: ds(w)["truth"],
        detector=lambda w: ds(w)["detector"]["name"],
        n_labels=lambda w: ds(w)["oracle"]["budget"],
        seed=run_seed,
    script:
        "../scripts/figures_recall.py"


rule figures_fig7:
    input:
        rounds=DATASET.rounds_csv,
    output:
        **figure(DATASET, "fig7_incremental", "sim_fig7", "Evaluation", "{dataset}"),
    log:
        logs("figures_fig7", "{dataset}"),
    benchmark:
        benchmarks("figures_fig7", "{dataset}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    params:
        class_ids=class_ids,
        top=lambda w: ds(w)["metrics"]["fig7_n"],
        oracle=lambda w: ds(w)["oracle"],
    script:
        "../scripts/figures_sim_fig7.py"
