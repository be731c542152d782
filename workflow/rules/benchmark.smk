# Benchmark: datasets x detectors x strategies x seeds at an equal label budget.
# Target: `snakemake --cores N benchmark`. Not part of `all`: on the default data it runs
# 3 seeds x 2 detectors x 5 strategies labelling loops on 50 000 simulated curves and the
# synthetic galaxies, several times the cost of the reproduction itself.


include: "helpers/benchmark.smk"


rule benchmark_detect:
    input:
        features=lambda w: bench_run(w.bset, w.seed).features,
    output:
        scores=f"{BENCH_OUT}/{{bset}}/{{det}}/seed{{seed}}/detector.parquet",
    log:
        logs("detect", CELL),
    benchmark:
        benchmarks("detector", CELL)
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=6000,
    params:
        detector=lambda w: bench_cfg()["detectors"][w.det],
        seed=lambda w: int(w.seed),
    script:
        "../scripts/detect.py"


rule benchmark_cell:
    input:
        features=lambda w: bench_cell_run(w.cell).features,
        truth=lambda w: bench_cell_run(w.cell).truth,
        scores=lambda w: bench_cell_scores(w.cell),
    output:
        cell=f"{BENCH_OUT}/{{cell}}.cell.parquet",
        curve=f"{BENCH_OUT}/{{cell}}.curve.parquet",
    log:
        logs("cell", "benchmark/{cell}"),
    benchmark:
        benchmarks("cell", "benchmark/{cell}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        cell_keys=lambda w: bench_cell_keys(bench_cell(w.cell)),
        task=lambda w: bench_task_spec(bench_cell(w.cell)),
        strategy=lambda w: bench_strategies()[bench_cell(w.cell).strategy],
        shared=config["active_learning"],
        oracle=lambda w: acfg.dataset(config, bench_cell(w.cell).dataset)["oracle"],
        truth_spec=lambda w: acfg.dataset(config, bench_cell(w.cell).dataset)["truth"],
        batch=lambda w: bench_cfg()["batch"],
        budgets=lambda w: abench.budgets(bench_cfg()),
        ns=lambda w: bench_cfg()["ns"],
        first_viewed=lambda w: bench_cfg()["first_viewed"],
        seed=lambda w: bench_cell(w.cell).seed,
    script:
        "../scripts/benchmark_cell.py"


rule benchmark_collect:
    input:
        cells=[f"{BENCH_OUT}/{c.path}.cell.parquet" for c in bench_plan()],
        curves=[f"{BENCH_OUT}/{c.path}.curve.parquet" for c in bench_plan()],
        cell_benchmarks=[
            benchmarks("cell", f"benchmark/{c.path}") for c in bench_plan()
        ],
        detector_benchmarks=[
            benchmarks("detector", f"benchmark/{b}/{d}/seed{seed}")
            for b, d, seed in bench_detector_runs()
        ],
    output:
        table=f"{BENCH_OUT}/benchmark.parquet",
        csv=report(
            f"{BENCH_OUT}/benchmark.csv",
            caption="../report/benchmark_table.rst",
            category="Benchmark",
            labels={"table": "all cells"},
        ),
        summary_csv=report(
            f"{BENCH_OUT}/summary.csv",
            caption="../report/benchmark_summary.rst",
            category="Benchmark",
            labels={"table": "summary (CSV)"},
        ),
        summary_md=report(
            f"{BENCH_OUT}/summary.md",
            caption="../report/benchmark_summary.rst",
            category="Benchmark",
            labels={"table": "summary (Markdown)"},
        ),
        wins_csv=report(
            f"{BENCH_OUT}/who_wins.csv",
            caption="../report/benchmark_wins.rst",
            category="Benchmark",
            labels={"table": "who wins"},
        ),
        png=report(
            f"{BENCH_OUT}/figures/found_vs_labels.png",
            caption="../report/benchmark_figure.rst",
            category="Benchmark",
            labels={"figure": "found vs labels"},
        ),
        pdf=f"{BENCH_OUT}/figures/found_vs_labels.pdf",
    log:
        logs("collect", "benchmark"),
    benchmark:
        benchmarks("collect", "benchmark")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        detector_keys=bench_detector_runs(),
        first_viewed=bench_cfg().get("first_viewed"),
        ns=bench_cfg().get("ns"),
        tasks=bench_cfg().get("tasks") or None,
    script:
        "../scripts/benchmark_collect.py"


localrules:
    benchmark,


rule benchmark:
    input:
        rules.benchmark_collect.output,
