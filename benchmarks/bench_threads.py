"""Thread policy under load: one t-SNE or LOF step, idle and beside a CPU load it generates.

    .venv/bin/python benchmarks/bench_threads.py --step tsne --threads 2 --load 3
    .venv/bin/python benchmarks/bench_threads.py --step lof --before /tmp/base/src

Each measurement runs in a fresh child process that does what a workflow job does: import
``astroanom.runtime``, import the step's module, call ``runtime.configure(None, threads)``, then
time the step (``tsne``: :func:`astroanom.evaluate.embedding.tsne_map` of 2000 x 21 seeded normal rows;
``lof``: :class:`astroanom.detect.LocalOutlierFactor` (k = 100, n_jobs = threads) on
20 000 x 100). ``--before DIR`` also runs the step with the library at DIR (e.g. an export of
the previous commit's ``src``) in an environment without OMP_WAIT_POLICY, back to back. The
load is ``--load`` busy-looping child processes, started before and killed (by pid) after each
loaded measurement; each is also bounded by ``--max-load-seconds``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time
import numpy as np
from astroanom.runtime import configure
step, threads = sys.argv[1], int(sys.argv[2])
if step == "tsne":
    from astroanom.evaluate.embedding import tsne_map
else:
    from astroanom.detect.detectors import LocalOutlierFactor
configure(None, threads)
rng = np.random.default_rng(0)
if step == "tsne":
    X = rng.normal(size=(2000, 21)).astype(np.float32)
    t0, c0 = time.perf_counter(), time.process_time()
    tsne_map(X, seed=0, n_jobs=threads)
else:
    X = rng.normal(size=(20000, 100)).astype(np.float32)
    t0, c0 = time.perf_counter(), time.process_time()
    LocalOutlierFactor(n_neighbors=100, n_jobs=threads).fit_score(X)
print(f"{time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}")
"""


def run_child(src: Path, step: str, threads: int, old_env: bool) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(src))
    if old_env:
        for var in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env.pop(var, None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, step, str(threads)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-2]), float(out[-1])


def with_load(n: int, seconds: float, fn):  # noqa: ANN001, ANN202
    """Run ``fn()`` while ``n`` busy-looping processes (each at most ``seconds``) compete."""
    code = f"import time\nt = time.time() + {seconds}\nwhile time.time() < t: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]
    try:
        time.sleep(0.5)
        return fn()
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--step", choices=("tsne", "lof"), default="tsne")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--load", type=int, default=3, help="busy processes for the loaded runs")
    ap.add_argument("--max-load-seconds", type=float, default=300.0)
    ap.add_argument("--before", type=Path, help="src directory of the previous library")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    variants = [("after", REPO / "src", False)]
    if args.before:
        variants.insert(0, ("before", args.before, True))
    print(f"{args.step}, threads={args.threads}, {os.cpu_count()} CPUs")
    for load in (0, args.load):
        for name, src, old in variants:
            for _ in range(args.repeats):
                before = os.getloadavg()[0]
                if load:
                    wall, cpu = with_load(
                        load,
                        args.max_load_seconds,
                        lambda src=src, old=old: run_child(src, args.step, args.threads, old),
                    )
                else:
                    wall, cpu = run_child(src, args.step, args.threads, old)
                print(
                    f"  {name:6s} extra load {load}: wall {wall:7.2f} s  cpu {cpu:7.2f} s  "
                    f"(load avg before {before:.2f}, after {os.getloadavg()[0]:.2f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
