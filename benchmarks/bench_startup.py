"""Per-job start-up: wall time of a fresh process doing a workflow script's imports and
``runtime.configure`` (no work), median of 5, for one or more library source directories.

    .venv/bin/python benchmarks/bench_startup.py src /tmp/old/src     # columns in that order

A job that then uses scikit-learn, matplotlib, ... pays for that import when it uses it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

HEAD = "from astroanom.runtime import configure\n"
SCRIPTS = {
    "detect": HEAD + "from astroanom.pipeline.detect import detect_step",
    "source_manifest": HEAD + "from astroanom.pipeline.features import manifest_step",
    "evaluate_classes": HEAD + "from astroanom.pipeline.evaluate import classes_step",
    "features_scale": HEAD + "from astroanom.pipeline.features import scale_step",
    "benchmark_cell": HEAD + "from astroanom.pipeline.benchmark import cell_step",
}


def main() -> None:
    sources = sys.argv[1:] or ["src"]
    print(f"{'script':22s} " + "  ".join(f"{s[-24:]:>24s}" for s in sources) + "   (s)")
    for name, code in SCRIPTS.items():
        row = []
        for src in sources:
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-c", code + "\nconfigure(None, 1)"],
                    env=dict(os.environ, PYTHONPATH=os.path.abspath(src)),
                    check=True,
                )
                times.append(time.perf_counter() - t0)
            row.append(f"{statistics.median(times):24.2f}")
        print(f"{name:22s} " + "  ".join(row) + f"   (load {os.getloadavg()[0]:.2f})", flush=True)


if __name__ == "__main__":
    main()
