"""Benchmark of detectors x active-learning strategies at equal label budgets.

One *cell* is (dataset, detector, strategy, seed). Its labelling loop starts from the strategy's
ranking with no labels, shows the ``batch`` highest-ranked unlabelled objects to the simulated
oracle, refits the strategy on all labels so far, re-ranks, and repeats until ``budget`` labels.

**Viewed order.** The objects a user has *viewed* are, in order, the labelled objects in the
order they were shown, followed by the unlabelled objects in the order of the strategy's final
ranking (after the last refit). "Anomalies found in the first 100 viewed" counts wanted objects
among the first 100 of that order; with a budget of 100 labels that is exactly what the labeller
saw while labelling. RWS(N), recall(N) and average precision are computed on the same order
(average precision: sklearn's ``average_precision_score`` with the score n - position).

*Wanted* objects are defined per dataset in the config (simulation: class 4, the relevance-5
class; galaxies: odd fraction > 0.9).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.errors import AstroanomError, ConfigError
from astroanom.io import read_features, write_csv, write_parquet, write_text
from astroanom.metrics import rank_order, recall, rws
from astroanom.oracle import labelling_rounds
from astroanom.strategies import Strategy, strategy_from_config

log = logging.getLogger("astroanom.benchmark")
PathLike = str | os.PathLike[str]
Oracle = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# Wanted objects and the labelling loop
# --------------------------------------------------------------------------------------------


def wanted_mask(objects: pd.DataFrame, spec: Mapping[str, Any]) -> np.ndarray:
    """Boolean (n,) of the objects a user wants to find, from a config ``spec``.

    ``{column: class, in: [4]}``, ``{column: odd_fraction, gt: 0.9}`` (also ``ge``, ``lt``,
    ``le``, ``equals``), or ``{column: is_anomaly}`` for a boolean column.
    """
    col = spec.get("column")
    if col not in objects.columns:
        raise ConfigError(
            f"wanted.column {col!r} is not a column of the objects table "
            f"(columns: {', '.join(map(str, objects.columns))})"
        )
    v = objects[col].to_numpy()
    ops = {
        "in": lambda a, b: np.isin(a, list(b)),
        "equals": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }
    given = [k for k in ops if k in spec]
    if len(given) > 1:
        raise ConfigError(f"wanted: give one of {sorted(ops)}, not {given}")
    if given:
        mask = np.asarray(ops[given[0]](v, spec[given[0]]), dtype=bool)
    elif v.dtype == bool:
        mask = v.astype(bool)
    else:
        raise ConfigError(f"wanted: column {col!r} is not boolean; add one of {sorted(ops)}")
    if not mask.any():
        raise ConfigError(f"wanted {dict(spec)} selects no object: nothing to find")
    return mask


@dataclass(frozen=True)
class LabellingRun:
    """Outcome of one labelling loop.

    labelled (budget,) row indices in the order shown; labels (budget,) the oracle's U;
    final (n,) the strategy's ranking score after the last refit; viewed (n,) the viewed order;
    seconds: wall time of all fits and scorings of the strategy.
    """

    labelled: np.ndarray
    labels: np.ndarray
    final: np.ndarray
    viewed: np.ndarray
    seconds: float


def viewing_order(labelled: np.ndarray, final: np.ndarray) -> np.ndarray:
    """The viewed order (n,): ``labelled`` in order, then the rest ranked by ``final`` (n,)."""
    rest = rank_order(final)
    seen = np.zeros(final.size, dtype=bool)
    seen[labelled] = True
    return np.concatenate([np.asarray(labelled, dtype=np.int64), rest[~seen[rest]]])


def labelling_loop(
    X: np.ndarray,
    S: np.ndarray,
    oracle: Oracle,
    strategy: Strategy,
    batch: int,
    budget: int,
) -> LabellingRun:
    """Incremental labelling: rank, label the ``batch`` best unlabelled, refit; up to ``budget``."""
    n = X.shape[0]
    if batch < 1 or budget < 0 or budget > n:
        raise ConfigError(
            f"need batch >= 1 and 0 <= budget <= n objects ({n}); got {batch}, {budget}"
        )
    labelled = np.empty(0, dtype=np.int64)
    labels = np.empty(0, dtype=np.float64)
    t0 = time.perf_counter()
    score = np.asarray(strategy.fit(X, S, labelled, labels).score(), dtype=np.float64)
    _check_score(score, n, strategy)

    def refit(lab: np.ndarray, y: np.ndarray) -> np.ndarray:
        new_score = strategy.fit(X, S, lab, y.astype(np.float64)).score()
        _check_score(np.asarray(new_score, dtype=np.float64), n, strategy)
        return new_score

    last = (labelled, labels, score)
    for last in labelling_rounds(score, refit, oracle, batch, budget):  # noqa: B007
        pass
    labelled, labels, score = last[0], last[1].astype(np.float64), last[2]
    seconds = time.perf_counter() - t0
    return LabellingRun(labelled, labels, score, viewing_order(labelled, score), seconds)


def _check_score(score: np.ndarray, n: int, strategy: Strategy) -> None:
    name = getattr(strategy, "name", type(strategy).__name__)
    if score.shape != (n,):
        raise AstroanomError(f"strategy {name!r} returned shape {score.shape}; expected ({n},)")
    if not np.isfinite(score).all():
        raise AstroanomError(
            f"strategy {name!r} returned NaN or inf for {int((~np.isfinite(score)).sum())} object(s)"
        )


def cell_metrics(
    viewed: np.ndarray, wanted: np.ndarray, ns: Sequence[int], first_viewed: int = 100
) -> dict[str, float]:
    """RWS(N), recall(N), average precision and found-in-first-viewed for a viewed order (n,)."""
    from sklearn.metrics import average_precision_score

    hits = np.asarray(wanted, dtype=bool)[viewed]
    out: dict[str, float] = {
        "n_objects": float(hits.size),
        "n_wanted": float(hits.sum()),
        f"found_first_{first_viewed}": float(recall(hits, first_viewed)),
        "average_precision": float(
            average_precision_score(np.asarray(wanted, dtype=bool), _position_score(viewed))
        ),
    }
    for n in ns:
        out[f"rws_{n}"] = rws(hits, n)
        out[f"recall_{n}"] = float(recall(hits, n))
    return out


def _position_score(viewed: np.ndarray) -> np.ndarray:
    """Score (n,) of each object that decreases with its position in ``viewed``."""
    score = np.empty(viewed.size, dtype=np.float64)
    score[viewed] = viewed.size - np.arange(viewed.size, dtype=np.float64)
    return score


def found_curve(labelled: np.ndarray, wanted: np.ndarray) -> pd.DataFrame:
    """Wanted objects found against labels spent, 0..budget: columns labels, found."""
    found = np.concatenate([[0], np.cumsum(np.asarray(wanted, dtype=bool)[labelled])])
    return pd.DataFrame({"labels": np.arange(found.size), "found": found.astype(np.int64)})


# --------------------------------------------------------------------------------------------
# Workflow steps (called by workflow/scripts/benchmark_*.py)
# --------------------------------------------------------------------------------------------


def cell_step(
    features: PathLike,
    objects: PathLike,
    scores: PathLike,
    cell: PathLike,
    curve: PathLike,
    keys: Mapping[str, Any],
    strategy: Mapping[str, Any],
    oracle: Mapping[str, Any],
    wanted: Mapping[str, Any],
    batch: int,
    budget: int,
    ns: Sequence[int],
    first_viewed: int,
    seed: int,
    threads: int = 1,
) -> None:
    """Run one cell's labelling loop; write its metrics (one row) and found-vs-labels curve.

    ``keys`` (dataset, detector, strategy, seed) are written as leading columns of both tables.
    """
    from astroanom.steps import make_oracle

    df, X = read_features(features)
    obj = pd.read_parquet(objects)
    sc = pd.read_parquet(scores)
    ids = df["id"].to_numpy()
    for what, other in (("objects", obj), ("scores", sc)):
        if not np.array_equal(other["id"].to_numpy(), ids):
            raise ConfigError(f"{what} ids do not match the feature table's ids, row for row")
    want = wanted_mask(obj, wanted)
    strat = strategy_from_config(strategy, seed=seed, n_jobs=threads)
    run = labelling_loop(
        X, sc["S"].to_numpy(np.float64), make_oracle(obj, oracle), strat, batch, budget
    )
    metrics = cell_metrics(run.viewed, want, ns, first_viewed)
    log.info(
        "%s: %d labels in %.2f s; found %d wanted of %d in the first %d viewed",
        dict(keys),
        run.labelled.size,
        run.seconds,
        metrics[f"found_first_{first_viewed}"],
        int(want.sum()),
        first_viewed,
    )
    row = {**keys, **metrics, "budget": budget, "batch": batch, "strategy_loop_s": run.seconds}
    write_parquet(pd.DataFrame([row]), cell)
    c = found_curve(run.labelled, want)
    for k, v in reversed(list(keys.items())):
        c.insert(0, k, v)
    write_parquet(c, curve)


def read_snakemake_benchmark(path: PathLike) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) from a Snakemake benchmark TSV; NaN where not measured."""
    t = pd.read_csv(path, sep="\t")
    s = pd.to_numeric(t.get("s", pd.Series([np.nan])), errors="coerce")
    rss = pd.to_numeric(t.get("max_rss", pd.Series([np.nan])), errors="coerce")
    return float(s.mean()), float(rss.max()) if rss.notna().any() else float("nan")


