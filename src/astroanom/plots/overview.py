"""Figures every dataset gets, labelled or not: the top-N objects and the score distributions
(the map is :func:`astroanom.plots.galaxies.tsne_figure`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from astroanom.plots.style import PAGE_WIDTH, apply_style, plt

PathLike = str | os.PathLike[str]


def top_images(
    paths: Sequence[str], ids: Sequence[str], scores: Sequence[float], title: str, ncols: int = 6
) -> plt.Figure:
    """Tiles of the given images in rank order, each titled with its rank, id and score, on a
    page-wide figure (:data:`PAGE_WIDTH`; sky noise faded to black, :func:`galaxies.sky_floor`)."""
    from astroanom.plots.galaxies import _display
    from astroanom.sources.imageio import ImageReadError, load_image

    apply_style()
    n = len(paths)
    nrows = max(1, -(-n // ncols))
    tile = PAGE_WIDTH / ncols  # inches
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(PAGE_WIDTH, 1.16 * tile * nrows + 0.4), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        try:
            img = _display(load_image(paths[k]))
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
        except ImageReadError:
            ax.text(0.5, 0.5, "unreadable", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"#{k + 1} {ids[k]}\nŜ={scores[k]:.2f}", fontsize=6, pad=2)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def top_curves(
    x: np.ndarray,
    curves: np.ndarray,
    ids: Sequence[str],
    scores: Sequence[float],
    title: str,
    x_label: str = "x",
    y_label: str = "y",
    ncols: int = 4,
) -> plt.Figure:
    """Small multiples of the given curves (n, m) against ``x`` (m,) in rank order, on a
    page-wide figure (:data:`PAGE_WIDTH`)."""
    apply_style()
    n = curves.shape[0]
    nrows = max(1, -(-n // ncols))
    panel = PAGE_WIDTH / ncols  # inches
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(PAGE_WIDTH, 0.7 * panel * nrows + 0.4), squeeze=False, sharex=True
    )
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        ax.plot(x, curves[k], lw=0.9, color="#1f4e8c")
        ax.set_title(f"#{k + 1} {ids[k]}  Ŝ={scores[k]:.2f}", fontsize=6, pad=2)
        ax.tick_params(labelsize=6)
    for ax in axes[-1]:
        ax.set_xlabel(x_label, fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel(y_label, fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


#: Photometric bands whose column (a magnitude) is named by the band alone.
BANDS = frozenset("UBVRIJHKugrizy")


def feature_label(name: str) -> str:
    """A readable axis name with units for the feature columns catalogues commonly have:
    ``I`` -> "I [mag]", ``V_I`` -> "V−I [mag]", ``logP_1`` -> "log P₁ [d]", ``P_2`` ->
    "P₂ [d]", ``A_1`` -> "A₁ [mag]"; other names as they are."""
    import re

    sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
    if name in BANDS:
        return f"{name} [mag]"
    m = re.fullmatch(r"([A-Za-z])_([A-Za-z])", name)
    if m and m[1] in BANDS and m[2] in BANDS:
        return f"{m[1]}−{m[2]} [mag]"
    m = re.fullmatch(r"(log)?P_?(\d*)", name)
    if m:
        return f"{'log ' if m[1] else ''}P{m[2].translate(sub)} [d]"
    m = re.fullmatch(r"A_?(\d+)", name)
    if m:
        return f"A{m[1].translate(sub)} [mag]"
    return name


def top_features(
    X: np.ndarray, rows: np.ndarray, ids: Sequence[str], names: Sequence[str], title: str
) -> plt.Figure:
    """Heat map of the top objects' features as z-scores against the whole dataset, columns
    named with units where known (:func:`feature_label`); a column-width figure."""
    from astroanom.plots.style import COLUMN_WIDTH, PAGE_WIDTH

    apply_style()
    mu, sd = X.mean(axis=0), X.std(axis=0)
    z = (X[rows] - mu) / np.where(sd > 0, sd, 1.0)
    width = COLUMN_WIDTH if X.shape[1] <= 10 else PAGE_WIDTH
    fig, ax = plt.subplots(figsize=(width, 1.3 + 0.14 * rows.size), layout="constrained")
    im = ax.imshow(np.clip(z, -5, 5), cmap="RdBu_r", vmin=-5, vmax=5, aspect="auto")
    ax.set_yticks(range(rows.size), [f"#{k + 1} {i}" for k, i in enumerate(ids)], fontsize=5.5)
    labels = [feature_label(str(n)) for n in names]
    ax.set_xticks(range(X.shape[1]), labels, rotation=45, ha="right", fontsize=6.5)
    fig.colorbar(im, ax=ax, label="z-score against all objects (clipped at ±5)", shrink=0.8)
    ax.set_title(title, fontsize=8)
    return fig


def score_histograms(active: pd.DataFrame, detector: str) -> plt.Figure:
    """Distributions of S (the detector's score) and S^ (after learning), log-scaled counts."""
    apply_style()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    bins = np.linspace(0, 5, 51)
    ax.hist(
        active["S"], bins=bins, histtype="step", lw=1.4, color="#1f77b4", label=f"S ({detector})"
    )
    n_lab = int(active["label"].notna().sum())
    ax.hist(
        active["score"],
        bins=bins,
        histtype="step",
        lw=1.4,
        ls="--",
        color="#d62728",
        label=f"Ŝ after {n_lab} labels" if n_lab else "Ŝ (no labels yet: = S)",
    )
    ax.set_yscale("log")
    ax.set_xlabel("anomaly score (0 = ordinary, 5 = most anomalous)")
    ax.set_ylabel("objects")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.tight_layout()
    return fig
