"""Exact LOF as a process's first fit: ours against scikit-learn, in fresh processes, interleaved.

    .venv/bin/python benchmarks/bench_lof_first_fit.py --x /tmp/sim50k.npy --pairs 5
    .venv/bin/python benchmarks/bench_lof_first_fit.py --x X.npy --src /tmp/before/src --src src

The workflow's detect job fits LOF once per process, so the figure that matters is the first fit
of a fresh interpreter, with whatever the fit loads on first use (numba and its cached kernels,
thread pools) inside the timed call. Each measurement is one new ``python`` process that imports
the detector, loads ``X`` (an ``.npy`` file, n x m) and times one ``fit``: for us
``LocalOutlierFactor(n_neighbors=k, n_jobs=threads).fit_score(X)`` with ``PYTHONPATH`` set to
each ``--src`` in turn, for scikit-learn ``LocalOutlierFactor(n_neighbors=k).fit(X)`` (its
defaults). A round runs every contender once, in an order rotated each round, so a change of
machine load hits all of them alike; ``--pairs`` rounds. Printed per process: the fit's wall
and CPU seconds (all threads), the process's wall from start to exit, its peak RSS, the
1-minute load average; then medians and the scikit-learn / ours ratio of the fit's wall time
(per round and median). Every run's -LOF is checked against scikit-learn's of the same round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
t_start = time.perf_counter()
kind, xpath, k, threads, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import numpy as np
if kind == "sklearn":
    from sklearn.neighbors import LocalOutlierFactor
else:
    from astroanom.detect.detectors import LocalOutlierFactor
X = np.load(xpath)
t_ready = time.perf_counter()
c0, w0 = time.process_time(), time.perf_counter()
if kind == "sklearn":
    nof = LocalOutlierFactor(n_neighbors=k).fit(X).negative_outlier_factor_
else:
    det = LocalOutlierFactor(n_neighbors=k, block_rows=1024, approximate_above=None,
                             approximate="ivf", approximate_params=None, n_jobs=threads)
    nof = det.fit_score(X)
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
np.save(out, nof)
print(json.dumps({"fit": wall, "cpu": cpu, "ready": t_ready - t_start,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
"""


def run_one(kind: str, src: str | None, x: Path, k: int, threads: int, out: Path) -> dict:
    """One fresh process; returns its measurements (plus the process's own wall time)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(x), str(k), str(threads), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(f"{kind} {src}: exit {res.returncode}\n{res.stderr}")
    rec = json.loads(res.stdout.strip().splitlines()[-1])
    rec["process"] = time.perf_counter() - t0
    rec["load"] = os.getloadavg()[0]
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--x", type=Path, required=True, help=".npy features (n, m)")
    ap.add_argument("--src", action="append", help="src directory of astroanom (repeatable)")
    ap.add_argument("--pairs", type=int, default=3, help="rounds (each runs every contender)")
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-sklearn", action="store_true")
    args = ap.parse_args()
    import numpy as np

    srcs = args.src or [str(Path(__file__).resolve().parents[1] / "src")]
    contenders = [("ours", s) for s in srcs] + ([] if args.skip_sklearn else [("sklearn", None)])
    results: dict[int, list[dict]] = {i: [] for i in range(len(contenders))}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.pairs):
            turn = list(range(len(contenders)))
            turn = turn[r % len(turn) :] + turn[: r % len(turn)]
            nofs = {}
            for i in turn:
                kind, src = contenders[i]
                out = Path(tmp) / f"nof{i}.npy"
                rec = run_one(kind, src, args.x, args.k, args.threads, out)
                nofs[i] = np.load(out)
                results[i].append(rec)
                print(
                    f"round {r} {kind:7s} {src or '':28s} fit {rec['fit']:6.2f} s  "
                    f"CPU {rec['cpu']:6.2f} s  process {rec['process']:6.2f} s  "
                    f"(imports+data {rec['ready']:.2f})  RSS {rec['rss']:6.0f} MiB  "
                    f"load {rec['load']:.2f}",
                    flush=True,
                )
            if not args.skip_sklearn:
                sk = nofs[len(contenders) - 1]
                for i in range(len(contenders) - 1):
                    rel = float(np.max(np.abs(nofs[i] - sk) / np.abs(sk)))
                    ratio = results[len(contenders) - 1][-1]["fit"] / results[i][-1]["fit"]
                    print(f"  round {r} {srcs[i]}: ratio {ratio:.2f}x, max rel. diff {rel:.1e}")
    print("medians:")
    for i, (kind, src) in enumerate(contenders):
        recs = results[i]
        med = {key: statistics.median(x[key] for x in recs) for key in recs[0]}
        print(
            f"  {kind:7s} {src or '':28s} fit {med['fit']:.2f} s (range "
            f"{min(x['fit'] for x in recs):.2f}-{max(x['fit'] for x in recs):.2f})  CPU "
            f"{med['cpu']:.2f} s  process {med['process']:.2f} s  RSS {med['rss']:.0f} MiB  "
            f"load {min(x['load'] for x in recs):.1f}-{max(x['load'] for x in recs):.1f}"
        )
    if not args.skip_sklearn:
        sk = results[len(contenders) - 1]
        for i in range(len(contenders) - 1):
            per = [a["fit"] / b["fit"] for a, b in zip(sk, results[i], strict=True)]
            proc = [a["process"] / b["process"] for a, b in zip(sk, results[i], strict=True)]
            cpu = [a["cpu"] / b["cpu"] for a, b in zip(sk, results[i], strict=True)]
            print(
                f"  scikit-learn / {srcs[i]}: fit {statistics.median(per):.2f}x "
                f"(per round {min(per):.2f}-{max(per):.2f}), CPU {statistics.median(cpu):.2f}x, "
                f"whole process {statistics.median(proc):.2f}x"
            )


if __name__ == "__main__":
    main()