KEYS = ["dataset", "detector", "strategy", "seed"]


def collect(
    cells: Sequence[PathLike],
    detector_benchmarks: Mapping[tuple[str, str, int], PathLike],
    cell_benchmarks: Sequence[PathLike],
) -> pd.DataFrame:
    """The tidy table: one row per cell, with Snakemake timings and peak memory joined.

    ``detector_benchmarks`` maps (dataset, detector, seed) to the detector job's benchmark TSV;
    ``cell_benchmarks`` are the cell jobs' TSVs in the order of ``cells``.
    """
    parts = []
    for path, bpath in zip(cells, cell_benchmarks, strict=True):
        row = pd.read_parquet(path)
        row["strategy_job_s"], row["strategy_max_rss_mb"] = read_snakemake_benchmark(bpath)
        key = (str(row["dataset"].iloc[0]), str(row["detector"].iloc[0]), int(row["seed"].iloc[0]))
        if key not in detector_benchmarks:
            raise ConfigError(f"no detector benchmark file for {key}")
        row["detector_job_s"], row["detector_max_rss_mb"] = read_snakemake_benchmark(
            detector_benchmarks[key]
        )
        parts.append(row)
    return (
        pd.concat(parts, ignore_index=True).sort_values(KEYS, kind="stable").reset_index(drop=True)
    )


