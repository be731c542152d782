"""Figures of the five-class simulation experiment (paper Figs. 1, 6, 7, 8 and 9).

Figures 7-9 take tables with one row per seed (column ``seed``) and draw the mean across seeds
with a band from the minimum to the maximum, so the run-to-run spread is visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from astroanom.ordering import rank_order
from astroanom.plots.style import (
    CLASS_COLOURS,
    PAGE_WIDTH,
    apply_style,
    draw_label_markers,
    seeds_note,
)

ROLE = {0: "inlier", 1: "inlier", 2: "outlier", 3: "outlier", 4: "outlier"}


def _colour(c: object, k: int) -> str:
    """The simulation's class colour, else the k-th of a qualitative palette (text classes)."""
    return CLASS_COLOURS.get(c, plt.get_cmap("tab10").colors[k % 10])  # type: ignore[return-value]


def _class_label(c: int, relevance: Mapping[int, int] | None) -> str:
    if relevance is None or c not in relevance:
        return f"class {c}"
    u = relevance[c]
    word = {0: "boring", 5: "interesting"}.get(u, "neutral")
    return f"class {c} ({word}, U={u})"


def _band(
    ax: plt.Axes,
    x: pd.Series,
    grp: pd.DataFrame,
    col: str,
    colour: str,
    label: str,
    ls: str = "-",
    hatch: str | None = None,
    alpha: float = 0.2,
    min_x: float | None = None,
) -> None:
    """Mean line and min-max band of ``col`` over seeds (rows of ``grp``), at each value of x
    (the band only from ``min_x`` on, where given); with ``hatch`` the band is an unfilled
    hatched region."""
    stats = grp.assign(_x=np.asarray(x)).groupby("_x")[col].agg(["mean", "min", "max"])
    ax.plot(stats.index, stats["mean"], ls, color=colour, label=label, lw=1.3)
    if min_x is not None:
        stats = stats[stats.index >= min_x]
    if hatch is None:
        ax.fill_between(stats.index, stats["min"], stats["max"], color=colour, alpha=alpha, lw=0)
    else:
        ax.fill_between(
            stats.index,
            stats["min"],
            stats["max"],
            facecolor="none",
            edgecolor=colour,
            hatch=hatch,
            alpha=alpha,
            lw=0,
        )


