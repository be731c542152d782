"""Performance benchmark for the simulation experiment (issue 2, item 7).

Measures, on the default 50k x 100 simulation (dataset ``sim_class3_reassigned``, seed 1):

(a) LOF with k = 100: ours (:class:`astroanom.detect.detectors.LocalOutlierFactor`) against
    scikit-learn's ``LocalOutlierFactor(n_neighbors=100).fit(X)`` defaults on the same float32
    data, the speed-up, and whether our neighbour sets equal an exact float64 search
    (scikit-learn ``NearestNeighbors`` on float64 data) row by row;
(b) one active-learning retrain, ``RelevanceLearner(100 trees, seed 1, n_jobs 2).retrain`` with
    the detector's top 100 labelled by the simulated oracle: median wall time of the repeats.

Every step runs in a fresh child process, so its peak memory is that process's peak resident
set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), reported in full and above the
baseline of the same process after imports and loading X. Wall times are ``time.perf_counter``;
CPU times (``time.process_time``, all threads) are printed as well because the machine may be
shared. Needs no Snakemake:

    .venv/bin/python benchmarks/bench_simulation.py [--n 50000] [--repeats 5] [--skip-sklearn]
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
RETRAIN_TARGET_S = 0.3
SPEEDUP_TARGET = 3.0


def _rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn``; return (result, wall seconds, CPU seconds of all threads)."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _step_ours(xpath: str, outdir: str, repeats: int) -> dict[str, Any]:
    from astroanom.detect.detectors import LocalOutlierFactor
    from astroanom.detect.knn import kneighbors

    X = np.load(xpath)
    base = _rss_mib()
    walls, cpus = [], []
    for _ in range(repeats):
        nof, wall, cpu = _timed(
            lambda: LocalOutlierFactor(n_neighbors=100, n_jobs=os.cpu_count() or 1).fit_score(X)
        )
        walls.append(wall)
        cpus.append(cpu)
    peak = _rss_mib()
    np.save(Path(outdir) / "ours_nof.npy", nof)
    np.save(Path(outdir) / "ours_idx.npy", kneighbors(X, 100)[1])  # untimed, for the check
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "walls": walls,
        "base": base,
        "peak": peak,
    }


def _step_sklearn_lof(xpath: str, outdir: str, repeats: int) -> dict[str, Any]:
    from sklearn.neighbors import LocalOutlierFactor

    X = np.load(xpath)
    base = _rss_mib()
    walls, cpus = [], []
    for _ in range(repeats):
        lof, wall, cpu = _timed(lambda: LocalOutlierFactor(n_neighbors=100).fit(X))
        walls.append(wall)
        cpus.append(cpu)
    peak = _rss_mib()
    np.save(Path(outdir) / "sk_nof.npy", lof.negative_outlier_factor_)
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "walls": walls,
        "base": base,
        "peak": peak,
    }


def _step_float64_reference(xpath: str, outdir: str) -> dict[str, Any]:
    from sklearn.neighbors import NearestNeighbors

    X = np.load(xpath).astype(np.float64)
    base = _rss_mib()
    nn = NearestNeighbors(n_neighbors=100, algorithm="brute").fit(X)
    (_, idx), wall, cpu = _timed(nn.kneighbors)
    np.save(Path(outdir) / "ref_idx.npy", idx)
    return {"wall": wall, "cpu": cpu, "walls": [wall], "base": base, "peak": _rss_mib()}


def _step_retrain(xpath: str, outdir: str, repeats: int) -> dict[str, Any]:
    from astroanom.active.score import RelevanceLearner

    X = np.load(xpath)
    S = np.load(Path(outdir) / "S.npy")
    top = np.load(Path(outdir) / "top.npy")
    labels = np.load(Path(outdir) / "labels.npy")
    learner = RelevanceLearner(n_estimators=100, seed=1, n_jobs=2)
    base = _rss_mib()
    learner.retrain(X, S, labelled=top, labels=labels, alpha=1.0)  # warm-up (thread pools)
    walls, cpus = [], []
    for _ in range(repeats):
        _, wall, cpu = _timed(lambda: learner.retrain(X, S, labelled=top, labels=labels, alpha=1.0))
        walls.append(wall)
        cpus.append(cpu)
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "walls": walls,
        "base": base,
        "peak": _rss_mib(),
    }


def _child_entry(fn: Callable[..., dict[str, Any]], args: tuple, conn: Any) -> None:
    conn.send(fn(*args))
    conn.close()


def _in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a fresh spawned, non-daemon process (clean peak-RSS accounting;
    joblib may use its own workers there)."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_entry, args=(fn, args, send))
    proc.start()
    out = recv.recv()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"benchmark step {fn.__name__} failed (exit code {proc.exitcode})")
    out["load"] = os.getloadavg()[0]
    return out


def _simulate(config: Path, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    from astroanom.sources.simulation import simulate

    cfg = yaml.safe_load(config.read_text())
    ds = cfg["datasets"]["sim_class3_reassigned"]
    src = ds["source"]
    counts = {int(c): int(v) for c, v in src["counts"].items()}
    if n is not None:  # scale every class, keeping the class fractions
        total = sum(counts.values())
        counts = {c: max(1, round(v * n / total)) for c, v in counts.items()}
    classes = cfg["simulation_presets"][src["preset"]]["classes"]
    preset = {int(c): v for c, v in classes.items()}
    data = simulate(
        preset, counts, seed, n_x=src.get("n_x", 100), noise_sd=src.get("noise_sd", 0.1)
    )
    relevance = {int(c): float(v) for c, v in ds["oracle"]["relevance"].items()}
    return data.features, data.classes, relevance


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    ap.add_argument(
        "--n",
        type=int,
        default=None,
        help="objects (class counts scaled); default: the config's counts (~50k)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5, help="timed retrain runs (median)")
    ap.add_argument("--lof-repeats", type=int, default=1, help="timed LOF runs each (median)")
    ap.add_argument(
        "--skip-sklearn",
        action="store_true",
        help="skip scikit-learn's LOF and the float64 neighbour check",
    )
    args = ap.parse_args(argv)

    X, classes, relevance = _simulate(args.config, args.n, args.seed)
    n, m = X.shape
    started = datetime.datetime.now().isoformat(timespec="seconds")
    rows: list[tuple[str, dict[str, Any], str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        xpath = str(Path(tmp) / "X.npy")
        np.save(xpath, X)
        ours = _in_child(_step_ours, xpath, tmp, args.lof_repeats)
        rows.append(("LOF k=100, astroanom", ours, "exact blocked float32 GEMM k-NN"))
        nof = np.load(Path(tmp) / "ours_nof.npy")
        notes: list[str] = []
        if not args.skip_sklearn:
            sk = _in_child(_step_sklearn_lof, xpath, tmp, args.lof_repeats)
            rows.append(("LOF k=100, scikit-learn defaults", sk, "LocalOutlierFactor().fit(X)"))
            ref = _in_child(_step_float64_reference, xpath, tmp)
            rows.append(("float64 exact k-NN (reference)", ref, "NearestNeighbors brute, float64"))
            a, b = np.load(Path(tmp) / "ours_idx.npy"), np.load(Path(tmp) / "ref_idx.npy")
            same = (np.sort(a, axis=1) == np.sort(b, axis=1)).all(axis=1)
            sk_nof = np.load(Path(tmp) / "sk_nof.npy")
            rel = np.abs(nof - sk_nof) / np.abs(sk_nof)
            speedup = sk["wall"] / ours["wall"]
            notes += [
                f"- LOF speed-up (wall, scikit-learn / ours): **{speedup:.2f}x** "
                f"(target >= {SPEEDUP_TARGET:g}x: {'met' if speedup >= SPEEDUP_TARGET else 'MISSED'}); "
                f"CPU-time ratio {sk['cpu'] / ours['cpu']:.2f}x",
                f"- neighbour sets identical to the float64 exact search: "
                f"**{'yes' if same.all() else 'no'}** ({int(same.sum())}/{n} rows)",
                f"- max relative difference of -LOF to scikit-learn's negative_outlier_factor_: "
                f"{rel.max():.2e}",
            ]
        # the retrain: detector's top 100 labelled by the simulated oracle
        S = 5.0 * (nof.max() - nof) / (nof.max() - nof.min())
        top = np.argsort(-S, kind="stable")[:100]
        np.save(Path(tmp) / "S.npy", S)
        np.save(Path(tmp) / "top.npy", top)
        np.save(Path(tmp) / "labels.npy", np.array([relevance[int(c)] for c in classes[top]]))
        rt = _in_child(_step_retrain, xpath, tmp, args.repeats)
        rows.append(
            (
                f"retrain (100 labels), median of {args.repeats}",
                rt,
                "RF 100 trees n_jobs=2 fit+predict, distances, S^",
            )
        )
        notes.append(
            f"- retrain median {rt['wall']:.3f} s (target <= {RETRAIN_TARGET_S} s: "
            f"{'met' if rt['wall'] <= RETRAIN_TARGET_S else 'MISSED'}); "
            f"runs: {', '.join(f'{w:.3f}' for w in rt['walls'])}"
        )

    print(
        f"## Simulation benchmark ({n} x {m} float32, seed {args.seed}; started {started}; "
        f"{os.cpu_count()} CPUs)\n"
    )
    print(
        "| step | wall (s) | CPU (s) | throughput (objects/s) | peak RSS (MiB) "
        "| RSS above baseline (MiB) | 1-min load | notes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, r, note in rows:
        print(
            f"| {name} | {r['wall']:.3f} | {r['cpu']:.2f} | {n / r['wall']:,.0f} "
            f"| {r['peak']:.0f} | {r['peak'] - r['base']:.0f} | {r['load']:.1f} | {note} |"
        )
    print()
    print("\n".join(notes))
    print(
        "\nPeak memory: ru_maxrss of a fresh process that loads X and runs only that step; "
        "the baseline is the same process's peak after imports and loading X."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