def summary(table: pd.DataFrame, first_viewed: int, ns: Sequence[int]) -> pd.DataFrame:
    """Mean and sd over seeds per (dataset, detector, strategy) of the headline metrics."""
    cols = [
        f"found_first_{first_viewed}",
        *(f"recall_{n}" for n in ns),
        *(f"rws_{n}" for n in ns),
        "average_precision",
        "detector_job_s",
        "detector_max_rss_mb",
        "strategy_loop_s",
        "strategy_job_s",
        "strategy_max_rss_mb",
    ]
    g = table.groupby(["dataset", "detector", "strategy"], sort=False)
    out = g[cols].agg(["mean", "std"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    out.insert(0, "n_seeds", g.size())
    out.insert(1, "n_wanted", g["n_wanted"].mean())
    return out.reset_index()


def _fmt(mean: float, sd: float, digits: int) -> str:
    if not np.isfinite(mean):
        return "n/a"
    if not np.isfinite(sd):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown_table(summ: pd.DataFrame, first_viewed: int, ns: Sequence[int]) -> str:
    """The report's Markdown table: mean ± sd over seeds per dataset, detector and strategy."""
    n_rank = max(ns)
    head = [
        "dataset",
        "detector",
        "strategy",
        "seeds",
        "wanted",
        f"found in first {first_viewed} viewed",
        f"recall({n_rank})",
        f"RWS({n_rank})",
        "average precision",
        "detector s",
        "detector MB",
        "strategy s",
        "strategy MB",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in summ.itertuples(index=False):
        d = r._asdict()
        cells = [
            str(d["dataset"]),
            str(d["detector"]),
            str(d["strategy"]),
            str(d["n_seeds"]),
            f"{d['n_wanted']:.0f}",
            _fmt(d[f"found_first_{first_viewed}_mean"], d[f"found_first_{first_viewed}_std"], 1),
            _fmt(d[f"recall_{n_rank}_mean"], d[f"recall_{n_rank}_std"], 1),
            _fmt(d[f"rws_{n_rank}_mean"], d[f"rws_{n_rank}_std"], 3),
            _fmt(d["average_precision_mean"], d["average_precision_std"], 3),
            _fmt(d["detector_job_s_mean"], float("nan"), 1),
            _fmt(d["detector_max_rss_mb_mean"], float("nan"), 0),
            _fmt(d["strategy_job_s_mean"], float("nan"), 1),
            _fmt(d["strategy_max_rss_mb_mean"], float("nan"), 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        f"\nMean ± sd over seeds. *Viewed*: the labelled objects in the order shown, then the rest "
        f"by the strategy's final ranking. Recall and RWS at N = {n_rank} on that order. Times "
        "and peak memory (max RSS) are Snakemake's benchmark of each job (the detector's fit + "
        "score; the strategy's whole labelling loop), including interpreter start-up.\n"
    )
    return "\n".join(lines) + "\n" + note


def plot_found(curves: pd.DataFrame, png: PathLike, pdf: PathLike | None = None) -> None:
    """Wanted objects found against labels spent: a panel per (dataset, detector), a line per
    strategy (mean over seeds) with a band from the seeds' min to max."""
    import matplotlib.pyplot as plt

    from astroanom.plots.style import apply_style, save

    apply_style()
    panels = curves[["dataset", "detector"]].drop_duplicates().to_records(index=False).tolist()
    strategies = list(dict.fromkeys(curves["strategy"]))
    colours = dict(zip(strategies, plt.get_cmap("tab10").colors, strict=False))
    ncol = min(3, len(panels))
    nrow = int(np.ceil(len(panels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.9 * nrow), squeeze=False)
    for ax, (dset, det) in zip(axes.flat, panels, strict=False):
        sub = curves[(curves["dataset"] == dset) & (curves["detector"] == det)]
        for strat in strategies:
            g = sub[sub["strategy"] == strat].groupby("labels")["found"]
            if g.ngroups == 0:
                continue
            stats = g.agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], color=colours[strat], label=strat, lw=1.5)
            ax.fill_between(
                stats.index, stats["min"], stats["max"], color=colours[strat], alpha=0.2, lw=0
            )
        ax.set_title(f"{dset} · {det}")
        ax.set_xlabel("labels spent")
        ax.set_ylabel("wanted objects found")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    save(fig, png, pdf)


def collect_step(
    cells: Sequence[PathLike],
    curves: Sequence[PathLike],
    detector_benchmarks: Mapping[tuple[str, str, int], PathLike],
    cell_benchmarks: Sequence[PathLike],
    table_parquet: PathLike,
    table_csv: PathLike,
    summary_csv: PathLike,
    summary_md: PathLike,
    figure_png: PathLike,
    figure_pdf: PathLike,
    first_viewed: int,
    ns: Sequence[int],
) -> None:
    """Aggregate all cells: tidy Parquet + CSV, per-strategy summary (CSV, Markdown), figure."""
    table = collect(cells, detector_benchmarks, cell_benchmarks)
    write_parquet(table, table_parquet)
    write_csv(table, table_csv)
    summ = summary(table, first_viewed, ns)
    write_csv(summ, summary_csv)
    write_text(markdown_table(summ, first_viewed, ns), summary_md)
    curve = pd.concat([pd.read_parquet(p) for p in curves], ignore_index=True)
    plot_found(curve, figure_png, figure_pdf)
    log.info("benchmark: %d cells -> %s", len(table), Path(table_parquet))
