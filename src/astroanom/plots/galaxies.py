"""Figures of the galaxy experiment: Fig. 4 image grids, Fig. 5 recall and RWS, t-SNE map."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from astroanom.evaluate.metrics import rank_order
from astroanom.plots.style import apply_style, plt, save
from astroanom.sources.imageio import ImageReadError, load_image

PathLike = str | os.PathLike[str]
METHOD_STYLE = {
    "random": ("random order", "#7f7f7f", ":"),
    "iforest": ("isolation forest", "#1f77b4", "--"),
    "active": ("active learning (1 retrain)", "#d62728", "-"),
    "active_incremental": ("active learning (incremental)", "#2ca02c", "-."),
}


def _display(img: np.ndarray, max_side: int = 160) -> np.ndarray:
    """An image for a tile: shrunk (area average) to at most ``max_side`` pixels; uint8 as is,
    other types by a 0.5-99.5 % percentile stretch onto 0..1."""
    scale = max_side / max(img.shape[:2])
    if scale < 1:
        import cv2

        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
        img = cv2.resize(np.ascontiguousarray(img), size, interpolation=cv2.INTER_AREA)
    if img.dtype == np.uint8:
        return img if img.ndim == 2 or img.shape[2] == 3 else img[:, :, 0]
    img = np.nan_to_num(img.astype(np.float64))
    lo, hi = np.percentile(img, [0.5, 99.5])
    out = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)
    return out if out.ndim == 2 or out.shape[2] == 3 else out[:, :, 0]


def fig4_grids(
    objects: pd.DataFrame,
    active: pd.DataFrame,
    png: PathLike,
    pdf: PathLike | None = None,
    n: int = 12,
    seed: int = 0,
    ncols: int = 6,
) -> None:
    """Three panels of ``n`` image tiles: top by S^ after learning, top by isolation forest S,
    and random; each tile shows the id and odd fraction (anomalies, odd > 0.9, in red)."""
    apply_style()
    panels = [
        ("(a) top after active learning", rank_order(active["score"].to_numpy())[:n]),
        ("(b) top by isolation forest", rank_order(active["S"].to_numpy())[:n]),
        (
            "(c) random",
            np.random.default_rng(seed).choice(
                len(objects), size=min(n, len(objects)), replace=False
            ),
        ),
    ]
    nrows = -(-n // ncols)
    heights = ([0.28] + [1.0] * nrows) * 3  # a heading row above each panel's tile rows
    fig = plt.figure(figsize=(1.5 * ncols, 1.75 * (3 * nrows + 0.9)))
    grid = fig.add_gridspec(len(heights), ncols, height_ratios=heights, hspace=0.3, wspace=0.05)
    odd = (
        objects["odd_fraction"].to_numpy()
        if "odd_fraction" in objects
        else np.full(len(objects), np.nan)
    )
    for p, (title, idx) in enumerate(panels):
        top = p * (nrows + 1)
        head = fig.add_subplot(grid[top, :])
        head.axis("off")
        head.text(0.0, 0.0, title, fontsize=9, weight="bold", ha="left", va="bottom")
        for k in range(nrows * ncols):
            ax = fig.add_subplot(grid[top + 1 + k // ncols, k % ncols])
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(idx):
                ax.axis("off")
                continue
            i = int(idx[k])
            try:
                img = _display(load_image(objects["image_path"].iloc[i]))
                ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
            except ImageReadError:
                ax.text(0.5, 0.5, "unreadable", ha="center", va="center", transform=ax.transAxes)
            colour = "#d62728" if odd[i] > 0.9 else "black"
            ax.set_title(
                f"{objects['id'].iloc[i]}\nodd={odd[i]:.2f}", fontsize=6, color=colour, pad=2
            )
    save(fig, png, pdf)


def fig5_recall_rws(
    curves: pd.DataFrame, png: PathLike, pdf: PathLike | None = None, n_anomalies: int | None = None
) -> None:
    """(a) anomalies found against rank, (b) RWS(N) against N, for each ranking method."""
    apply_style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2))
    for method, grp in curves.groupby("method", sort=False):
        label, colour, ls = METHOD_STYLE.get(str(method), (str(method), None, "-"))
        a.plot(grp["N"], grp["recall"], ls=ls, color=colour, label=label)
        b.plot(grp["N"], grp["rws"], ls=ls, color=colour, label=label)
    a.set_xlabel("index in ranked list")
    a.set_ylabel("anomalies found (odd > 0.9)" + (f", of {n_anomalies}" if n_anomalies else ""))
    b.set_xlabel("N")
    b.set_ylabel("rank weighted score")
    b.set_xscale("log")
    a.legend(fontsize=7)
    a.set_title("(a) recall", fontsize=9)
    b.set_title("(b) RWS(N)", fontsize=9)
    fig.tight_layout()
    save(fig, png, pdf)


def tsne_map(embedding: pd.DataFrame, png: PathLike, pdf: PathLike | None = None) -> None:
    """t-SNE of a subset coloured by isolation-forest score S and by S^ after learning; the
    labelled objects are drawn as their label digits."""
    apply_style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
    for ax, col, title in (
        (axes[0], "S", "isolation forest S"),
        (axes[1], "score", "after active learning"),
    ):
        order = np.argsort(embedding[col].to_numpy())
        e = embedding.iloc[order]
        sc = ax.scatter(e["x"], e["y"], c=e[col], cmap="viridis", s=4, vmin=0, vmax=5, linewidths=0)
        lab = e[e["label"].notna()]
        for _, r in lab.iterrows():
            ax.text(
                r["x"],
                r["y"],
                str(int(r["label"])),
                fontsize=5,
                color="#d62728",
                ha="center",
                va="center",
            )
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(sc, ax=axes, shrink=0.8, label="score (0..5)")
    save(fig, png, pdf)
