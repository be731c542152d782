"""Shared figure style and output: consistent fonts and colours, PNG + PDF written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from astroanom.store.io import atomic_path  # noqa: E402

CLASS_COLOURS = {0: "#7f7f7f", 1: "#bcbd22", 2: "#1f77b4", 3: "#ff7f0e", 4: "#2ca02c"}
RELEVANCE_NAMES = {0: "boring", 3: "neutral", 5: "interesting"}


LABEL_MARKERS: dict[int, tuple[str, str]] = {  # label U -> (marker, edge colour)
    0: ("v", "#d62728"),
    1: ("v", "#d62728"),
    2: ("s", "black"),
    3: ("s", "black"),
    4: ("^", "#e377c2"),
    5: ("^", "#e377c2"),
}
LABEL_GROUPS = (("U = 0-1 (irrelevant)", 0), ("U = 2-3 (neutral)", 2), ("U = 4-5 (interesting)", 4))


def draw_label_markers(ax: plt.Axes, xy: np.ndarray, labels: np.ndarray, size: float = 22.0) -> int:
    """One hollow marker per labelled object (xy (k, 2), labels (k,) in 0..5): shape and colour
    by relevance group; thin edges so the data underneath stays visible. Returns the count."""
    labels = np.rint(np.asarray(labels, dtype=np.float64)).astype(int)
    drawn = 0
    for name, u in LABEL_GROUPS:
        sel = (labels == u) | (labels == u + 1)
        marker, colour = LABEL_MARKERS[u]
        ax.scatter(
            xy[sel, 0],
            xy[sel, 1],
            s=size,
            marker=marker,
            facecolors="none",
            edgecolors=colour,
            linewidths=0.8,
            label=f"labelled, {name}",
            zorder=3,
        )
        drawn += int(sel.sum())
    return drawn


def apply_style() -> None:
    """Paper-like style: white grid, serif-free 9 pt text, fixed DPI."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.1)
    plt.rcParams.update(
        {
            "figure.dpi": 150,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "pdf.fonttype": 42,
            "svg.hashsalt": "astroanom",
        }
    )


def save(
    fig: plt.Figure, png: str | os.PathLike[str], pdf: str | os.PathLike[str] | None = None
) -> None:
    """Save ``fig`` as PNG (and PDF) atomically, with fixed metadata so reruns are byte-identical."""
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    if pdf is not None:
        with atomic_path(pdf) as tmp:
            fig.savefig(
                tmp,
                format="pdf",
                metadata={"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
            )
    plt.close(fig)


def ensure_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    return p
