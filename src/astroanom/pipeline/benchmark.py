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

**Tasks** (``benchmark.tasks``): a task names the wanted truth classes (relevance 5, every other
object 0), ``known: k`` examples drawn by the cell's seed from the wanted class (given to the
loop before round 0, never shown, never counted as found, left out of the wanted total) and
one or more datasets of the same objects with different features (*feature sets*); a cell is
then (task, feature set, detector, strategy, seed). Without ``tasks`` each dataset of
``benchmark.datasets`` is one task with its own truth (the plan :func:`plan_cells`).

**Budgets**: the loop runs once to the largest of ``budgets``; each smaller budget b is read
from the loop's state after b labels (:meth:`LoopResult.after`, equal to a loop of budget b):
``found_viewed`` wanted among the b labelled, ``unseen_next`` wanted among the next
``first_viewed`` unseen objects of the ranking after the b-th label's refit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astroanom.active.loop import LoopResult, labelling_loop
from astroanom.active.strategies import strategy_from_config
from astroanom.errors import ConfigError
from astroanom.evaluate.metrics import recall, rws
from astroanom.evaluate.timing import wall_and_rss
from astroanom.store.io import write_csv, write_parquet, write_text

log = logging.getLogger("astroanom.pipeline.benchmark")
PathLike = str | os.PathLike[str]
Oracle = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# The plan: tasks x feature sets x detectors x strategies x seeds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One benchmark task: what is wanted, how many known examples, on which feature sets.

    ``wanted`` None: the dataset's own truth (a ``benchmark.datasets`` entry, ``legacy``)."""

    name: str
    datasets: tuple[str, ...]
    wanted: tuple[str, ...] | None = None
    known: int = 0
    legacy: bool = False

    def path(self, dataset: str) -> str:
        """Directory of the task's cells on ``dataset`` below ``results/benchmark``."""
        return dataset if self.legacy else f"{self.name}/{dataset}"

    def spec(self) -> dict[str, Any]:
        """The task as the cell job's parameter (name, wanted, known)."""
        return {"name": self.name, "wanted": list(self.wanted or []), "known": self.known}


@dataclass(frozen=True)
class Cell:
    """One labelling loop of the benchmark; ``path`` its file stem below ``results/benchmark``."""

    task: Task
    dataset: str
    detector: str
    strategy: str
    seed: int

    @property
    def path(self) -> str:
        return f"{self.task.path(self.dataset)}/{self.detector}/seed{self.seed}/{self.strategy}"


def bench_tasks(bench: Mapping[str, Any]) -> list[Task]:
    """The tasks of a validated ``benchmark`` section: its ``tasks`` or, without them, one task
    per name of ``datasets`` with that dataset's own truth."""
    tasks = bench.get("tasks") or {}
    if tasks:
        return [
            Task(
                name,
                tuple(t["datasets"]),
                tuple(str(w) for w in t["wanted"]) if t.get("wanted") else None,
                int(t.get("known", 0)),
            )
            for name, t in tasks.items()
        ]
    return [Task(d, (d,), None, 0, legacy=True) for d in bench.get("datasets", [])]


def budgets(bench: Mapping[str, Any]) -> list[int]:
    """The label budgets evaluated, ascending (``budgets``, else ``[budget]``)."""
    return sorted({int(b) for b in (bench.get("budgets") or [bench.get("budget", 100)])})


def plan_cells(bench: Mapping[str, Any], strategies: Sequence[str]) -> list[Cell]:
    """Every cell: tasks x their feature sets x detectors x ``strategies`` x seeds."""
    return [
        Cell(t, d, det, s, int(seed))
        for t in bench_tasks(bench)
        for d in t.datasets
        for det in bench.get("detectors", {})
        for s in strategies
        for seed in bench.get("seeds", [])
    ]


