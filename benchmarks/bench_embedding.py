"""2-D embeddings at growing sizes: scikit-learn t-SNE vs openTSNE (FFT) vs UMAP.

    .venv/bin/python benchmarks/bench_embedding.py [--sizes 2000 20000 100000] [--threads 1]

Data: a seeded mixture of 10 Gaussian clusters in 21 dimensions (float32), the shape of the
galaxy feature tables. Every (method, size) runs in a fresh child process through
:func:`astroanom.evaluate.embedding.embed` with the given thread count; prints wall and CPU seconds,
peak RSS (of the embedding, before the quality check) and a quality figure: the fraction of points whose nearest embedded neighbour lies in
the same cluster (kNN-1 accuracy on 2000 sampled points). scikit-learn's t-SNE is run up to
``--max-sklearn`` objects (default 20 000).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
from astroanom.runtime import limit_threads
method, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
limit_threads(threads)
from astroanom.evaluate.embedding import embed
rng = np.random.default_rng(0)
y = rng.integers(0, 10, n)
centres = rng.normal(scale=6.0, size=(10, 21))
X = (centres[y] + rng.normal(size=(n, 21))).astype(np.float32)
t0, c0 = time.perf_counter(), time.process_time()
Z = embed(X, method, seed=0, n_jobs=threads)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the quality check
s = rng.choice(n, min(n, 2000), replace=False)
hits = 0
for b in np.array_split(s, max(1, s.size // 50)):
    d = ((Z[b, None, :] - Z[None, :, :]) ** 2).sum(-1)
    d[np.arange(b.size), b] = np.inf
    hits += int((y[d.argmin(axis=1)] == y[b]).sum())
acc = hits / s.size
print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "peak_mib": peak, "knn1": acc}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 100000])
    ap.add_argument("--methods", nargs="+", default=["tsne", "opentsne", "umap"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-sklearn", type=int, default=20000)
    args = ap.parse_args()
    print(f"embedding benchmark, threads={args.threads}, {os.cpu_count()} CPUs")
    for n in args.sizes:
        for method in args.methods:
            if method == "tsne" and n > args.max_sklearn:
                continue
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, method, str(n), str(args.threads)],
                capture_output=True,
                text=True,
                check=False,
            )
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not line:
                print(f"  {method:9s} n={n}: failed\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(line[0][7:])
            print(
                f"  {method:9s} n={n:>7d}: wall {r['wall']:8.1f} s  cpu {r['cpu']:8.1f} s  "
                f"peak {r['peak_mib']:6.0f} MiB  kNN-1 {r['knn1']:.3f}  "
                f"(process {time.perf_counter() - t0:.1f} s, load avg {load:.2f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
