"""Throughput of the galaxy feature extraction: JPEG decode + sigma clip + central contour +
21 ellipse features, per image, on one process and on several; peak memory per process.

    .venv/bin/python benchmarks/bench_features.py [--images DIR] [--n 1000] [--procs 1 2]

Without --images it first writes --n synthetic 424x424 JPEGs (seeded) into a temporary folder.
Prints ms per image per core, images/s, peak RSS and the projected time for 61,578 images.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from astroanom.sources.imageio import load_image
from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

PAPER_N = 61578


def _work(paths: list[str]) -> tuple[float, int, int, dict[str, float]]:
    """Process ``paths`` in one process; (CPU seconds, n ok, peak RSS MiB, stage CPU times).

    CPU time (``time.process_time``) is the per-core cost, robust to other load on the machine.
    """
    from astroanom.features.ellipse import ellipse_features
    from astroanom.features.preprocess import sigma_clip_central

    stages = {"decode": 0.0, "preprocess": 0.0, "features": 0.0}
    ok = 0
    t0 = time.process_time()
    for p in paths:
        a = time.process_time()
        img = load_image(p)
        b = time.process_time()
        try:
            pre = sigma_clip_central(img)
            c = time.process_time()
            ellipse_features(pre)
            ok += 1
        except Exception:  # noqa: BLE001 - failures are counted, as in the workflow
            c = time.process_time()
        d = time.process_time()
        stages["decode"] += b - a
        stages["preprocess"] += c - b
        stages["features"] += d - c
    dt = time.process_time() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return dt, ok, int(rss), stages


def run(paths: list[str], procs: int) -> dict[str, float]:
    chunks = [paths[k::procs] for k in range(procs)]
    t0 = time.perf_counter()
    if procs == 1:
        results = [_work(paths)]
    else:
        with ProcessPoolExecutor(max_workers=procs) as pool:
            results = list(pool.map(_work, chunks))
    wall = time.perf_counter() - t0
    cpu = sum(r[0] for r in results)
    stages = {k: sum(r[3][k] for r in results) / len(paths) * 1e3 for k in results[0][3]}
    return {
        "procs": procs,
        "n": len(paths),
        "ok": sum(r[1] for r in results),
        "ms_per_image_per_core": 1e3 * cpu / len(paths),
        "images_per_s": len(paths) / wall,
        "peak_rss_mib_per_process": max(r[2] for r in results),
        "projected_61578_min": PAPER_N / (len(paths) / wall) / 60,
        "projected_61578_min_1core_cpu": PAPER_N * cpu / len(paths) / 60,
        **{f"{k}_ms": v for k, v in stages.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, help="folder of JPEGs (default: synthetic)")
    ap.add_argument("--n", type=int, default=1000, help="images to time")
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.images is None:
            cat = generate(
                tmp, SyntheticGalaxyConfig(n_objects=args.n), seed=1, workers=max(args.procs)
            )
            paths = cat["image_path"].tolist()
        else:
            paths = sorted(str(p) for p in args.images.glob("*.jp*g"))[: args.n]
        _work(paths[:20])  # warm-up (imports, caches)
        for procs in args.procs:
            r = run(paths, procs)
            print(
                f"{r['procs']} process(es): {r['n']} images ({r['ok']} ok), "
                f"{r['ms_per_image_per_core']:.2f} CPU ms/image/core "
                f"(decode {r['decode_ms']:.2f}, preprocess {r['preprocess_ms']:.2f}, "
                f"features {r['features_ms']:.2f}), {r['images_per_s']:.0f} images/s, "
                f"peak RSS {r['peak_rss_mib_per_process']} MiB/process, "
                f"61,578 images in {r['projected_61578_min']:.1f} min wall "
                f"({r['projected_61578_min_1core_cpu']:.1f} min of one core's CPU)"
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
