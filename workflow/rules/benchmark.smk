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
        features=lambda w: bench_run(w.bset, w.seed).features,
        truth=lambda w: bench_run(w.bset, w.seed).truth,
        scores=f"{BENCH_OUT}/{{bset}}/{{det}}/seed{{seed}}/detector.parquet",
    output:
        cell=f"{BENCH_OUT}/{{bset}}/{{det}}/seed{{seed}}/{{strat}}.cell.parquet",
        curve=f"{BENCH_OUT}/{{bset}}/{{det}}/seed{{seed}}/{{strat}}.curve.parquet",
    log:
        logs("{strat}", CELL),
    benchmark:
        benchmarks("{strat}.cell", CELL)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
    params:
        cell_keys=lambda w: {
            "dataset": w.bset,
            "detector": w.det,
            "strategy": w.strat,
            "seed": int(w.seed),
        },
        strategy=lambda w: bench_strategies()[w.strat],
        shared=config["active_learning"],
        oracle=lambda w: acfg.dataset(config, w.bset)["oracle"],
        truth_spec=lambda w: acfg.dataset(config, w.bset)["truth"],
        batch=lambda w: bench_cfg()["batch"],
        budget=lambda w: bench_cfg()["budget"],
        ns=lambda w: bench_cfg()["ns"],
        first_viewed=lambda w: bench_cfg()["first_viewed"],
        seed=lambda w: int(w.seed),
    script:
        "../scripts/benchmark_cell.py"


rule benchmark_collect:
    input:
        cells=[
            f"{BENCH_OUT}/{b}/{d}/seed{seed}/{s}.cell.parquet"
            for b, d, s, seed in bench_cells()
        ],
        curves=[
            f"{BENCH_OUT}/{b}/{d}/seed{seed}/{s}.curve.parquet"
            for b, d, s, seed in bench_cells()
        ],
        cell_benchmarks=[
            benchmarks(f"{s}.cell", f"benchmark/{b}/{d}/seed{seed}")
            for b, d, s, seed in bench_cells()
        ],
        detector_benchmarks=[
            benchmarks("detector", f"benchmark/{b}/{d}/seed{seed}")
            for b in bench_cfg().get("datasets", [])
            for d in bench_cfg().get("detectors", {})
            for seed in bench_cfg().get("seeds", [])
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
        detector_keys=[
            (b, d, seed)
            for b in bench_cfg().get("datasets", [])
            for d in bench_cfg().get("detectors", {})
            for seed in bench_cfg().get("seeds", [])
        ],
        first_viewed=bench_cfg().get("first_viewed"),
        ns=bench_cfg().get("ns"),
    script:
        "../scripts/benchmark_collect.py"


localrules:
    benchmark,


rule benchmark:
    input:
        rules.benchmark_collect.output,
