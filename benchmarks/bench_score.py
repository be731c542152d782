"""Scoring throughput of ``astroanom score``: N new table rows ranked with a run's bundle.

    .venv/bin/python benchmarks/bench_score.py                       # 1M new rows, 10 features
    .venv/bin/python benchmarks/bench_score.py --new 100000 --train 5000 --out score.json

A seeded table of ``--train`` rows x ``--features`` features is run through the real workflow
(snakemake, targets ranked.csv and bundle.zip only: isolation forest of 100 trees, the paper's
S^ with 50 simulated labels), then a seeded table of ``--new`` rows (Parquet) is scored with
``astroanom.pipeline.bundle.score_batch`` in a fresh process (peak RSS of the scoring alone).
Prints the load before and after, the stages (bundle load with its models, features, scoring,
writing the tables, ranked.csv and the export of the top 50; total including reading the
batch) and rows/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import run_in_child  # noqa: E402


def table(n: int, m: int, seed: int, odd: int = 0) -> pd.DataFrame:
    """n rows of m Gaussian features (the last ``odd`` shifted by 4: class 1)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    cls = np.zeros(n, dtype=np.int64)
    if odd:
        X[-odd:] += 4.0
        cls[-odd:] = 1
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(m)])
    df.insert(0, "id", [f"s{seed}_{i:07d}" for i in range(n)])
    df["class"] = cls
    return df


def fit_run(wd: Path, n: int, m: int) -> Path:
    """The workflow's run of the training table; returns its config file."""
    table(n, m, seed=1, odd=max(5, n // 200)).to_parquet(wd / "train.parquet", index=False)
    cfg = {
        "datasets": {
            "bench": {
                "source": {"kind": "table", "path": "train.parquet", "keep": ["class"]},
                "detector": {"name": "iforest", "n_estimators": 100},
                "truth": {"kind": "class", "column": "class", "anomaly_classes": [1]},
                "oracle": {
                    "mode": "simulated",
                    "relevance": {0: 0, 1: 5},
                    "batch": 50,
                    "budget": 50,
                },
            }
        }
    }
    (wd / "bench.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    cmd = [str(Path(sys.executable).parent / "snakemake"), "-s", str(REPO / "workflow/Snakefile")]
    cmd += ["-d", str(wd), "--configfile", str(wd / "bench.yaml"), "--cores", "2"]
    cmd += ["results/bench/ranked.csv", "results/bench/bundle.zip"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"the workflow run failed:\n{proc.stderr[-3000:]}")
    return wd / "bench.yaml"


def score(wd: str, config: str, batch: str, threads: int) -> dict:
    """Run in a fresh process: score the batch; the stage timings of batch.json."""
    os.chdir(wd)
    from astroanom import config as acfg
    from astroanom.pipeline.bundle import score_batch

    cfg = acfg.load([Path(config)])
    out = score_batch(cfg, "bench", batch, threads=threads)
    return json.loads((out / "batch.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--new", type=int, default=1_000_000, help="rows of the new batch")
    ap.add_argument("--train", type=int, default=20_000, help="rows of the fitted run")
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON")
    args = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_score_") as tmp:
        wd = Path(tmp)
        config = fit_run(wd, args.train, args.features)
        batch = wd / "tonight.parquet"
        table(args.new, args.features, seed=2).to_parquet(batch, index=False)
        res = run_in_child(
            score, wd=str(wd), config=str(config), batch=str(batch), threads=args.threads
        )
        size = (wd / "results/bench/bundle.zip").stat().st_size
    load1 = os.getloadavg()
    rec = res["out"]
    sec = rec["seconds"]
    result = {
        "new_rows": args.new,
        "train_rows": args.train,
        "features": args.features,
        "threads": args.threads,
        "bundle_bytes": size,
        "seconds": sec,
        "rows_per_s_scoring": args.new / sec["score"],
        "rows_per_s_total": args.new / sec["total"],
        "peak_rss_mib": res["peak_rss_mib"],
        "cpu_s": res["cpu_s"],
        "load_before": load0,
        "load_after": load1,
    }
    print(
        f"load before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
        f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} (2 cores)"
    )
    print(f"bundle of {args.train} rows x {args.features} features: {size / 1e6:.1f} MB")
    print(f"{args.new} new rows on {args.threads} thread(s):")
    for k in ("load", "features", "score", "write", "total"):
        print(f"  {k:9s} {sec[k]:8.2f} s")
    print(
        f"  scoring {result['rows_per_s_scoring']:,.0f} rows/s; end to end "
        f"{result['rows_per_s_total']:,.0f} rows/s; peak RSS {res['peak_rss_mib']:.0f} MiB"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
