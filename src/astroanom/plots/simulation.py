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
from astroanom.plots.style import CLASS_COLOURS, apply_style, draw_label_markers

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
) -> None:
    """Mean line and min-max band of ``col`` over seeds (rows of ``grp``), at each value of x;
    with ``hatch`` the band is an unfilled hatched region (so overlapping bands stay apart)."""
    stats = grp.assign(_x=np.asarray(x)).groupby("_x")[col].agg(["mean", "min", "max"])
    ax.plot(stats.index, stats["mean"], ls, color=colour, label=label, lw=1.6)
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


def fig1_heatmaps(
    xy: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    labelled_xy: np.ndarray,
    labels: np.ndarray,
) -> plt.Figure:
    """Fig. 1: t-SNE map (xy (n, 2)) as smoothed heat maps of the rank percentile of the score
    before (a) and after (b) active learning, and (c) the change in rank on a log scale,
    log10(rank before / rank after) (rank 1 = top; +1 = moved ten times closer to the top),
    which shows the rise near the interesting labels even though S^ <= S everywhere and the top
    percentiles barely move. One hollow marker per labelled object (shape and colour by label)."""
    apply_style()
    fig, axes = plt.subplots(
        1, 3, figsize=(13, 4.6), sharex=True, sharey=True, constrained_layout=True
    )
    pb, pa = rank_percentile(before), rank_percentile(after)
    n = pb.size
    # rank 1 = top; log10(rank_before / rank_after) > 0: moved up
    rise = np.log10((n - pb / 100.0 * (n - 1)) / (n - pa / 100.0 * (n - 1)))
    panels = (
        (axes[0], pb, "(a) before active learning", "viridis", (0, 100)),
        (axes[1], pa, "(b) after active learning", "viridis", (0, 100)),
        (axes[2], rise, "(c) rise in rank, log10(rank before / rank after)", "RdBu_r", None),
    )
    diff_img, extent = smooth_score_map(xy, rise)
    lim = float(np.nanmax(np.abs(diff_img))) if np.isfinite(diff_img).any() else 1.0
    ims = []
    for ax, score, title, cmap, vlim in panels:
        img, extent = smooth_score_map(xy, score)
        lo, hi = vlim if vlim is not None else (-lim, lim)
        ims.append(
            ax.imshow(
                img, origin="lower", extent=extent, aspect="auto", cmap=cmap, vmin=lo, vmax=hi
            )
        )
        draw_label_markers(ax, np.asarray(labelled_xy), np.asarray(labels))
        ax.set_title(title)
        ax.set_xlabel("t-SNE 1 (arbitrary units)")
        ax.set_facecolor("#f2f2f2")
    axes[0].set_ylabel("t-SNE 2 (arbitrary units)")
    fig.colorbar(ims[1], ax=axes[:2], label="rank percentile of the score (100 = top)", shrink=0.9)
    fig.colorbar(
        ims[2], ax=axes[2], label="log10(rank before / rank after); > 0: moved up", shrink=0.9
    )
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=3, fontsize=8)
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
    fig, axes = plt.subplots(
        rows_per * len(groups),
        cols,
        figsize=(9, 1.8 * rows_per * len(groups)),
        sharex=True,
        sharey=True,
        constrained_layout=True,
    )
    axes = np.atleast_2d(axes)
    for g, (title, idx) in enumerate(groups):
        for j, i in enumerate(idx):
            ax = axes[g * rows_per + j // cols, j % cols]
            c = int(classes[i])
            ax.plot(x, curves[i], color=CLASS_COLOURS.get(c, "k"), lw=1)
            mark = " [L]" if seen[i] else ""
            ax.set_title(f"id {ids[i]}, class {c}{mark}", fontsize=8)
            if j == 0:
                ax.text(-0.3, 1.25, title, transform=ax.transAxes, fontsize=10, fontweight="bold")
    for ax in axes[-1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("y")
    return fig


def fig7_incremental(
    rounds: pd.DataFrame, class_ids: Sequence[int], top: int, relevance: Mapping[int, int]
) -> plt.Figure:
    """Fig. 7: share of the top ``top`` (a) and RWS(top) (b) per class against labels given.

    ``rounds`` has columns seed, n_labels, class, share, rws.
    """
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    for k, c in enumerate(class_ids):
        grp = rounds[rounds["class"] == c].rename(columns={"n_labels": "x"})
        for ax, col in zip(axes, ("share", "rws"), strict=True):
            _band(ax, grp["x"], grp, col, _colour(c, k), _class_label(c, relevance))
    axes[0].set_ylabel(f"fraction of the top {top} ranked objects")
    axes[1].set_ylabel(f"RWS (N = {top})")
    for ax, tag in zip(axes, "ab", strict=True):
        ax.set_xlabel("number of labelled objects")
        ax.set_title(f"({tag})", loc="left")
        ax.set_ylim(bottom=0)
    axes[0].legend(loc="best", fontsize=8)
    return fig


def fig8_rws(
    curves: pd.DataFrame, class_ids: Sequence[int], relevance: Mapping[int, int], n_class: int
) -> plt.Figure:
    """Fig. 8: RWS(N) per class before (a) and after (b) one retrain; dashed line at N equal
    to the class size. ``curves`` has columns seed, stage, class, N, rws, recall."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True, constrained_layout=True)
    for ax, stage, tag in ((axes[0], "before", "(a) before"), (axes[1], "after", "(b) after")):
        for k, c in enumerate(class_ids):
            grp = curves[(curves["stage"] == stage) & (curves["class"] == c)].rename(
                columns={"N": "x"}
            )
            _band(ax, grp["x"], grp, "rws", _colour(c, k), _class_label(c, relevance))
        ax.axvline(n_class, color="k", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("N (number of top-ranked objects scored)")
        ax.set_title(f"{tag} active learning", loc="left")
    axes[0].set_ylabel("rank weighted score")
    axes[0].legend(loc="best", fontsize=8)
    return fig


def fig9_recall(
    curves: pd.DataFrame, class_ids: Sequence[int], relevance: Mapping[int, int]
) -> plt.Figure:
    """Fig. 9: cumulative number of anomalies per class against rank, before (dashed) and
    after (solid) one retrain."""
    apply_style()
    fig, ax = plt.subplots(figsize=(9, 4.2), constrained_layout=True)
    for k, c in enumerate(class_ids):
        for stage, ls in (("before", "--"), ("after", "-")):
            grp = curves[(curves["stage"] == stage) & (curves["class"] == c)].rename(
                columns={"N": "x"}
            )
            lab = f"{_class_label(c, relevance)}, {stage}"
            hatch, alpha = ("////", 0.6) if stage == "before" else (None, 0.25)
            colour = _colour(c, k)
            _band(ax, grp["x"] - 1, grp, "recall", colour, lab, ls, hatch=hatch, alpha=alpha)
    ax.set_xlabel("index in ranked list (0 = highest score)")
    ax.set_ylabel("cumulative number of anomalies found")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize=8,
        ncol=1,
        title="mean over seeds; band = min-max\n(hatched: before, filled: after)",
        title_fontsize=8,
    )
    return fig