def smooth_score_map(
    xy: np.ndarray, score: np.ndarray, grid: int = 160, width: float = 0.025
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Gaussian-kernel weighted mean of ``score`` (n,) over a ``grid`` x ``grid`` lattice
    spanning ``xy`` (n, 2); the kernel sd is ``width`` times the larger side of the map.
    Cells far from every point (total weight < 5 % of a single point's peak) are NaN.
    Returns the (grid, grid) image (row = y) and its extent (x0, x1, y0, y1)."""
    xy = np.asarray(xy, dtype=np.float64)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    h = width * float((hi - lo).max())
    gx = np.linspace(lo[0], hi[0], grid)
    gy = np.linspace(lo[1], hi[1], grid)
    wx = np.exp(-0.5 * ((gx[:, None] - xy[None, :, 0]) / h) ** 2)  # (grid, n)
    wy = np.exp(-0.5 * ((gy[:, None] - xy[None, :, 1]) / h) ** 2)  # (grid, n)
    wsum = wy @ wx.T  # (gy, gx)
    num = (wy * score[None, :]) @ wx.T
    img = np.where(wsum > 0.05, num / np.maximum(wsum, 1e-300), np.nan)
    return img, (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def rank_percentile(score: np.ndarray) -> np.ndarray:
    """Percentile rank (n,) of each score among all, 0 (lowest) to 100 (highest); ties share
    their mean rank."""
    from scipy.stats import rankdata

    score = np.asarray(score, dtype=np.float64)
    if score.size < 2:
        return np.full(score.size, 100.0)
    return 100.0 * (rankdata(score) - 1) / (score.size - 1)


def ranks(score: np.ndarray) -> np.ndarray:
    """Rank (n,) of each score, 1 = highest; ties share their mean rank."""
    from scipy.stats import rankdata

    return rankdata(-np.asarray(score, dtype=np.float64))


def _log_rank_colorbar(fig: plt.Figure, im: object, axes: object, n: int) -> None:
    """Colour bar of a log10(rank) image: ticks at ranks 1, 10, 100, ..., rank 1 at the top."""
    cb = fig.colorbar(im, ax=axes, shrink=0.9, pad=0.02)
    ticks = [10**k for k in range(int(np.log10(max(n, 1))) + 1)]
    cb.set_ticks(np.log10(ticks), labels=[f"{t:,}" for t in ticks])
    cb.ax.invert_yaxis()
    cb.set_label("rank (log scale)")


def fig1_heatmaps(
    xy: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    labelled_xy: np.ndarray,
    labels: np.ndarray,
    detector: str = "LOF",
    note: str = "",
) -> plt.Figure:
    """Fig. 1: the t-SNE map (xy (n, 2)), each object coloured by its rank on a log scale,
    log10(rank), before (a) and after (b) active learning, so a top object moving from rank
    1000 to 100 changes colour as much as one moving from 10 to 1 (a linear percentile hides
    that: both stay above the 99th); (c) the change, log10(rank before / rank after) (+1 = ten
    times closer to the top), over a kernel-smoothed map of it. Ranks are among the n mapped
    objects; the best ranks (largest changes in (c)) are drawn last, on top. One filled,
    black-edged marker per labelled object (shape and colour by label); ``note`` (e.g. the
    seed) goes into the caption under the legend."""
    apply_style()
    fig, axes = plt.subplots(
        1, 3, figsize=(PAGE_WIDTH, 2.85), sharex=True, sharey=True, layout="constrained"
    )
    rb, ra = ranks(before), ranks(after)
    n = rb.size
    lb, la = np.log10(rb), np.log10(ra)
    rise = lb - la  # log10(rank before / rank after): > 0 moved up
    lim = max(float(np.percentile(np.abs(rise), 99.5)), 0.1)
    for ax, value, title in (
        (axes[0], lb, f"(a) before: {detector} score S"),
        (axes[1], la, "(b) after: $\\hat{S}$, one retrain"),
    ):
        order = np.argsort(-value, kind="stable")  # worst first, rank 1 on top
        sc = ax.scatter(
            *xy[order].T,
            c=value[order],
            s=4,
            cmap="viridis_r",
            vmin=0,
            vmax=np.log10(n),
            linewidths=0,
            rasterized=True,
        )
        ax.set_title(title)
    img, extent = smooth_score_map(xy, rise)
    axes[2].imshow(
        img,
        origin="lower",
        extent=extent,
        aspect="auto",
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        alpha=0.45,
    )
    order = np.argsort(np.abs(rise), kind="stable")
    sc2 = axes[2].scatter(
        *xy[order].T,
        c=rise[order],
        s=4,
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        linewidths=0,
        rasterized=True,
    )
    axes[2].set_title("(c) change: log$_{10}$(rank before / after)")
    for ax in axes:
        draw_label_markers(ax, labelled_xy, labels, size=10, filled=True)
        ax.set_xlabel("t-SNE 1 (arb. units)")
        ax.tick_params(labelsize=6)
    axes[0].set_ylabel("t-SNE 2 (arb. units)")
    _log_rank_colorbar(fig, sc, axes[:2], n)
    cb = fig.colorbar(sc2, ax=axes[2], shrink=0.9, pad=0.02, extend="both")
    cb.set_label("> 0: moved up (+1: 10x)")
    handles, names = axes[0].get_legend_handles_labels()
    text = (
        f"One dot per mapped object ({n:,}; ranks among them). (c): background = kernel-smoothed"
        " change." + (f" {note}" if note else "")
    )
    fig.legend(handles, names, loc="outside lower center", ncol=3, title=text)
    return fig


def fig6_examples(
    x: np.ndarray,
    curves: np.ndarray,
    classes: np.ndarray,
    ids: np.ndarray,
    after: np.ndarray,
    before: np.ndarray,
    seed: int,
    n: int = 6,
    labelled: np.ndarray | None = None,
) -> plt.Figure:
    """Fig. 6: the top ``n`` by the active-learning score, the top ``n`` by the detector and
    ``n`` random objects, drawn as curves coloured by class. With ``labelled`` (boolean (n,)),
    (a) is the top ``n`` *unlabelled* objects after learning (what it recommends that nobody has
    seen) and (d) the top ``n`` including labelled ones (the paper's panel), marked [L]."""
    apply_style()
    rng = np.random.default_rng(seed)
    after = np.asarray(after, dtype=np.float64)
    seen = np.zeros(after.size, dtype=bool) if labelled is None else np.asarray(labelled, bool)
    groups = []
    if seen.any():
        unl = np.flatnonzero(~seen)
        groups.append(("(a) top unlabelled after active learning", unl[rank_order(after[unl])[:n]]))
    else:
        groups.append(("(a) top by active learning", rank_order(after)[:n]))
    groups += [
        ("(b) top by LOF", rank_order(before)[:n]),
        ("(c) random", rng.choice(curves.shape[0], n, replace=False)),
    ]
    if seen.any():
        groups.append(("(d) top after active learning, labelled included", rank_order(after)[:n]))
    cols = 3
    rows_per = int(np.ceil(n / cols))
    fig = plt.figure(
        figsize=(PAGE_WIDTH, 0.95 * rows_per * len(groups) + 0.3 * len(groups)),
        layout="constrained",
    )
    subs = np.atleast_1d(fig.subfigures(len(groups), 1))
    # every panel on the same limits, so the shapes compare; set once, not by sharing axes
    # (matplotlib re-autoscales every sibling of a shared group at each draw: minutes for 24)
    xlim, ylim = _common_limits(x, curves, np.concatenate([g[1] for g in groups]))
    for sub, (title, idx) in zip(subs, groups, strict=True):
        axes = sub.subplots(rows_per, cols, squeeze=False)
        for ax in axes.flat:
            ax.set_xlim(*xlim)
            ax.set_ylim(*ylim)
        sub.suptitle(title, x=0.0, ha="left", fontsize=8, fontweight="bold")
        for j, ax in enumerate(axes.flat):
            if j >= len(idx):
                ax.axis("off")
                continue
            i = int(idx[j])
            c = int(classes[i])
            ax.plot(x, curves[i], color=CLASS_COLOURS.get(c, "k"), lw=0.9)
            mark = " [L]" if seen[i] else ""
            ax.set_title(f"id {ids[i]}, class {c}{mark}", fontsize=6.5, pad=2)
            ax.tick_params(labelsize=6)
            if j // cols == rows_per - 1:
                ax.set_xlabel("x (arb. units)", fontsize=7)
            else:
                ax.tick_params(labelbottom=False)
            if j % cols == 0:
                ax.set_ylabel("y (arb. units)", fontsize=7)
            else:
                ax.tick_params(labelleft=False)
    return fig


def _common_limits(
    x: np.ndarray, curves: np.ndarray, idx: np.ndarray, margin: float = 0.05
) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y limits that hold every curve ``curves[idx]`` (rows of (n, len(x))) with a
    ``margin`` fraction of the range on each side (matplotlib's default autoscale margin)."""
    ys = curves[np.asarray(idx, dtype=np.int64)]
    ys = ys[np.isfinite(ys)]
    lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = margin * (hi - lo)
    xs = np.asarray(x, dtype=np.float64)
    xlo, xhi = float(np.nanmin(xs)), float(np.nanmax(xs))
    xpad = margin * (xhi - xlo) if xhi > xlo else 0.5
    return (xlo - xpad, xhi + xpad), (lo - pad, hi + pad)


def _seeds(table: pd.DataFrame) -> list[int]:
    return sorted(int(v) for v in table["seed"].unique()) if "seed" in table else [0]


def _legend_below(fig: plt.Figure, ax: plt.Axes, title: str, ncol: int = 3) -> None:
    """The legend of ``ax``'s lines under the axes (off the data), titled with ``title``."""
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=ncol, title=title)


def fig7_incremental(
    rounds: pd.DataFrame, class_ids: Sequence[int], top: int, relevance: Mapping[int, int]
) -> plt.Figure:
    """Fig. 7: share of the top ``top`` (a) and RWS(top) (b) per class against labels given.

    ``rounds`` has columns seed, n_labels, class, share, rws.
    """
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.0), layout="constrained")
    for k, c in enumerate(class_ids):
        grp = rounds[rounds["class"] == c].rename(columns={"n_labels": "x"})
        for ax, col in zip(axes, ("share", "rws"), strict=True):
            _band(ax, grp["x"], grp, col, _colour(c, k), _class_label(c, relevance))
    axes[0].set_ylabel(f"fraction of the top {top} ranked objects")
    axes[1].set_ylabel(f"RWS (N = {top}; 0-1)")
    for ax, tag in zip(axes, "ab", strict=True):
        ax.set_xlabel("number of labelled objects")
        ax.set_title(f"({tag})", loc="left")
        ax.set_ylim(bottom=0)
    _legend_below(fig, axes[0], seeds_note(_seeds(rounds)))
    return fig


#: Figs. 8-9 draw no band below this N: with a few seeds the min-max range of the first ranks
#: spans 0-1 (one object more or less) and hides the lines.
BAND_MIN_N = 10


def fig8_rws(
    curves: pd.DataFrame, class_ids: Sequence[int], relevance: Mapping[int, int], n_class: int
) -> plt.Figure:
    """Fig. 8: RWS(N) per class before (a) and after (b) one retrain; dashed line at N equal
    to the class size. ``curves`` has columns seed, stage, class, N, rws, recall."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.0), sharey=True, layout="constrained")
    for ax, stage, tag in ((axes[0], "before", "(a) before"), (axes[1], "after", "(b) after")):
        for k, c in enumerate(class_ids):
            grp = curves[(curves["stage"] == stage) & (curves["class"] == c)].rename(
                columns={"N": "x"}
            )
            _band(
                ax,
                grp["x"],
                grp,
                "rws",
                _colour(c, k),
                _class_label(c, relevance),
                min_x=BAND_MIN_N,
            )
        ax.axvline(n_class, color="k", ls="--", lw=0.8, label=f"N = class size ({n_class})")
        ax.set_xscale("log")
        ax.set_xlabel("N (top-ranked objects scored)")
        ax.set_title(f"{tag} active learning", loc="left")
    axes[0].set_ylabel("rank weighted score (0-1)")
    _legend_below(
        fig, axes[0], f"{seeds_note(_seeds(curves))} (bands from N = {BAND_MIN_N})", ncol=4
    )
    return fig


def fig9_recall(
    curves: pd.DataFrame, class_ids: Sequence[int], relevance: Mapping[int, int]
) -> plt.Figure:
    """Fig. 9: cumulative number of anomalies per class against rank, before (a) and after (b)
    one retrain, on the same axes limits; the other stage's mean as a thin grey-free dashed
    line of the class colour, so the change shows in each panel without overlapping bands."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.0), sharey=True, layout="constrained")
    for ax, stage, other, tag in (
        (axes[0], "before", "after", "(a) before active learning"),
        (axes[1], "after", "before", "(b) after active learning"),
    ):
        for k, c in enumerate(class_ids):
            colour = _colour(c, k)
            sel = curves["class"] == c
            grp = curves[sel & (curves["stage"] == stage)].rename(columns={"N": "x"})
            _band(
                ax,
                grp["x"] - 1,
                grp,
                "recall",
                colour,
                _class_label(c, relevance),
                alpha=0.25,
                min_x=BAND_MIN_N,
            )
            oth = curves[sel & (curves["stage"] == other)].groupby("N")["recall"].mean()
            ax.plot(
                oth.index - 1,
                oth.to_numpy(),
                ls=(0, (2, 2)),
                color=colour,
                lw=0.8,
                alpha=0.8,
                label=f"{_class_label(c, relevance)}, {other}",
            )
        ax.set_title(tag, loc="left")
        ax.set_xlabel("index in ranked list (0 = highest score)")
    axes[0].set_ylabel("cumulative number of anomalies found")
    from matplotlib.lines import Line2D

    handles, names = axes[0].get_legend_handles_labels()
    keep = [(h, n) for h, n in zip(handles, names, strict=True) if not n.endswith(", after")]
    other = Line2D([], [], ls=(0, (2, 2)), color="0.3", lw=0.8)
    fig.legend(
        [h for h, _ in keep] + [other],
        [n for _, n in keep] + ["the other stage's mean (after in (a), before in (b))"],
        loc="outside lower center",
        ncol=2,
        title=f"{seeds_note(_seeds(curves))} (bands from index {BAND_MIN_N})",
    )
    return fig