def detector_runs(bench: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """The distinct (dataset, detector, seed) fits the cells share, in plan order."""
    keys = [
        (d, det, int(seed))
        for t in bench_tasks(bench)
        for d in t.datasets
        for det in bench.get("detectors", {})
        for seed in bench.get("seeds", [])
    ]
    return list(dict.fromkeys(keys))


def task_truth(
    truth_spec: Mapping[str, Any], oracle: Mapping[str, Any], task: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The truth spec and simulated oracle of a task on a dataset: its ``wanted`` classes get
    relevance 5 and every other object 0; a task without ``wanted`` keeps the dataset's."""
    spec, orc = dict(truth_spec), dict(oracle)
    wanted_cls = list((task or {}).get("wanted") or [])
    if not wanted_cls:
        return spec, orc
    if spec["kind"] == "category":
        spec["wanted_classes"] = [str(w) for w in wanted_cls]
        orc["relevance"] = {str(w): 5 for w in wanted_cls}
        orc["default_relevance"] = 0
    elif spec["kind"] == "class":
        want = {int(float(w)) for w in wanted_cls}
        spec["wanted_classes"] = sorted(want)
        classes = {int(k) for k in (orc.get("relevance") or {})} | want
        classes |= {int(c) for c in spec.get("anomaly_classes", [])}
        orc["relevance"] = {c: (5 if c in want else 0) for c in sorted(classes)}
    else:
        raise ConfigError(
            f"benchmark task {task.get('name') if task else ''!r}: 'wanted' needs class or "
            f"category truth; this dataset's truth is {spec['kind']!r}"
        )
    return spec, orc


def draw_known(ids: np.ndarray, want: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Rows (k,) of ``k`` known examples drawn by ``seed`` among the wanted objects (want (n,)
    bool); drawn from the wanted ids in sorted order, so every feature set of the same objects
    and every strategy gets the same ones."""
    rows = np.flatnonzero(want)
    if k == 0:
        return np.empty(0, dtype=np.int64)
    if k >= rows.size:
        raise ConfigError(
            f"a benchmark task asks for {k} known examples but only {rows.size} objects are "
            "wanted: nothing would be left to find"
        )
    rows = rows[np.argsort(np.asarray(ids)[rows].astype(str), kind="stable")]
    pick = np.random.default_rng(seed).choice(rows.size, size=k, replace=False)
    return np.sort(rows[pick]).astype(np.int64)


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
            average_precision_score(hits, viewed.size - np.arange(viewed.size))
            if hits.any()
            else np.nan
        ),
    }
    for n in ns:
        out[f"rws_{n}"] = rws(hits, n)
        out[f"recall_{n}"] = float(recall(hits, n))
    return out


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
    budget: int | Sequence[int],
    ns: Sequence[int],
    first_viewed: int,
    seed: int,
    threads: int = 1,
    task: Mapping[str, Any] | None = None,
) -> None:
    """Run one cell's labelling loop; write its metrics (a row per budget) and found-vs-labels
    curve.

    ``keys`` (task, dataset, detector, strategy, seed) are written as leading columns of both
    tables. ``budget``: one budget or several, evaluated from one loop to the largest. The
    oracle and the wanted objects come from the dataset's truth, or the ``task``'s ``wanted``
    classes; its ``known`` examples are drawn by ``seed``. ``shared`` is the
    ``active_learning`` section (alpha, n_estimators) for the strategies that use it.
    """
    from astroanom.active.oracle import make_oracle
    from astroanom.pipeline.active import aligned, read_inputs
    from astroanom.sources.truth import wanted

    df, X, S = read_inputs(features, scores)
    t = pd.read_parquet(truth)
    aligned(df["id"].to_numpy(), ("truth", t))
    spec, orc = task_truth(truth_spec, oracle, task)
    want = wanted(t, spec)
    if not want.any():
        raise ConfigError(f"{truth}: the truth marks no object as wanted: nothing to find")
    n_known = int((task or {}).get("known", 0))
    known = draw_known(df["id"].to_numpy(), want, n_known, seed)
    bset = sorted({int(b) for b in np.atleast_1d(budget)})
    strat = strategy_from_config(strategy, seed=seed, n_jobs=threads, shared=shared)
    run = labelling_loop(
        X,
        S,
        make_oracle(t, spec, orc),
        strat,
        batch,
        bset[-1],
        known=known if n_known else None,
        known_labels=np.full(n_known, 5.0) if n_known else None,
        stops=bset[:-1],
    )
    rows = [
        {**keys, **budget_metrics(run, want, b, ns, first_viewed), "batch": batch, "known": n_known}
        for b in bset
    ]
    for row in rows:
        row["strategy_loop_s"] = run.seconds
    last = rows[-1]
    log.info(
        "%s: %d labels in %.2f s; %d known; found %d wanted of %d among the %d labelled, %d in "
        "the next %d unseen",
        dict(keys),
        run.shown.size,
        run.seconds,
        n_known,
        last["found_viewed"],
        last["n_wanted"],
        run.shown.size,
        last["unseen_next"],
        first_viewed,
    )
    write_parquet(pd.DataFrame(rows), cell)
    c = found_curve(run.shown, want)
    c["n_wanted"] = int(last["n_wanted"])
    for k, v in reversed(list(keys.items())):
        c.insert(0, k, v)
    write_parquet(c, curve)


def budget_metrics(
    run: LoopResult, want: np.ndarray, b: int, ns: Sequence[int], first_viewed: int
) -> dict[str, Any]:
    """Metrics of a loop after its first ``b`` labels (all of it if it stopped earlier):
    :func:`cell_metrics` of that state's viewed order plus ``budget``, ``found_viewed``
    (wanted among the labelled) and ``unseen_next`` (wanted among the next ``first_viewed``
    unseen). Known examples are never counted (they are not in the viewed order)."""
    sub = run.after(b) if b <= run.shown.size else run
    m: dict[str, Any] = {"budget": int(b)}
    m.update(cell_metrics(sub.viewed, want, ns, first_viewed, n_shown=sub.shown.size))
    m["found_viewed"] = float(np.asarray(want, dtype=bool)[sub.shown].sum())
    m["unseen_next"] = m[f"unseen_first_{first_viewed}"]
    m["n_labels"] = int(sub.shown.size)
    return m


KEYS = ["task", "dataset", "detector", "strategy", "seed", "budget"]
GROUP = ["task", "dataset", "detector", "strategy", "budget"]


def _present(cols: Sequence[str], table: pd.DataFrame) -> list[str]:
    return [c for c in cols if c in table.columns]


def collect(
    cells: Sequence[PathLike],
    detector_benchmarks: Mapping[tuple[str, str, int], PathLike],
    cell_benchmarks: Sequence[PathLike],
) -> pd.DataFrame:
    """The tidy table: one row per cell and budget, with Snakemake timings and peak memory
    joined.

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
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(_present(KEYS, table), kind="stable").reset_index(drop=True)


def summary(table: pd.DataFrame, first_viewed: int, ns: Sequence[int]) -> pd.DataFrame:
    """Mean and sd over seeds per (task, dataset, detector, strategy, budget) of the headline
    metrics (the columns the table has)."""
    cols = [
        "found_viewed",
        "unseen_next",
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
    cols = _present(cols, table)
    g = table.groupby(_present(GROUP, table), sort=False)
    out = g[cols].agg(["mean", "std"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    out.insert(0, "n_seeds", g.size())
    out.insert(1, "n_wanted", g["n_wanted"].mean())
    if "known" in table.columns:
        out.insert(2, "known", g["known"].first())
    return out.reset_index()


def who_wins(summ: pd.DataFrame, measure: str = "found_viewed") -> pd.DataFrame:
    """Per (task, dataset, detector, budget): the strategy with the highest mean ``measure``
    over seeds, its margin over the next best (the best strictly below it), over ``none`` and
    over ``random`` (NaN when that strategy was not run). Ties go to the smaller sd, then the name; ``tied`` lists every
    strategy with the best mean when there are several."""
    keys = _present(["task", "dataset", "detector", "budget"], summ)
    rows = []
    for key, g in summ.groupby(keys, sort=False):
        g = g.sort_values(
            [f"{measure}_mean", f"{measure}_std", "strategy"], ascending=[False, True, True]
        )
        mean = dict(zip(g["strategy"], g[f"{measure}_mean"], strict=True))
        best = g.iloc[0]
        tied = [k for k, v in mean.items() if v == best[f"{measure}_mean"]]
        below = g[g[f"{measure}_mean"] < best[f"{measure}_mean"]]
        nxt = below.iloc[0] if len(below) else None  # the best strictly below (ties apart)
        rows.append(
            {
                **dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True)),
                "n_wanted": best["n_wanted"],
                "best": best["strategy"],
                "tied": ", ".join(tied) if len(tied) > 1 else "",
                "best_mean": best[f"{measure}_mean"],
                "best_sd": best[f"{measure}_std"],
                "runner_up": nxt["strategy"] if nxt is not None else "",
                "margin_next": best[f"{measure}_mean"] - nxt[f"{measure}_mean"]
                if nxt is not None
                else np.nan,
                "margin_none": best[f"{measure}_mean"] - mean.get("none", np.nan),
                "margin_random": best[f"{measure}_mean"] - mean.get("random", np.nan),
            }
        )
    return pd.DataFrame(rows)


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


def task_markdown(summ: pd.DataFrame, first_viewed: int) -> str:
    """The tasks' Markdown table: a row per task, feature set, detector and strategy; per
    budget B, wanted found among the B labelled and in the next ``first_viewed`` unseen after
    B labels, mean ± sd over seeds."""
    bs = sorted(summ["budget"].unique())
    head = ["task", "wanted", "known", "features", "detector", "strategy", "seeds"]
    head += [f"found ≤ {b} viewed" for b in bs]
    head += [f"next {first_viewed} unseen after {b}" for b in bs]
    head += ["loop s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = ["task", "dataset", "detector", "strategy"]
    for key, g in summ.groupby(keys, sort=False):
        by = g.set_index("budget")
        first = g.iloc[0]
        cells = [str(key[0]), f"{first['n_wanted']:.0f}", f"{first.get('known', 0):.0f}"]
        cells += [str(key[1]), str(key[2]), str(key[3]), str(int(first["n_seeds"]))]
        for col in ("found_viewed", "unseen_next"):
            for b in bs:
                ok = b in by.index
                cells.append(_fmt(by.at[b, f"{col}_mean"], by.at[b, f"{col}_std"], 1) if ok else "")
        cells.append(_fmt(first["strategy_loop_s_mean"], float("nan"), 1))
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        f"\nMean ± sd over seeds. *Wanted*: objects of the task's wanted types, the known "
        f"examples left out. *Found ≤ B viewed*: wanted among the first B labelled objects. "
        f"*Next {first_viewed} unseen after B*: wanted among the first {first_viewed} objects "
        f"of the ranking after the B-th label's refit, labelled and known objects left out. "
        "One loop per cell, to the largest budget; a smaller budget is that loop's state after "
        "B labels.\n"
    )
    return "\n".join(lines) + "\n" + note


def wins_markdown(wins: pd.DataFrame) -> str:
    """The who-wins table in Markdown: per task, feature set, detector and budget."""
    head = ["task", "features", "detector", "budget", "wanted", "best", "found", "next best"]
    head += ["margin", "over none", "over random"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def signed(x: float) -> str:
        return "n/a" if not np.isfinite(x) else f"{x:+.1f}"

    for r in wins.to_dict("records"):
        cells = [str(r["task"]), str(r["dataset"]), str(r["detector"]), str(r["budget"])]
        best = f"{r['tied']} (tie)" if r.get("tied") else str(r["best"])
        if r.get("tied") and not r["runner_up"]:
            best = "all strategies (tie)"
        cells += [f"{r['n_wanted']:.0f}", best, _fmt(r["best_mean"], r["best_sd"], 1)]
        cells += [str(r["runner_up"]), signed(r["margin_next"])]
        cells += [signed(r["margin_none"]), signed(r["margin_random"])]
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        "\nBest strategy by mean wanted found among the B labelled; margins are differences "
        "of means over seeds (the next best strategy, `none` = the detector's ranking, "
        "`random`).\n"
    )
    return "\n".join(lines) + "\n" + note


#: How the two baselines are drawn so neither hides the other: (colour, dashes, marker, z).
BASELINE_STYLE = {
    "none": ("black", "--", "o", 4.0),
    "random": ("0.45", ":", "s", 3.5),
}


def panel_keys(curves: pd.DataFrame) -> list[tuple[str, ...]]:
    """One panel per (task, dataset, detector) with curves, in the curves' order."""
    cols = _present(["task", "dataset", "detector"], curves)
    return [tuple(map(str, k)) for k in curves[cols].drop_duplicates().itertuples(index=False)]


def plot_found(
    curves: pd.DataFrame,
    png: PathLike,
    pdf: PathLike | None = None,
    titles: Mapping[str, str] | None = None,
    band: str = "minmax",
) -> None:
    """Wanted objects found against labels spent: a panel per (task, dataset, detector) that
    has curves (no empty panel), a line per strategy (mean over seeds) with a band over seeds
    (``band``: ``minmax`` or ``sd``, ±1 sd), written on the figure. ``none`` and ``random``
    are drawn dashed/dotted with markers above the bands. ``titles``: task -> panel title.
    Print size: 7 in wide, 8 pt."""
    import matplotlib.pyplot as plt

    from astroanom.plots.style import PAGE_WIDTH, apply_style, save

    apply_style()
    cols = _present(["task", "dataset", "detector"], curves)
    panels = panel_keys(curves)
    if titles and "task" in cols:  # the tasks' order of the config
        rank = {t: i for i, t in enumerate(titles)}
        panels.sort(key=lambda k: rank.get(k[0], len(rank)))
    strategies = list(dict.fromkeys(curves["strategy"]))
    learners = [s for s in strategies if s not in BASELINE_STYLE]
    colours = dict(zip(learners, plt.get_cmap("tab10").colors, strict=False))
    ncol = min(4, len(panels))
    nrow = int(np.ceil(len(panels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(PAGE_WIDTH, 1.75 * nrow + 0.55), squeeze=False)
    n_seeds = int(curves.groupby([*cols, "strategy"])["seed"].nunique().max())
    for ax, key in zip(axes.flat, panels, strict=False):
        sel = np.logical_and.reduce(
            [curves[c].astype(str) == k for c, k in zip(cols, key, strict=True)]
        )
        sub = curves[sel]
        top = int(sub["labels"].max())
        for strat in strategies:
            g = sub[sub["strategy"] == strat].groupby("labels")["found"]
            if g.ngroups == 0:
                continue
            st = g.agg(["mean", "min", "max", "std"]).fillna({"std": 0.0})
            lo, hi = (
                (st["min"], st["max"])
                if band == "minmax"
                else (st["mean"] - st["std"], st["mean"] + st["std"])
            )
            if strat in BASELINE_STYLE:
                colour, dash, marker, z = BASELINE_STYLE[strat]
                every = max(1, top // 6)
                ax.plot(
                    st.index,
                    st["mean"],
                    color=colour,
                    ls=dash,
                    lw=1.1,
                    marker=marker,
                    ms=2.5,
                    markevery=(every // 2 if strat == "random" else 0, every),
                    label=strat,
                    zorder=z,
                )
                ax.fill_between(st.index, lo, hi, color=colour, alpha=0.12, lw=0, zorder=1)
            else:
                ax.plot(st.index, st["mean"], color=colours[strat], lw=1.2, label=strat, zorder=3)
                ax.fill_between(st.index, lo, hi, color=colours[strat], alpha=0.15, lw=0, zorder=1)
        n_wanted = int(sub["n_wanted"].max()) if "n_wanted" in sub else None
        if "task" in cols:
            ax.set_title(f"{(titles or {}).get(key[0], key[0])}\n{key[1]} · {key[2]}", fontsize=7)
        else:
            ax.set_title(" · ".join(key), fontsize=7)
        ax.set_xlabel("labels")
        ax.set_ylabel(f"wanted found (of {n_wanted})" if n_wanted is not None else "wanted found")
        ax.set_xlim(0, top)
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
    for ax in list(axes.flat)[len(panels) :]:
        ax.remove()
    legend: dict[str, Any] = {}
    for ax in fig.axes:  # every strategy once: the learners, then none and random
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(lab, h)
    order = [*learners, *(s for s in BASELINE_STYLE if s in strategies)]
    labels = [s for s in order if s in legend]
    handles = [legend[s] for s in labels]
    what = "min–max" if band == "minmax" else "±1 sd"
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(len(labels), 8),
        frameon=False,
        fontsize=7,
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.text(
        0.5,
        1.0,
        f"lines: mean over {n_seeds} seeds; bands: {what} over the {n_seeds} seeds"
        if n_seeds > 1
        else "one seed: lines are that seed's run (no band)",
        ha="center",
        va="top",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.96))
    save(fig, png, pdf)


def task_titles(tasks: Mapping[str, Mapping[str, Any]], curves: pd.DataFrame) -> dict[str, str]:
    """Panel title per task, e.g. ``RCB (18) k5``: wanted types, wanted left, known."""
    out = {}
    for name, t in tasks.items():
        n = curves.loc[curves["task"].astype(str) == name, "n_wanted"]
        left = f" ({int(n.max())})" if len(n) else ""
        out[name] = (
            f"{'/'.join(map(str, t.get('wanted') or [name]))}{left} k{int(t.get('known', 0))}"
        )
    return out


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
    tasks: Mapping[str, Mapping[str, Any]] | None = None,
    wins_csv: PathLike | None = None,
) -> None:
    """Aggregate all cells: tidy Parquet + CSV, per-strategy summary (CSV, Markdown), the
    who-wins table (with ``tasks``), figure."""
    table = collect(cells, detector_benchmarks, cell_benchmarks)
    write_parquet(table, table_parquet)
    write_csv(table, table_csv)
    summ = summary(table, first_viewed, ns)
    if tasks:  # the config's order of the tasks
        rank = {t: i for i, t in enumerate(tasks)}
        summ = summ.sort_values("task", key=lambda c: c.map(rank), kind="stable")
        summ = summ.reset_index(drop=True)
    write_csv(summ, summary_csv)
    curve = pd.concat([pd.read_parquet(p) for p in curves], ignore_index=True)
    if tasks:
        wins = who_wins(summ)
        if wins_csv is not None:
            write_csv(wins, wins_csv)
        md = task_markdown(summ, first_viewed) + "\n### Who wins\n\n" + wins_markdown(wins)
        titles = task_titles(tasks, curve)
    else:
        md, titles = markdown_table(summ, first_viewed, ns), None
        if wins_csv is not None:
            write_csv(who_wins(summ.assign(task=summ["dataset"])), wins_csv)
    write_text(md, summary_md)
    plot_found(curve, figure_png, figure_pdf, titles=titles)
    log.info("benchmark: %d cells -> %s", len(table), Path(table_parquet))
