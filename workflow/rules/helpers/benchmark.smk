# Helpers of rules/benchmark.smk (input functions, parameters, names).
import logging

from astroanom import plugins

BENCH_OUT = f"{RESULTS}/benchmark"
CELL = "benchmark/{bset}/{det}/seed{seed}"  # a cell's logs and benchmark files, below RESULTS


wildcard_constraints:
    bset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    det=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    strat=r"[A-Za-z0-9][A-Za-z0-9_.-]*",


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


def bench_cells():
    return [
        (b, d, s, seed)
        for b in bench_cfg().get("datasets", [])
        for d in bench_cfg().get("detectors", {})
        for s in bench_strategies()
        for seed in bench_cfg().get("seeds", [])
    ]
