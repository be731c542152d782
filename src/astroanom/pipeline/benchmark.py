"""Benchmark of detectors x active-learning strategies at equal label budgets.

One *cell* is (dataset, detector, strategy, seed). It runs THE labelling loop
(:func:`astroanom.active.loop.labelling_loop`, the one the workflow's single retrain and
incremental loop run): it starts from the strategy's ranking with no labels, shows the
``batch`` highest-ranked unlabelled objects to the simulated oracle, refits the strategy on all
labels so far, re-ranks, and repeats until ``budget`` labels.

**Viewed order.** The objects a user has *viewed* are, in order, the labelled objects in the
order they were shown, followed by the unlabelled objects in the order of the strategy's final
ranking (after the last refit), :attr:`astroanom.active.loop.LoopResult.viewed`. "Anomalies
found in the first 100 viewed" counts wanted objects among the first 100 of that order; with a
budget of 100 labels that is exactly what the labeller saw while labelling. RWS(N), recall(N) and average precision are computed on the same order
(average precision: sklearn's ``average_precision_score`` with the score n - position).

*Wanted* objects come from each dataset's truth (simulation: ``wanted_classes``, class 4, the
relevance-5 class; galaxies: the anomalies, odd fraction > 0.9).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.active.loop import labelling_loop
from astroanom.active.strategies import strategy_from_config
from astroanom.errors import ConfigError
from astroanom.evaluate.metrics import recall, rws
from astroanom.evaluate.timing import wall_and_rss
from astroanom.store.io import write_csv, write_parquet, write_text

log = logging.getLogger("astroanom.pipeline.benchmark")
PathLike = str | os.PathLike[str]
Oracle = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# Wanted objects and the labelling loop
# --------------------------------------------------------------------------------------------


def cell_metrics(
    viewed: np.ndarray,
    wanted: np.ndarray,
    ns: Sequence[int],
    first_viewed: int = 100,
    n_shown: int = 0,
) -> dict[str, float]:
    """RWS(N), recall(N), average precision, found-in-first-viewed and found-in-first-unseen
    for a viewed order (n,) whose first ``n_shown`` objects were labelled.

    ``unseen_first_N``: wanted objects among the first N objects of the final ranking once the
    labelled ones are left out, i.e. ``viewed[n_shown : n_shown + N]``: what the user finds
    next among objects not yet seen.
    """
    from sklearn.metrics import average_precision_score

    hits = np.asarray(wanted, dtype=bool)[viewed]
    unseen = hits[n_shown:]
    out: dict[str, float] = {
        "n_objects": float(hits.size),
        "n_wanted": float(hits.sum()),
        f"found_first_{first_viewed}": float(recall(hits, first_viewed)),
        f"unseen_first_{first_viewed}": float(recall(unseen, first_viewed)),
        "n_wanted_unseen": float(unseen.sum()),
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
    truth: PathLike,
    scores: PathLike,
    cell: PathLike,
    curve: PathLike,
    keys: Mapping[str, Any],
    strategy: Mapping[str, Any],
    shared: Mapping[str, Any],
    oracle: Mapping[str, Any],
    truth_spec: Mapping[str, Any],
    batch: int,
    budget: int,
    ns: Sequence[int],
    first_viewed: int,
    seed: int,
    threads: int = 1,
) -> None:
    """Run one cell's labelling loop; write its metrics (one row) and found-vs-labels curve.

    ``keys`` (dataset, detector, strategy, seed) are written as leading columns of both tables.
    The oracle and the wanted objects come from the dataset's truth; ``shared`` is the
    ``active_learning`` section (alpha, n_estimators) for the strategies that use it.
    """
    from astroanom.active.oracle import make_oracle
    from astroanom.pipeline.active import aligned, read_inputs
    from astroanom.sources.truth import wanted

    df, X, S = read_inputs(features, scores)
    t = pd.read_parquet(truth)
    aligned(df["id"].to_numpy(), ("truth", t))
    want = wanted(t, truth_spec)
    if not want.any():
        raise ConfigError(f"{truth}: the truth marks no object as wanted: nothing to find")
    strat = strategy_from_config(strategy, seed=seed, n_jobs=threads, shared=shared)
    run = labelling_loop(X, S, make_oracle(t, truth_spec, oracle), strat, batch, budget)
    metrics = cell_metrics(run.viewed, want, ns, first_viewed, n_shown=run.shown.size)
    log.info(
        "%s: %d labels in %.2f s; found %d wanted of %d in the first %d viewed, %d in the next "
        "%d unseen",
        dict(keys),
        run.shown.size,
        run.seconds,
        metrics[f"found_first_{first_viewed}"],
        int(want.sum()),
        first_viewed,
        metrics[f"unseen_first_{first_viewed}"],
        first_viewed,
    )
    row = {**keys, **metrics, "budget": budget, "batch": batch, "strategy_loop_s": run.seconds}
    write_parquet(pd.DataFrame([row]), cell)
    c = found_curve(run.shown, want)
    for k, v in reversed(list(keys.items())):
        c.insert(0, k, v)
    write_parquet(c, curve)


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
        row["strategy_job_s"], row["strategy_max_rss_mb"] = wall_and_rss(bpath)
        key = (str(row["dataset"].iloc[0]), str(row["detector"].iloc[0]), int(row["seed"].iloc[0]))
        if key not in detector_benchmarks:
            raise ConfigError(f"no detector benchmark file for {key}")
        row["detector_job_s"], row["detector_max_rss_mb"] = wall_and_rss(detector_benchmarks[key])
        parts.append(row)
    return (
        pd.concat(parts, ignore_index=True).sort_values(KEYS, kind="stable").reset_index(drop=True)
    )


def summary(table: pd.DataFrame, first_viewed: int, ns: Sequence[int]) -> pd.DataFrame:
    """Mean and sd over seeds per (dataset, detector, strategy) of the headline metrics."""
    cols = [
        f"found_first_{first_viewed}",
        f"unseen_first_{first_viewed}",
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
        f"found in next {first_viewed} unseen",
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
            _fmt(d[f"unseen_first_{first_viewed}_mean"], d[f"unseen_first_{first_viewed}_std"], 1),
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
        f"by the strategy's final ranking. *Unseen*: the final ranking without the labelled objects (what a user meets next). Recall and RWS at N = {n_rank} on that order. Times "
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
