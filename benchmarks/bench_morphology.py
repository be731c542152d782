"""Throughput of ``features.kind: morphology`` (statmorph) against the ellipse features: ms per
object, objects per second, peak RSS, failure rows and their commonest reasons.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_morphology.py [--n 100] [--real DIR]
        [--n-real 470] [--sizes 128] [--channel 1]

Each (extractor, size) runs in a fresh process (its peak RSS is its own) over --n seeded
synthetic 424x424 JPEG galaxies (astroanom.sources.synthetic_galaxies) and, with --real, over
the first --n-real PNG/JPEG/FITS cutouts of DIR (never committed; e.g. real survey cutouts).
"ms/object" is CPU time (time.process_time, robust to other load) of decode + features per
object on one thread; "obj/s" is its inverse. The machine's load average is printed before and
after (2 shared cores: wall-clock numbers would move with it, CPU time much less).
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".fits", ".fit", ".fits.gz")


def _bench(args: tuple[str, dict, list[str]]) -> dict:
    """In a fresh process: CPU ms/object of extract(), peak RSS, failure reasons."""
    from astroanom import plugins

    kind, params, images = args
    ext = plugins.build("extractor", kind, params)
    objs = pd.DataFrame({"id": [Path(p).name for p in images], "image_path": images})
    ext.extract(objs.iloc[:2])  # warm-up: imports, caches
    t0, w0 = time.process_time(), time.perf_counter()
    X, reasons = ext.extract(objs)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    why = collections.Counter(r for r in reasons if r is not None)
    return {
        "n_features": X.shape[1],
        "ms": 1e3 * cpu / len(images),
        "wall_ms": 1e3 * wall / len(images),
        "failed": sum(why.values()),
        "reasons": why.most_common(4),
        "peak_rss_mib": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024),
    }


def run(label: str, images: list[str], sizes: list[int | None], channel: int) -> None:
    cases = [("ellipse", {"channel": channel})]
    cases += [("morphology", {"channel": channel, "size": s}) for s in sizes]
    print(f"\n{label}: {len(images)} objects, band {channel}; one process per extractor")
    print(f"{'extractor':24s} {'features':>8s} {'ms/object':>10s} {'obj/s':>8s} "
          f"{'wall ms':>8s} {'failed':>7s} {'peak RSS MiB':>12s}")  # fmt: skip
    base = None
    for kind, params in cases:
        with ProcessPoolExecutor(max_workers=1) as pool:
            r = pool.submit(_bench, (kind, params, images)).result()
        name = kind if kind == "ellipse" else f"morphology size={params['size']}"
        base = r["ms"] if kind == "ellipse" else base
        ratio = "" if kind == "ellipse" else f"  ({r['ms'] / base:.0f}x ellipse)"
        print(
            f"{name:24s} {r['n_features']:8d} {r['ms']:10.1f} {1e3 / r['ms']:8.1f} "
            f"{r['wall_ms']:8.1f} {r['failed']:7d} {r['peak_rss_mib']:12d}{ratio}"
        )
        for reason, count in r["reasons"]:
            print(f"{'':26s}{count:4d} x {reason[:150]}")


def _size(text: str) -> int | None:
    return None if text.lower() in ("none", "null", "full") else int(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100, help="synthetic 424x424 galaxies (0: none)")
    ap.add_argument("--real", type=Path, help="a folder of real cutouts (trials only)")
    ap.add_argument("--n-real", type=int, default=470, help="first N cutouts of --real")
    ap.add_argument("--sizes", default="128", help="morphology sizes, comma-separated; none")
    ap.add_argument("--channel", type=int, default=1, help="band index (1 = green of RGB)")
    a = ap.parse_args()
    sizes = [_size(s) for s in a.sizes.split(",")]
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if a.n > 0:
        from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

        with tempfile.TemporaryDirectory(prefix="bench_morphology_") as tmp:
            cat = generate(Path(tmp) / "gal", SyntheticGalaxyConfig(n_objects=a.n), seed=1)
            images = cat["image_path"].astype(str).tolist()
            run("synthetic 424x424 JPEG galaxies", images, sizes, a.channel)
    if a.real is not None:
        files = sorted(p for p in a.real.iterdir() if p.name.lower().endswith(IMAGE_SUFFIXES))
        run(f"real cutouts in {a.real}", [str(p) for p in files[: a.n_real]], sizes, a.channel)
    print("load average (1, 5, 15 min) after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
