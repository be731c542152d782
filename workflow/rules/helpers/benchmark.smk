# Helpers of rules/benchmark.smk (input functions, parameters, names).
import logging

from astroanom import plugins
from astroanom.pipeline import benchmark as abench

BENCH_OUT = f"{RESULTS}/benchmark"
CELL = "benchmark/{bset}/{det}/seed{seed}"  # a cell's logs and benchmark files, below RESULTS


wildcard_constraints:
    bset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    det=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    strat=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    cell=r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*){3,4}",


def bench_cfg():
    return config.get("benchmark", {})


SKIPPED_STRATEGIES = set()  # warned about once


def bench_strategies():
    """Configured strategies; an optional one whose package is missing is skipped, loudly."""
    out = {}
    for label, entry in bench_cfg().get("strategies", {}).items():
        if entry["optional"] and not plugins.installed("strategy", entry["name"]):
            if label in SKIPPED_STRATEGIES:
                continue
            SKIPPED_STRATEGIES.add(label)
            logging.getLogger("astroanom.benchmark").warning(
                "benchmark: skipping strategy %r: its optional package is not installed "
                "(pip install 'astroanom[%s]')",
                label,
                entry["name"],
            )
            continue
        out[label] = entry
    return out


def bench_run(bset, seed):
    """The RunDir of a benchmark dataset for a seed (its seed's run if it replicates)."""
    runs = acfg.runs(config, bset)
    match = [r for r in runs if r.seed == int(seed)] if runs[0].replicated else runs
    return RunDir(match[0].path, RESULTS)


def bench_plan():
    """Every cell of the benchmark (tasks x feature sets x detectors x strategies x seeds)."""
    return (
        abench.plan_cells(bench_cfg(), list(bench_strategies())) if bench_cfg() else []
    )


BENCH_CELLS = {c.path: c for c in bench_plan()}


def bench_cell(path):
    """The plan's cell of a `cell` wildcard (its file stem below results/benchmark)."""
    return BENCH_CELLS[path]


def bench_cell_run(path):
    """The RunDir of a cell's dataset and seed."""
    c = bench_cell(path)
    return bench_run(c.dataset, c.seed)


def bench_cell_scores(path):
    """The detector scores a cell ranks from (shared by every task and strategy)."""
    c = bench_cell(path)
    return f"{BENCH_OUT}/{c.dataset}/{c.detector}/seed{c.seed}/detector.parquet"


def bench_cell_keys(c):
    """Leading columns of a cell's tables: task (only with benchmark.tasks) and the rest."""
    keys = {} if c.task.legacy else {"task": c.task.name}
    return {
        **keys,
        "dataset": c.dataset,
        "detector": c.detector,
        "strategy": c.strategy,
        "seed": c.seed,
    }


def bench_task_spec(c):
    """The cell's task as a parameter (None for a benchmark.datasets entry: its own truth)."""
    return None if c.task.legacy else c.task.spec()


def bench_detector_runs():
    return abench.detector_runs(bench_cfg()) if bench_cfg() else []
