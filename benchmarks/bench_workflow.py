"""Wall time of the full default simulation experiment for one seed and one preset.

Runs the real workflow on the default 50k-object configuration restricted to one seed and one
preset's dataset (``sim_class3_reassigned`` by default), in a temporary directory, and prints the
wall time and each rule's time and peak RSS from Snakemake's benchmark files.

    python benchmarks/bench_workflow.py [--seed 1] [--dataset sim_class3_reassigned] [--cores 2] [--keep DIR]

``--summarise RESULTS [RESULTS ...]`` runs nothing: it sums the benchmark files of finished runs
(e.g. the default run's ``results/``) per step — jobs, wall and CPU seconds, peak RSS — one
column group per tree, and the totals (the sum of job CPU time does not depend on the load).

    python benchmarks/bench_workflow.py --summarise /old/results results
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from astroanom.evaluate.timing import read_benchmark

REPO = Path(__file__).resolve().parents[1]


def _job_table(workdir: Path, dataset: str) -> pd.DataFrame:
    """Each job's wall seconds and peak RSS from the run's benchmark files, slowest first."""
    rows = []
    for f in sorted((workdir / "results" / "benchmarks" / dataset).rglob("*.tsv")):
        b = read_benchmark(f)
        rows.append(
            {
                "rule file": str(f.relative_to(workdir / "results" / "benchmarks")),
                "s": b["s"].iloc[-1],
                "max_rss_MB": b["max_rss"].iloc[-1],
            }
        )
    return pd.DataFrame(rows).sort_values("s", ascending=False)


def step_of(path: Path) -> str:
    """The step a benchmark file times: its name without a shard number
    (``features_shard00003`` -> ``features_shard``)."""
    return re.sub(r"\d{5}$", "", path.stem)


def per_step(results: Path) -> pd.DataFrame:
    """Jobs, summed wall and CPU seconds and peak RSS (MB) per step of one ``results/`` tree
    (every ``benchmarks/**/*.tsv``, last repeat of each), slowest CPU first."""
    rows = []
    for f in sorted((results / "benchmarks").rglob("*.tsv")):
        b = read_benchmark(f).iloc[-1]
        rows.append({"step": step_of(f), "s": b["s"], "cpu_s": b["cpu_time"], "rss": b["max_rss"]})
    if not rows:
        raise SystemExit(f"{results}: no benchmark files under {results / 'benchmarks'}")
    t = (
        pd.DataFrame(rows)
        .groupby("step")
        .agg(
            jobs=("s", "size"),
            wall_s=("s", "sum"),
            cpu_s=("cpu_s", "sum"),
            max_rss_MB=("rss", "max"),
        )
    )
    return t.sort_values("cpu_s", ascending=False)


def summarise(trees: list[Path]) -> str:
    """Per-step table of several results trees side by side (columns suffixed by tree index),
    with a total row."""
    tables = [per_step(t).add_suffix(f" [{i}]") for i, t in enumerate(trees)]
    joined = pd.concat(tables, axis=1).fillna(0)
    joined.loc["TOTAL"] = joined.sum(numeric_only=True)
    for c in joined.columns:
        if c.startswith("max_rss"):
            joined.loc["TOTAL", c] = joined[c].iloc[:-1].max()
    head = "\n".join(f"[{i}] {t}" for i, t in enumerate(trees))
    return head + "\n" + joined.round(1).to_string()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summarise", nargs="+", type=Path, metavar="RESULTS")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dataset", default="sim_class3_reassigned")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="run in this directory and keep it")
    args = ap.parse_args()
    if args.summarise:
        print(summarise(args.summarise))
        return

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["seeds"] = [args.seed]
    cfg["datasets"] = {args.dataset: cfg["datasets"][args.dataset]}  # this experiment only
    cfg.pop("benchmark", None)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="astroanom-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg_path = workdir / "bench_config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    cmd = [
        snakemake,
        "-s",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(cfg_path),
        "--cores",
        str(args.cores),
        "--quiet",
    ]
    t0 = time.perf_counter()
    try:
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t0
        table = _job_table(workdir, args.dataset)
    finally:
        if not args.keep:  # about 135 MB per run
            shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\nFull simulation experiment, dataset {args.dataset}, seed {args.seed}, "
        f"{sum(cfg['datasets'][args.dataset]['source']['counts'].values())} objects, "
        f"{args.cores} cores"
    )
    print(f"wall time: {wall:.1f} s (target < 90 s)")
    print(f"largest peak RSS of a job: {table['max_rss_MB'].max():.0f} MB")
    print(
        table.to_markdown(index=False)
        if hasattr(table, "to_markdown")
        else table.to_string(index=False)
    )


if __name__ == "__main__":
    main()
