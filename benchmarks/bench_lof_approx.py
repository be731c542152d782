"""LOF with approximate neighbours against exact LOF: time, neighbour recall, rank agreement.

    .venv/bin/python benchmarks/bench_lof_approx.py                       # 50k simulated curves
    .venv/bin/python benchmarks/bench_lof_approx.py --synthetic 200000 --methods ivf

Data: the default simulation (paper preset, seed 1, 50k x 100; simulated into --cache; with
``--seeds N`` the simulations of seeds 1..N stacked) or a
seeded synthetic table (10 Gaussian clusters in 100-D plus 1 % uniform outliers). Exact:
:func:`astroanom.detect.knn.kneighbors`; approximate: :func:`astroanom.detect.ann.approx_kneighbors` (each
candidate list re-ranked exactly). For each: wall seconds, neighbour recall (mean fraction of
the exact k neighbours found), Spearman correlation of -LOF with exact -LOF, and the overlap
of the 500 most anomalous objects.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {
    "ivf": [{"nprobe": 16}, {"nprobe": 32}, {"nprobe": 64}],
    "ivf32": [{"nprobe": 32}],
    "hnsw": [{}, {"hnsw_m": 16, "ef_construction": 100, "ef_search": 128}],
    "pynndescent": [{}],
}


def load(cache: Path, synthetic: int | None, seeds: int = 1) -> np.ndarray:
    if synthetic:
        rng = np.random.default_rng(0)
        centres = rng.normal(scale=4.0, size=(10, 100))
        X = centres[rng.integers(0, 10, synthetic)] + rng.normal(size=(synthetic, 100))
        out = rng.choice(synthetic, synthetic // 100, replace=False)
        X[out] = rng.uniform(-12, 12, size=(out.size, 100))
        return X.astype(np.float32)
    from astroanom.sources.simulation import SimulationSource
    from astroanom.store.io import read_features

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    src = cfg["datasets"]["sim_class3_reassigned"]["source"]
    classes = cfg["simulation_presets"][src["preset"]]["classes"]
    parts = []
    for seed in range(1, seeds + 1):
        d = cache if seed == 1 else cache.with_name(f"{cache.name}_seed{seed}")
        values = d / "source" / "values.parquet"
        if not values.exists():
            SimulationSource(classes, src["counts"], preset=src["preset"]).manifest(d, seed)
        parts.append(read_features(values)[1])
    return np.concatenate(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--synthetic", type=int, help="a synthetic table of this many rows")
    ap.add_argument(
        "--seeds", type=int, default=1, help="stack the simulations of seeds 1..N (N x 50k rows)"
    )
    ap.add_argument("--methods", nargs="+", default=["ivf", "hnsw", "pynndescent"])
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "astroanom_sim50k")
    args = ap.parse_args()

    from scipy.stats import spearmanr

    from astroanom.detect.ann import approx_kneighbors
    from astroanom.detect.detectors import negative_outlier_factor
    from astroanom.detect.knn import kneighbors
    from astroanom.runtime import limit_threads

    limit_threads(args.threads)
    X = load(args.cache, args.synthetic, args.seeds)
    print(f"LOF k={args.k} on {X.shape[0]} x {X.shape[1]}, threads={args.threads}", flush=True)
    t0 = time.perf_counter()
    de, ie = kneighbors(X, args.k, n_jobs=args.threads)
    t_exact = time.perf_counter() - t0
    lof = negative_outlier_factor(de, ie)
    top = np.argsort(lof)[:500]
    print(f"  exact        {t_exact:8.1f} s   (load {os.getloadavg()[0]:.2f})", flush=True)
    for method in args.methods:
        for params in SETTINGS[method]:
            t0 = time.perf_counter()
            name = "ivf" if method == "ivf32" else method
            da, ia = approx_kneighbors(X, args.k, method=name, n_jobs=args.threads, **params)
            t = time.perf_counter() - t0
            recall = np.mean([np.intersect1d(a, b).size for a, b in zip(ia, ie, strict=True)])
            approx = negative_outlier_factor(da, ia)
            rho = spearmanr(approx, lof).statistic
            overlap = np.intersect1d(np.argsort(approx)[:500], top).size / 500
            print(
                f"  {method:11s} {t:8.1f} s   recall {recall / args.k:.4f}   Spearman {rho:.5f}   "
                f"top-500 overlap {overlap:.3f}   {params}   (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
