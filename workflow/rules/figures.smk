# Figures of every dataset, made in one job per run (each figure alone is ~1 s of work against
# ~0.8 s of a process's start-up): the ranked table, its top objects, the score distributions
# and the map coloured by S^ (first run); with truth also Fig. 5 (wanted objects in the first N,
# rule figures_truth). With class truth and a simulated oracle Fig. 7 (the incremental loop).
# The paper's own figures (Figs. 1, 4, 6, 8, 9) are in rules/paper.smk.


include: "helpers/figures.smk"


rule figures:
    input:
        **overview_inputs(truth=False),
    output:
        **overview_outputs(truth=False),
    log:
        logs("figures"),
    benchmark:
        benchmarks("figures")
    wildcard_constraints:
        run=truth_runs_regex(truth=False),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        n=lambda w: ds(w)["figures"]["top_n"],
        detector=lambda w: ds(w)["detector"]["name"],
        dataset=lambda w: run_of(w).name,
        truth_spec=lambda w: ds(w).get("truth"),
        n_labels=lambda w: ds(w)["oracle"]["budget"],
        seed=run_seed,
    script:
        "../scripts/figures.py"


use rule figures as figures_truth with:
    input:
        **overview_inputs(truth=True),
    output:
        **overview_outputs(truth=True),
    wildcard_constraints:
        run=truth_runs_regex(truth=True),


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
