"""The library path at survey scale: seeded N x 21 float32 tables (100k, 300k, 1M by default).

    .venv/bin/python benchmarks/bench_scale.py [--sizes 100000 300000 1000000] [--threads 1]
    PYTHONPATH=/path/to/old/src .venv/bin/python benchmarks/bench_scale.py   # another library

Per size, one fresh child process runs, in order: ``scale`` (:func:`astroanom.features.scaling.standardise`),
``detect`` (isolation forest, 100 trees, seeded; ``--iforest-backend``), ``label`` (the top 200
by S labelled by a simulated oracle: 5 for the 1 % of rows shifted by +3 in every feature, else
0), ``retrain`` (:class:`astroanom.active.RelevanceLearner`, 100 trees, and the active score;
its forest predicting on ``--threads`` threads), ``rank``
(:func:`astroanom.ordering.rank_order` of S^), then the labeller's data layer on the same data
written as a dataset directory: ``labeller_load`` (:class:`LabellerData`, which retrains since
labels exist), ``labeller_retrain``, ``labeller_order_rows`` (the S^ order as rows, where the
library has it) and ``labeller_order_ids`` (as a list of ids, the old /api/order body).

For every step: wall seconds, CPU seconds (all threads; steadier than wall on a shared
machine), and the peak resident set size during the step (Linux: VmHWM,
reset before each step through /proc/self/clear_refs), MiB. The table ends with the growth
exponent of each step's time between consecutive sizes: log(t2 / t1) / log(n2 / n1).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

M = 21
N_LABELS = 200


def _hwm_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_hwm() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def child(n: int, threads: int, backend: str, seed: int) -> dict[str, dict[str, float]]:
    """All steps for one size in this process; returns {step: {seconds, peak_mib}}."""
    import numpy as np
    import pandas as pd

    try:
        from astroanom.runtime import limit_threads
    except ImportError:  # an older library: threadpoolctl only
        from threadpoolctl import threadpool_limits as limit_threads

    limit_threads(threads)
    from astroanom.active.score import RelevanceLearner
    from astroanom.detect.detectors import IsolationForestDetector, to_anomaly_score
    from astroanom.features.scaling import standardise
    from astroanom.labeller.data import LabellerData, LabellerSettings
    from astroanom.ordering import rank_order
    from astroanom.store import dataset as ds
    from astroanom.store.io import feature_frame, write_parquet
    from astroanom.store.labels import LabelStore

    rng = np.random.default_rng(seed)
    X0 = rng.normal(size=(n, M)).astype(np.float32)
    X0 *= rng.uniform(0.1, 100.0, M).astype(np.float32)
    X0 += rng.uniform(-50, 50, M).astype(np.float32)
    odd = rng.choice(n, n // 100, replace=False)
    X0[odd] += np.float32(3.0) * X0.std(axis=0)
    truth = np.zeros(n, dtype=bool)
    truth[odd] = True
    out: dict[str, dict[str, float]] = {}
    state: dict[str, object] = {}

    def step(name: str, fn) -> None:  # noqa: ANN001
        _reset_hwm()
        t0, c0 = time.perf_counter(), time.process_time()
        state[name] = fn()
        out[name] = {
            "seconds": time.perf_counter() - t0,
            "cpu": time.process_time() - c0,
            "peak_mib": _hwm_mib(),
        }

    out["baseline"] = {"seconds": 0.0, "cpu": 0.0, "peak_mib": (_reset_hwm(), _hwm_mib())[1]}
    step("scale", lambda: standardise(X0)[0])
    X = state["scale"]
    kw = {"backend": backend} if backend != "sklearn" else {}
    det = IsolationForestDetector(n_estimators=100, seed=seed, n_jobs=threads, **kw)
    step("detect", lambda: to_anomaly_score(det.fit_score(X), det.lower_is_weirder))
    S = state["detect"]

    def label() -> tuple[np.ndarray, np.ndarray]:
        top = rank_order(S)[:N_LABELS]
        return top, np.where(truth[top], 5.0, 0.0)

    step("label", label)
    idx, lab = state["label"]
    if lab.min() == lab.max():  # make sure the forest is fitted: one of each
        lab[-1] = 5.0 - lab[-1]
    step(
        "retrain",
        lambda: RelevanceLearner(100, seed=seed, n_jobs=threads).retrain(X, S, idx, lab, alpha=1.0),
    )
    step("rank", lambda: rank_order(state["retrain"].score))

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        d = Path(tmp)
        ids = np.char.add("o", np.arange(n).astype(str))
        write_parquet(feature_frame(ids, X), d / ds.FEATURES)
        write_parquet(pd.DataFrame({"id": ids, "raw": -S, "S": S}), d / ds.SCORES)
        ds.DatasetInfo(name=f"scale/{n}", kind="curve", seed=seed).write(d)
        store = LabelStore(d / "labels.csv", "bench")
        for i, v in zip(idx, lab, strict=True):
            store.set(ids[i], int(v))
        del store
        settings = LabellerSettings(
            alpha=1.0, n_estimators=100, seed=seed, strategy={"name": "paper"}, threads=threads
        )
        step("labeller_load", lambda: LabellerData(d, d / "labels.csv", "bench", settings))
        data = state["labeller_load"]
        step("labeller_retrain", data.retrain)
        if hasattr(data, "order_rows"):
            step("labeller_order_rows", lambda: data.order_rows("retrained"))
        step("labeller_order_ids", lambda: data.order("retrained"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iforest-backend", default="sklearn", choices=("sklearn", "coniferest"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        res = child(args.child, args.threads, args.iforest_backend, args.seed)
        print("RESULT " + json.dumps(res))
        return
    results: dict[int, dict[str, dict[str, float]]] = {}
    print(
        f"bench_scale: N x {M} float32, threads={args.threads}, iforest={args.iforest_backend}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--threads", str(args.threads)]
        cmd += ["--iforest-backend", args.iforest_backend, "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            sys.exit(f"size {n} failed:\n{proc.stderr[-3000:]}")
        results[n] = json.loads(line[0][7:])
        print(f"  N = {n}: done (load average {os.getloadavg()[0]:.2f})", flush=True)
    steps = [s for s in results[args.sizes[-1]] if s != "baseline"]
    head = "".join(f"{n:>28,d}" for n in args.sizes)
    print(f"\n{'step':22s}{head}   (wall s / CPU s / peak MiB)   growth exponent (wall)")
    for s in ["baseline", *steps]:
        cells = "".join(
            f"{results[n][s]['seconds']:10.3f} {results[n][s]['cpu']:7.3f} {results[n][s]['peak_mib']:9.0f}"
            if s in results[n]
            else f"{'-':>28s}"
            for n in args.sizes
        )
        exps = []
        for a, b in zip(args.sizes, args.sizes[1:], strict=False):
            ta, tb = results[a].get(s, {}).get("seconds"), results[b].get(s, {}).get("seconds")
            if s != "baseline" and ta and tb and ta > 0:
                exps.append(f"{math.log(tb / ta) / math.log(b / a):5.2f}")
        print(f"{s:22s}{cells}   {' '.join(exps)}")
    mat = {n: n * M * 4 / 2**20 for n in args.sizes}
    print("\nfeature matrix float32 MiB: " + ", ".join(f"{n:,d}: {v:.0f}" for n, v in mat.items()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
