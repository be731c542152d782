"""CPU time per image of the ellipse features against the original Astronomaly code, interleaved
image by image in one process, on real JPEG cutouts.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_vs_original.py \
        --original /path/to/astronomaly --images /path/to/jpegs [--n 2000] [--json out.json]

``--original`` is the root of a checkout of the original tool (the folder holding its
``astronomaly/`` package, e.g. ``git archive`` of github.com/MichelleLochner/astronomaly); nothing
of it is copied here, it is imported from that path. Without it (or when it cannot be imported,
or there are no images) the script prints why and exits 0 without measuring.

Per image, in one process and alternating which goes first:

- **original**: ``cv2.imread`` + ``cvtColor`` (its ``ImageThumbnailsDataset.get_sample``), its
  ``image_transform_sigma_clipping`` and ``image_transform_scale`` (the Galaxy Zoo example's
  transforms), then ``EllipseFitFeatures(percentiles=[90, 80, 70, 60, 50, 0], channel=0)``;
- **ours**, per preset (``paper``, ``astronomaly``): :func:`astroanom.sources.imageio.load_image`
  + ``EllipseExtractor.compute_safe`` (the per-image work of a feature shard job).

Times are CPU seconds (``time.process_time``, robust to other load) and wall seconds; the ratio
is original / ours over all images. The load average is printed with the result. The script also
reports how often the ``astronomaly`` preset's 30 values equal the original's (|diff| <= 1e-9,
failures matching failures), a check that the preset reproduces the code it is named after.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

PERCENTILES = [90, 80, 70, 60, 50, 0]
PRESETS = ("paper", "astronomaly")


def load_original(root: str | None):
    """(shape_features, image_preprocessing) modules of the original code, or a reason string."""
    if not root:
        return "no --original path given"
    pkg = Path(root) / "astronomaly"
    if not (pkg / "feature_extraction" / "shape_features.py").is_file():
        return f"{pkg}/feature_extraction/shape_features.py not found"
    sys.path.insert(0, str(Path(root).resolve()))
    try:
        shape = importlib.import_module("astronomaly.feature_extraction.shape_features")
        prep = importlib.import_module("astronomaly.preprocessing.image_preprocessing")
    except ImportError as exc:
        return f"cannot import the original code from {root}: {exc}"
    return shape, prep


def original_runner(shape, prep, out_dir: str):
    """One image path -> the original's 30 features (its column order), as its pipeline does."""
    import cv2

    stage = shape.EllipseFitFeatures(
        percentiles=PERCENTILES, channel=0, output_dir=out_dir, save_output=False
    )

    def run(path: str) -> np.ndarray:
        img = cv2.imread(path)
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        img = prep.image_transform_sigma_clipping(img)
        img = prep.image_transform_scale(img)
        return np.asarray(stage._execute_function(img), dtype=np.float64)

    return run


def ours_runner(preset: str):
    """One image path -> our features (row or None), as a feature shard job computes them."""
    from astroanom.features.ellipse_extractor import EllipseExtractor
    from astroanom.sources.imageio import load_image

    ext = EllipseExtractor(channel=0, n_sigma=3.0, preset=preset, n_threads=1)

    def run(path: str) -> np.ndarray | None:
        return ext.compute_safe(load_image(path))[0]

    return run


def to_original_order(row: np.ndarray) -> np.ndarray:
    """Our astronomaly-preset row (30,) in the original's column order: residual, offset,
    relative aspect, theta, absolute aspect, each for p = 90, 80, 70, 60, 50, 0."""
    rel = row[6:21].reshape(5, 3)
    offset = np.concatenate([[row[21]], rel[:, 0]])
    aspect = np.concatenate([[row[22]], rel[:, 1]])
    theta = np.concatenate([[row[23]], rel[:, 2]])
    return np.concatenate([row[:6], offset, aspect, theta, row[24:30]])


def agrees(ours: np.ndarray | None, orig: np.ndarray) -> bool:
    """Both failed (None / all NaN) or every value within 1e-9."""
    if ours is None:
        return bool(np.isnan(orig).all())
    if np.isnan(orig).any():
        return False
    return bool(np.max(np.abs(to_original_order(ours) - orig)) <= 1e-9)


def measure(paths: list[str], runners: dict, warm: int = 5) -> dict[str, dict[str, float]]:
    """Interleaved CPU and wall time per runner over ``paths`` (order alternates per image)."""
    names = list(runners)
    for p in paths[:warm]:
        for name in names:
            runners[name](p)
    cpu = dict.fromkeys(names, 0.0)
    wall = dict.fromkeys(names, 0.0)
    results: dict[str, list] = {name: [] for name in names}
    for k, p in enumerate(paths):
        order = names if k % 2 == 0 else names[::-1]
        for name in order:
            c0, w0 = time.process_time(), time.perf_counter()
            out = runners[name](p)
            cpu[name] += time.process_time() - c0
            wall[name] += time.perf_counter() - w0
            results[name].append(out)
    n = len(paths)
    stats = {
        name: {"cpu_ms": 1e3 * cpu[name] / n, "wall_ms": 1e3 * wall[name] / n} for name in names
    }
    if "original" in results and "astronomaly" in results:
        same = sum(
            agrees(o, r) for o, r in zip(results["astronomaly"], results["original"], strict=True)
        )
        stats["astronomaly"]["agrees_with_original"] = same / n
    for name in names:
        if name != "original":
            stats[name]["failed"] = sum(r is None for r in results[name])
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--original", help="root of the original astronomaly code (holds astronomaly/)")
    ap.add_argument("--images", help="folder of JPEG cutouts (searched recursively)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    args = ap.parse_args(argv)
    mods = load_original(args.original)
    if isinstance(mods, str):
        print(f"bench_vs_original: skipped: {mods}")
        return 0
    paths = sorted(
        str(p) for p in Path(args.images or ".").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg")
    )[: args.n]
    if not args.images or not paths:
        print(f"bench_vs_original: skipped: no JPEG files under {args.images!r}")
        return 0
    logging.getLogger().setLevel(logging.ERROR)
    out_dir = os.environ.get("TMPDIR", "/tmp")
    runners = {"original": original_runner(*mods, out_dir)}
    runners.update({preset: ours_runner(preset) for preset in PRESETS})
    with contextlib.redirect_stdout(io.StringIO()):  # the original prints on failures
        stats = measure(paths, runners)
    load = os.getloadavg()
    print(f"{len(paths)} images from {args.images}, interleaved in one process")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    orig = stats["original"]
    print(
        f"original          {orig['cpu_ms']:7.2f} ms CPU  {orig['wall_ms']:7.2f} ms wall per image"
    )
    for preset in PRESETS:
        s = stats[preset]
        s["ratio_cpu"] = orig["cpu_ms"] / s["cpu_ms"]
        s["ratio_wall"] = orig["wall_ms"] / s["wall_ms"]
        extra = (
            f"  agrees with original {100 * s['agrees_with_original']:.1f} %"
            if "agrees_with_original" in s
            else ""
        )
        print(
            f"ours {preset:12s} {s['cpu_ms']:7.2f} ms CPU  {s['wall_ms']:7.2f} ms wall  "
            f"{s['ratio_cpu']:5.2f}x CPU  {s['ratio_wall']:5.2f}x wall  "
            f"{s['failed']} failed{extra}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"n": len(paths), "load": load, **stats}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
