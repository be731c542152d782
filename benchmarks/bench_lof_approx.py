"""LOF with approximate neighbours against exact LOF: time, neighbour recall, rank agreement.

    .venv/bin/python benchmarks/bench_lof_approx.py                       # 50k simulated curves
    .venv/bin/python benchmarks/bench_lof_approx.py --synthetic 200000 --methods ivf
    .venv/bin/python benchmarks/bench_lof_approx.py --x /tmp/sim1m.npy --large --subsample 100000

With ``--large`` (for tables where exact LOF is too slow, e.g. 1M rows) the script instead
(1) runs approximate LOF (IVF, nprobe 32, the default) on all rows and prints its wall and CPU
seconds and the process's peak RSS (taken right after, before anything else is allocated);
(2) measures the neighbour recall at full size on ``--queries`` random rows, against their
exact float64 neighbours among all rows (brute force in chunks);
(3) on a random ``--subsample`` of the rows, compares exact LOF (:func:`kneighbors`) with
approximate LOF (the same method and parameters) on the subsample: neighbour recall, Spearman of
-LOF, and the recall of the top-N LOF anomalies (the fraction of exact LOF's N most anomalous
found among approximate LOF's N most anomalous, N = 100, 500, 1000).

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
            SimulationSource(classes, src["counts"], preset=src["preset"]).write_values(
                values, seed
            )
        parts.append(read_features(values)[1])
    return np.concatenate(parts)


def _recall(a: np.ndarray, b: np.ndarray) -> float:
    """Mean fraction of the rows of ``b`` (q, k) found in the same rows of ``a`` (q, k)."""
    return (
        float(np.mean([np.intersect1d(x, y).size for x, y in zip(a, b, strict=True)])) / b.shape[1]
    )


def _exact_queries(X: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Exact k nearest neighbours (q, k) of ``rows`` among all rows of ``X`` (float64 brute
    force in chunks: the k + 32 smallest by the expanded form, re-ranked from differences)."""
    from astroanom.detect.knn import _exact_rerank

    mean = X.mean(axis=0, dtype=np.float64)
    sq = np.empty(X.shape[0])
    for s in range(0, X.shape[0], 65536):
        xc = X[s : s + 65536] - mean
        sq[s : s + 65536] = np.einsum("ij,ij->i", xc, xc)
    out = np.empty((rows.size, k), dtype=np.int64)
    for s in range(0, rows.size, 32):
        q = rows[s : s + 32]
        d2 = np.empty((q.size, X.shape[0]))
        xq = X[q] - mean
        for t in range(0, X.shape[0], 65536):
            d2[:, t : t + 65536] = (
                sq[q, None] + sq[None, t : t + 65536] - 2.0 * (xq @ (X[t : t + 65536] - mean).T)
            )
        d2[np.arange(q.size), q] = np.inf
        cand = np.argpartition(d2, k + 32, axis=1)[:, : k + 32]
        _, idx = _exact_rerank(X, q, cand)
        out[s : s + 32] = idx[:, :k]
    return out


def large(args: argparse.Namespace, X: np.ndarray) -> None:
    """Approximate LOF on all rows (time, peak RSS), recall at full size and on a subsample."""
    import resource

    from scipy.stats import spearmanr

    from astroanom.detect.ann import approx_kneighbors
    from astroanom.detect.detectors import negative_outlier_factor
    from astroanom.detect.knn import kneighbors

    n, k, th = X.shape[0], args.k, args.threads
    params = {"nprobe": args.nprobe}
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c0, t0 = time.process_time(), time.perf_counter()
    da, ia = approx_kneighbors(X, k, method="ivf", n_jobs=th, **params)
    nof = negative_outlier_factor(da, ia)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  approximate LOF (ivf {params}) on {n}: {t:.1f} s wall, {c:.1f} CPU-s, peak RSS "
        f"{peak:.0f} MiB (data and imports {base:.0f} MiB)   (load {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    rng = np.random.default_rng(args.sample_seed)
    q = np.sort(rng.choice(n, args.queries, replace=False))
    t0 = time.perf_counter()
    ref = _exact_queries(X, q, k)
    print(
        f"  neighbour recall at {n} on {q.size} random rows (exact brute force "
        f"{time.perf_counter() - t0:.1f} s): {_recall(ia[q], ref):.4f}   "
        f"(load {os.getloadavg()[0]:.2f})",
        flush=True,
    )
    del da, ia, nof
    sub = np.sort(rng.choice(n, min(n, args.subsample), replace=False))
    Xs = np.ascontiguousarray(X[sub])
    c0, t0 = time.process_time(), time.perf_counter()
    de, ie = kneighbors(Xs, k, n_jobs=th)
    te, ce = time.perf_counter() - t0, time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    da, ia = approx_kneighbors(Xs, k, method="ivf", n_jobs=th, **params)
    ta, ca = time.perf_counter() - t0, time.process_time() - c0
    exact, approx = negative_outlier_factor(de, ie), negative_outlier_factor(da, ia)
    rho = spearmanr(approx, exact).statistic
    tops = []
    for top in (100, 500, 1000):
        e, a = np.argsort(exact, kind="stable")[:top], np.argsort(approx, kind="stable")[:top]
        tops.append(f"top-{top} {np.intersect1d(e, a).size / top:.3f}")
    print(
        f"  subsample of {sub.size}: exact {te:.1f} s / {ce:.1f} CPU-s, approximate {ta:.1f} s / "
        f"{ca:.1f} CPU-s; neighbour recall {_recall(ia, ie):.4f}, Spearman {rho:.5f}, "
        f"{', '.join(tops)}   (load {os.getloadavg()[0]:.2f})",
        flush=True,
    )


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
    ap.add_argument("--x", type=Path, help="an .npy table (n, m) instead of a simulation")
    ap.add_argument(
        "--large", action="store_true", help="approximate on all rows, exact on a sample"
    )
    ap.add_argument("--subsample", type=int, default=100_000, help="--large: rows of the sample")
    ap.add_argument("--queries", type=int, default=1000, help="--large: rows for full-size recall")
    ap.add_argument("--nprobe", type=int, default=32, help="--large: IVF cells visited")
    ap.add_argument("--sample-seed", type=int, default=0)
    args = ap.parse_args()

    from scipy.stats import spearmanr

    from astroanom.detect.ann import approx_kneighbors
    from astroanom.detect.detectors import negative_outlier_factor
    from astroanom.detect.knn import kneighbors
    from astroanom.runtime import limit_threads

    limit_threads(args.threads)
    X = np.load(args.x) if args.x else load(args.cache, args.synthetic, args.seeds)
    print(f"LOF k={args.k} on {X.shape[0]} x {X.shape[1]}, threads={args.threads}", flush=True)
    if args.large:
        large(args, X)
        return
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
