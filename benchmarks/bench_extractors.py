"""Throughput of the image feature extractors (ms per image, peak RSS) on 424x424 synthetic
galaxies, and of cutting a FITS mosaic (cutouts per second, peak RSS).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_extractors.py [--n 300] [--mosaic 8192]
        [--rows 10000] [--size 64] [--bands 1] [--skip-mosaic]

Extractors: each runs in a fresh process (so its peak RSS is its own) over --n seeded synthetic
424x424 JPEGs (astroanom.sources.synthetic_galaxies); "ms/image" is CPU time per image of
decode + features (time.process_time: robust to other load on the machine), and "decode" is the
JPEG decode alone. Mosaic: a --mosaic x --mosaic float32 FITS image per band with a TAN WCS, noise
and --rows Gaussian sources at random RA/Dec (seeded), a CSV catalogue of their RA/Dec, then
FitsMosaicSource.manifest cuts and writes one --size cutout per row (wall-clock, one thread).
Peak RSS of the mosaic run includes the memory-mapped mosaic pages the cutouts touched (file-backed
and reclaimable), which is why it is reported beside the mosaic's size.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

EXTRACTORS: dict[str, tuple[str, dict]] = {
    "ellipse": ("astroanom.features.ellipse_extractor.EllipseExtractor", {}),
    "colour (r,g,b)": ("astroanom.features.colour.ColourExtractor", {}),
    "moments": ("astroanom.features.moments.MomentsExtractor", {}),
    "power_spectrum (16 bins)": ("astroanom.features.power_spectrum.PowerSpectrumExtractor", {}),
    "wavelets (haar, 4 levels)": ("astroanom.features.wavelets.WaveletExtractor", {}),
    "histogram (16 bins)": ("astroanom.features.histogram.HistogramExtractor", {}),
    "combine (all six)": (
        "astroanom.features.combine.CombinedExtractor",
        {
            "extractors": [
                {"kind": "ellipse"},
                {"kind": "colour"},
                {"kind": "moments"},
                {"kind": "power_spectrum"},
                {"kind": "wavelets"},
                {"kind": "histogram"},
            ]
        },
    ),
}


def _rss_mib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def _bench_extractor(args: tuple[str, dict, list[str]]) -> dict[str, float]:
    """In a fresh process: CPU ms/image of extract() over the images; peak RSS; failures."""
    import importlib

    from astroanom.sources.imageio import load_image

    path, params, images = args
    module, _, cls = path.rpartition(".")
    ext = getattr(importlib.import_module(module), cls)(**params)
    objs = pd.DataFrame({"id": [Path(p).stem for p in images], "image_path": images})
    ext.extract(objs.iloc[:5])  # warm-up: imports, caches
    t0 = time.process_time()
    for p in images:
        load_image(p)
    decode = time.process_time() - t0
    t0 = time.process_time()
    X, reasons = ext.extract(objs)
    cpu = time.process_time() - t0
    return {
        "n_features": X.shape[1],
        "ms_per_image": 1e3 * cpu / len(images),
        "decode_ms": 1e3 * decode / len(images),
        "failed": sum(r is not None for r in reasons),
        "peak_rss_mib": _rss_mib(),
    }


def bench_extractors(n: int, workdir: Path) -> None:
    from astroanom.sources.synthetic_galaxies import SyntheticGalaxyConfig, generate

    cat = generate(workdir / "gal", SyntheticGalaxyConfig(n_objects=n), seed=1)
    images = cat["image_path"].astype(str).tolist()
    print(f"\n{n} synthetic 424x424 JPEG galaxies (3 channels); one process per extractor")
    print(f"{'extractor':28s} {'features':>8s} {'ms/image':>9s} {'(decode)':>9s} "
          f"{'failed':>7s} {'peak RSS MiB':>12s}")  # fmt: skip
    for name, (path, params) in EXTRACTORS.items():
        with ProcessPoolExecutor(max_workers=1) as pool:
            r = pool.submit(_bench_extractor, (path, params, images)).result()
        print(
            f"{name:28s} {r['n_features']:8d} {r['ms_per_image']:9.2f} {r['decode_ms']:9.2f} "
            f"{r['failed']:7d} {r['peak_rss_mib']:12d}"
        )


def make_mosaic(workdir: Path, side: int, rows: int, bands: int, seed: int) -> tuple[dict, Path]:
    """Write ``bands`` side x side float32 FITS mosaics with a TAN WCS (0.262"/px), noise and
    ``rows`` Gaussian sources, one band at a time; return the images mapping and the catalogue."""
    from astropy.io import fits
    from astropy.wcs import WCS

    rng = np.random.default_rng(seed)
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0, 2.0]
    w.wcs.crpix = [side / 2 + 0.5, side / 2 + 0.5]
    w.wcs.cdelt = [-0.262 / 3600, 0.262 / 3600]
    x = rng.uniform(-20, side + 20, rows)  # a few beyond the edges: padded or outside
    y = rng.uniform(-20, side + 20, rows)
    ra, dec = w.all_pix2world(x, y, 0)
    pd.DataFrame({"id": [f"src{k:05d}" for k in range(rows)], "ra": ra, "dec": dec}).to_csv(
        workdir / "cat.csv", index=False
    )
    stamp = 7
    yy, xx = np.mgrid[-stamp : stamp + 1, -stamp : stamp + 1]
    images = {}
    for b in range(bands):
        img = rng.normal(0.0, 1.0, (side, side)).astype(np.float32)
        flux = rng.uniform(50, 500, rows)
        for k in range(rows):
            cx, cy = int(round(x[k])), int(round(y[k]))
            if not (stamp <= cx < side - stamp and stamp <= cy < side - stamp):
                continue
            g = np.exp(-((xx + cx - x[k]) ** 2 + (yy + cy - y[k]) ** 2) / (2 * 2.0**2))
            img[cy - stamp : cy + stamp + 1, cx - stamp : cx + stamp + 1] += (
                flux[k] / (8 * np.pi) * g
            )
        path = workdir / f"mosaic_b{b}.fits"
        fits.PrimaryHDU(img, w.to_header()).writeto(path, overwrite=True)
        images[f"b{b}"] = str(path)
        del img
    return images, workdir / "cat.csv"


def _bench_mosaic(args: tuple[dict, str, int, str]) -> dict[str, float]:
    from astroanom.sources.fits_mosaic import FitsMosaicSource

    images, cat, size, out = args
    src = FitsMosaicSource(images=images, catalogue=cat, size=size, edge="pad")
    t0 = time.perf_counter()
    objects, failures = src.manifest(Path(out), seed=0)
    wall = time.perf_counter() - t0
    return {
        "n": len(objects) + len(failures),
        "ok": len(objects),
        "padded": int(objects["edge_padded"].sum()),
        "failed": len(failures),
        "wall_s": wall,
        "peak_rss_mib": _rss_mib(),
    }


def bench_mosaic(workdir: Path, side: int, rows: int, size: int, bands: int) -> None:
    t0 = time.perf_counter()
    images, cat = make_mosaic(workdir, side, rows, bands, seed=2)
    gen = time.perf_counter() - t0
    mib = side * side * 4 / 2**20
    print(
        f"\nmosaic: {bands} band(s) of {side}x{side} float32 ({mib:.0f} MiB each), {rows} "
        f"catalogue rows, {size}x{size} cutouts (generated in {gen:.0f} s)"
    )
    with ProcessPoolExecutor(max_workers=1) as pool:
        r = pool.submit(_bench_mosaic, (images, str(cat), size, str(workdir / "out"))).result()
    print(
        f"cut {r['ok']} cutouts ({r['padded']} padded at an edge, {r['failed']} outside) in "
        f"{r['wall_s']:.1f} s: {r['ok'] / r['wall_s']:.0f} cutouts/s, "
        f"{1e3 * r['wall_s'] / r['n']:.2f} ms/object; peak RSS {r['peak_rss_mib']} MiB "
        f"(mosaic {bands * mib:.0f} MiB on disk, memory-mapped)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="synthetic galaxies per extractor")
    ap.add_argument("--mosaic", type=int, default=8192, help="mosaic side (pixels)")
    ap.add_argument("--rows", type=int, default=10000, help="catalogue rows")
    ap.add_argument("--size", type=int, default=64, help="cutout side (pixels)")
    ap.add_argument("--bands", type=int, default=1, help="bands (one mosaic each)")
    ap.add_argument("--skip-mosaic", action="store_true")
    ap.add_argument("--skip-extractors", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_extractors_") as tmp:
        if not a.skip_extractors:
            bench_extractors(a.n, Path(tmp))
        if not a.skip_mosaic:
            bench_mosaic(Path(tmp), a.mosaic, a.rows, a.size, a.bands)


if __name__ == "__main__":
    main()
