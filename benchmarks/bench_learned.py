"""Cost of the learned extractor (features.kind: learned): training on N synthetic 424x424
galaxies, then embedding them (ms per object), peak RSS, threads and the machine's load.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_learned.py [--n 5000] [--threads 2]
        [--method simclr] [--epochs 30] [--workdir DIR] [--truth]

The cutouts (astroanom.sources.synthetic_galaxies, seed 1) are made in --workdir (kept, so a
second call reuses them) or a temporary folder. "read" is decoding and preparing every cutout;
"train" the training alone (its objects/s counts each cutout once per epoch); "embed" is
loading the model and embedding every object on one thread, with and without the image
reading. With --truth it also prints the wanted objects (odd fraction > 0.9) in the first 100
of an isolation forest (3 seeds) on the embedding and, for comparison, on the ellipse features.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from measure import peak_rss_mib


def first_100(X: np.ndarray, wanted: np.ndarray, seeds=(1, 2, 3)) -> list[int]:
    """Wanted objects among the 100 highest isolation-forest scores of standardised X."""
    from sklearn.ensemble import IsolationForest
    from sklearn.preprocessing import StandardScaler

    ok = np.isfinite(X).all(axis=1)
    Xs, w = StandardScaler().fit_transform(X[ok]), wanted[ok]
    out = []
    for s in seeds:
        score = -IsolationForest(n_estimators=100, random_state=s).fit(Xs).score_samples(Xs)
        out.append(int(w[np.argsort(-score, kind="stable")[:100]].sum()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--method", default="simclr", choices=("simclr", "autoencoder"))
    ap.add_argument("--epochs", type=int, default=None, help="default: the declared one")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--truth", action="store_true")
    args = ap.parse_args()

    from astroanom.features.learned import LearnedImageExtractor
    from astroanom.runtime import limit_threads
    from astroanom.sources.synthetic_galaxies import SyntheticGalaxySource

    limit_threads(args.threads)
    tmp = None if args.workdir else tempfile.TemporaryDirectory()
    wd = Path(args.workdir or tmp.name)
    t0 = time.perf_counter()
    man, _ = SyntheticGalaxySource(n_jobs=args.threads, n_objects=args.n, size=424).manifest(wd, 1)
    t_make = time.perf_counter() - t0
    params = LearnedImageExtractor.PARAMS.defaults()
    params.update(method=args.method, device="auto")
    if args.epochs:
        params["epochs"] = args.epochs
    model = wd / f"bench_{args.method}.model"
    load0 = os.getloadavg()
    ext = LearnedImageExtractor(**params, n_jobs=args.threads)
    t0 = time.perf_counter()
    record = ext.fit(man, model, seed=1, n_jobs=args.threads)
    t_fit = time.perf_counter() - t0
    emb = LearnedImageExtractor(**{**params, "model": str(model)}, n_jobs=1)
    data, _ = emb.cutouts(man)
    from astroanom.features import encoder

    _, net = encoder.load(model)
    t0 = time.perf_counter()
    encoder.embed(net, data, 1, "cpu", params["batch_size"])
    t_net = time.perf_counter() - t0
    t0 = time.perf_counter()
    X, reasons = emb.extract(man)
    t_embed = time.perf_counter() - t0
    out = {
        "n": args.n,
        "method": args.method,
        "epochs": params["epochs"],
        "threads": args.threads,
        "device": record["device"],
        "make_cutouts_s": round(t_make, 1),
        "read_s": round(record["read_seconds"], 1),
        "train_s": round(record["seconds"], 1),
        "fit_total_s": round(t_fit, 1),
        "train_objects_per_s": round(record["objects_per_second"]),
        "final_loss": round(record["loss"][-1], 4),
        "embed_ms_per_object_network": round(1e3 * t_net / args.n, 3),
        "embed_ms_per_object_with_reading": round(1e3 * t_embed / args.n, 3),
        "failed": sum(r is not None for r in reasons),
        "peak_rss_mib": round(peak_rss_mib()),
        "load_before": [round(x, 2) for x in load0],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.truth:
        from astroanom.features.ellipse_extractor import EllipseExtractor

        wanted = man["is_anomaly"].to_numpy(bool)
        out["first_100_learned"] = first_100(X, wanted)
        E, _ = EllipseExtractor(n_sigma=3.0, channel=0, n_threads=args.threads).extract(man)
        out["first_100_ellipse"] = first_100(E, wanted)
        out["wanted_base_rate_per_100"] = round(100 * wanted.mean(), 2)
    print(json.dumps(out, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
