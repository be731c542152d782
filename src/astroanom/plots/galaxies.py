"""Figures of the galaxy experiment: Fig. 4 image grids, Fig. 5 recall and RWS, t-SNE map."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pandas as pd

from astroanom.ordering import rank_order
from astroanom.plots.style import (
    PAGE_WIDTH,
    apply_style,
    draw_label_markers,
    plt,
    save,
)
from astroanom.sources.imageio import ImageReadError, load_image

PathLike = str | os.PathLike[str]
METHOD_STYLE = {
    "random": ("random order", "#222222", ":"),
    "detector": ("{detector}", "#1f77b4", "--"),
    "active": ("active learning, 1 retrain: full ranking (paper)", "#d62728", "-"),
    "active_incremental": ("active learning, incremental: full ranking", "#2ca02c", "-."),
    "active_viewed": ("active learning, 1 retrain: as viewed (labelled first)", "#9467bd", "-"),
    "active_incremental_viewed": (
        "active learning, incremental: as viewed",
        "#8c564b",
        (0, (3, 1, 1, 1)),
    ),
}
# line width and marker per method, so curves that coincide (e.g. the detector and the
# viewed order up to the label budget) stay distinguishable: wide below, thin with marks above
METHOD_LINE = {
    "random": (1.3, None),
    "detector": (2.4, None),
    "active": (1.6, None),
    "active_incremental": (1.2, "o"),
    "active_viewed": (1.2, "x"),
    "active_incremental_viewed": (1.0, "+"),
}


def object_box(img: np.ndarray, frac: float = 0.9, pad: float = 1.5, min_px: int = 32) -> slice:
    """Half-open pixel range (a slice for both axes of the centred square) that holds the
    object at the centre of ``img`` (H, W[, C]): the radius around the centre enclosing
    ``frac`` of the flux above the background (median + 3 MAD-sigma), times ``pad``, at least
    ``min_px`` / 2; the whole image if that reaches its edge. A 424-px stamp of a small galaxy
    shrinks to ~60 px; a satellite trail or star spikes keep the full stamp."""
    a = np.asarray(img, dtype=np.float64)
    grey = a.mean(axis=2) if a.ndim == 3 else a
    h, w = grey.shape
    med = float(np.median(grey))
    sigma = 1.4826 * float(np.median(np.abs(grey - med)))
    signal = np.clip(grey - med - 3.0 * max(sigma, 1e-12), 0.0, None)
    total = float(signal.sum())
    half_max = min(h, w) // 2
    if total <= 0 or half_max <= min_px // 2:
        return slice(0, min(h, w))
    yy, xx = np.indices(grey.shape)
    r = np.hypot(yy - (h - 1) / 2, xx - (w - 1) / 2).ravel()
    order = np.argsort(r, kind="stable")
    cum = np.cumsum(signal.ravel()[order]) / total
    r_frac = float(r[order][min(np.searchsorted(cum, frac), r.size - 1)])
    half = int(np.ceil(max(pad * r_frac, min_px / 2)))
    if half >= half_max:
        return slice(0, min(h, w))
    c = min(h, w) // 2
    return slice(c - half, c + half)


def crop_to_object(img: np.ndarray) -> np.ndarray:
    """``img`` cropped to the centred square of :func:`object_box` (non-square images: the
    centred square of the shorter side first)."""
    h, w = img.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    sq = img[y0 : y0 + side, x0 : x0 + side]
    box = object_box(sq)
    return sq[box, box]


#: Display level (0-1) up to which a tile's sky may be darkened to black (:func:`sky_floor`):
#: 12/255, 0.4 % of white's luminance in sRGB, a level nobody tells from black at print size.
SKY_FLOOR_MAX = 12 / 255
#: The sky's noise: from its median + 1 to + 2 MAD-sigmas a tile's light fades to black
#: (:func:`sky_level`, :func:`sky_floor`).
SKY_KNEE_SIGMA = (1.0, 2.0)


def sky_level(
    img: np.ndarray, n_sigma: tuple[float, float] = SKY_KNEE_SIGMA
) -> tuple[float, float]:
    """The grey levels (channel mean) median + ``n_sigma[0]`` and + ``n_sigma[1]`` x 1.4826
    MAD of ``img`` (H, W[, C], any dtype), in its own units: where the sky's noise fades out
    in :func:`sky_floor`."""
    a = np.asarray(img, dtype=np.float64)
    grey = a.mean(axis=2) if a.ndim == 3 else a
    med = float(np.median(grey))
    sigma = 1.4826 * float(np.median(np.abs(grey - med)))
    return med + n_sigma[0] * sigma, med + n_sigma[1] * sigma


def sky_floor(img: np.ndarray, sky: float, top: float, white: float) -> np.ndarray:
    """``img`` (H, W[, C]; uint8 or float) with its sky noise darkened to black, if the top
    of that noise, ``top`` / ``white`` (white = 255 for uint8, 1 for 0-1 floats), is at most
    :data:`SKY_FLOOR_MAX`; else ``img`` as it is. Every channel of a pixel of grey level g is
    scaled by clip((g - sky) / (top - sky), 0, 1): black up to ``sky``, as it is from ``top``
    up (a knee, no step where the sky ends). Near-black sky noise is invisible in print yet
    most of a tile's PNG bytes (the galaxies' top objects: 0.9 -> 0.2 MB)."""
    if not (np.isfinite(sky) and np.isfinite(top)) or top / white > SKY_FLOOR_MAX or top <= sky:
        return img
    a = img.astype(np.float64)
    grey = a.mean(axis=2) if a.ndim == 3 else a
    gain = np.clip((grey - sky) / (top - sky), 0.0, 1.0)
    out = a * (gain[..., None] if a.ndim == 3 else gain)
    return np.rint(out).astype(np.uint8) if img.dtype == np.uint8 else out.astype(img.dtype)


def _display(img: np.ndarray, max_side: int = 160, crop: bool = False) -> np.ndarray:
    """An image for a tile: (``crop``: cut to the object, :func:`crop_to_object`) shrunk (area
    average) to at most ``max_side`` pixels; uint8 as is, other types by a 0.5-99.5 %
    percentile stretch onto 0..1; sky noise darker than 12/255 darkened to black
    (:func:`sky_floor`, the sky measured on the whole image)."""
    sky, top = sky_level(img)
    if crop:
        img = crop_to_object(img)
    scale = max_side / max(img.shape[:2])
    if scale < 1:
        import cv2

        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
        img = cv2.resize(np.ascontiguousarray(img), size, interpolation=cv2.INTER_AREA)
    if img.dtype == np.uint8:
        img = sky_floor(img, sky, top, 255.0)
        return img if img.ndim == 2 or img.shape[2] == 3 else img[:, :, 0]
    img = np.nan_to_num(img.astype(np.float64))
    lo, hi = np.percentile(img, [0.5, 99.5])
    out = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1)
    span = max(hi - lo, 1e-12)
    out = sky_floor(out, (sky - lo) / span, (top - lo) / span, 1.0)
    return out if out.ndim == 2 or out.shape[2] == 3 else out[:, :, 0]


#: Words for truth columns in figure text (other columns are shown by their name).
TRUTH_WORDS = {"odd_fraction": "odd-vote fraction"}
TRUTH_SHORT = {"odd_fraction": "odd"}


def _tile_title(
    objects: pd.DataFrame, i: int, truth: np.ndarray, truth_column: str, labelled: bool
) -> str:
    kind = f" {objects['kind'].iloc[i]}" if "kind" in objects else ""
    seen = " [L]" if labelled else ""
    short = TRUTH_SHORT.get(truth_column, truth_column)
    return f"{objects['id'].iloc[i]}\n{kind.strip()} {short} {truth[i]:.2f}{seen}".replace(
        "\n ", "\n"
    )


def fig4_figure(
    objects: pd.DataFrame,
    active: pd.DataFrame,
    n: int = 12,
    seed: int = 0,
    ncols: int = 6,
    truth_column: str = "odd_fraction",
    threshold: float = 0.9,
    detector: str = "detector",
) -> plt.Figure:
    """Fig. 4 as a figure, each tile cut to its object (:func:`crop_to_object`): (a) the top
    ``n`` unlabelled by S^ (what learning recommends that nobody has seen; when ``active`` has
    labels), (b) top ``n`` by the ``detector``'s S, (c) ``n`` random, (d) top ``n`` by S^
    labelled included (the paper's panel, which after learning holds mostly labelled objects,
    marked [L]). Tiles name the object, its kind (where known) and ``truth_column``'s value
    (bold blue above ``threshold``: a ground-truth anomaly); where ``objects`` has an
    ``artefact`` column, artefacts get a red border (as in the paper's Fig. 4b)."""
    apply_style()
    score = active["score"].to_numpy()
    labelled = (
        active["label"].notna().to_numpy()
        if "label" in active
        else np.zeros(len(objects), dtype=bool)
    )
    rand = np.random.default_rng(seed).choice(
        len(objects), size=min(n, len(objects)), replace=False
    )
    if labelled.any():
        unl = np.flatnonzero(~labelled)
        panels = [
            ("(a) top unlabelled after active learning", unl[rank_order(score[unl])[:n]]),
            (f"(b) top by {detector} (before learning)", rank_order(active["S"].to_numpy())[:n]),
            ("(c) random", rand),
            ("(d) top after active learning, labelled included", rank_order(score)[:n]),
        ]
    else:
        panels = [
            ("(a) top after active learning", rank_order(score)[:n]),
            (f"(b) top by {detector}", rank_order(active["S"].to_numpy())[:n]),
            ("(c) random", rand),
        ]
    nrows = -(-n // ncols)
    tile = PAGE_WIDTH / ncols
    heights = ([0.12] + [1.0] * nrows) * len(panels)  # a heading row above each panel
    fig = plt.figure(figsize=(PAGE_WIDTH, tile * 1.25 * sum(heights) + 0.25))
    grid = fig.add_gridspec(
        len(heights),
        ncols,
        height_ratios=heights,
        hspace=0.3,
        wspace=0.04,
        top=0.995,
        bottom=0.45 / (tile * 1.25 * sum(heights) + 0.25),
        left=0.0,
        right=1.0,
    )
    truth = (
        objects[truth_column].to_numpy(dtype=np.float64)
        if truth_column in objects
        else np.full(len(objects), np.nan)
    )
    artefact = (
        objects["artefact"].to_numpy(dtype=bool)
        if "artefact" in objects
        else np.zeros(len(objects), dtype=bool)
    )
    for p, (title, idx) in enumerate(panels):
        idx = np.asarray(idx, dtype=int)
        top = p * (nrows + 1)
        head = fig.add_subplot(grid[top, :])
        head.axis("off")
        facts = [f"{int(labelled[idx].sum())} of {idx.size} labelled [L]"]
        facts.append(f"{int((truth[idx] > threshold).sum())} with {truth_column} > {threshold:g}")
        if "artefact" in objects:
            facts.append(f"{int(artefact[idx].sum())} artefact(s)")
        head.text(
            0.0,
            0.0,
            f"{title}: {'; '.join(facts)}",
            fontsize=8,
            weight="bold",
            ha="left",
            va="bottom",
        )
        for k in range(nrows * ncols):
            ax = fig.add_subplot(grid[top + 1 + k // ncols, k % ncols])
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(idx):
                ax.axis("off")
                continue
            i = int(idx[k])
            try:
                img = _display(load_image(objects["image_path"].iloc[i]), crop=True)
                ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
            except ImageReadError:
                ax.text(0.5, 0.5, "unreadable", ha="center", va="center", transform=ax.transAxes)
            hit = truth[i] > threshold
            ax.set_title(
                _tile_title(objects, i, truth, truth_column, bool(labelled[i])),
                fontsize=5.5,
                color="#1f4e9c" if hit else "black",
                weight="bold" if hit else "normal",
                pad=1.5,
            )
            if artefact[i]:
                for sp in ax.spines.values():
                    sp.set_visible(True)
                    sp.set_edgecolor("#d62728")
                    sp.set_linewidth(2.5)
    words = TRUTH_WORDS.get(truth_column, truth_column)
    fig.text(
        0.0,
        0.0,
        textwrap.fill(
            f"Each tile cut to its object (the radius holding 90 % of its flux, x 1.5). Bold "
            f"blue: {words} ({truth_column}) > {threshold:g}, a ground-truth anomaly"
            + ("; red border: artefact" if "artefact" in objects else "")
            + "; [L]: labelled by the oracle (already seen). Sky noise darker than 12/255 fades"
            " to black.",
            150,
        ),
        fontsize=6.5,
        ha="left",
        va="bottom",
    )
    return fig


def fig4_grids(
    objects: pd.DataFrame,
    active: pd.DataFrame,
    png: PathLike,
    pdf: PathLike | None = None,
    n: int = 12,
    seed: int = 0,
    ncols: int = 6,
    truth_column: str = "odd_fraction",
    threshold: float = 0.9,
    detector: str = "detector",
) -> None:
    """Write :func:`fig4_figure` (PNG, and PDF if given)."""
    fig = fig4_figure(objects, active, n, seed, ncols, truth_column, threshold, detector)
    save(fig, png, pdf)


#: Drawing order of Fig. 5's curves: wide ones first, random order last (on top).
METHOD_Z = {
    "detector": 2.0,
    "active": 2.2,
    "active_incremental": 2.4,
    "active_viewed": 2.6,
    "active_incremental_viewed": 2.8,
    "random": 3.0,
}


def fig5_figure(
    curves: pd.DataFrame,
    n_anomalies: int | None = None,
    n_labels: int | None = None,
    detector: str = "detector",
    wanted: str = "anomalies",
    note: str = "",
) -> plt.Figure:
    """(a) anomalies found against rank, (b) RWS(N) against N, for each ranking in ``curves``
    (method, N, recall, rws). ``<method>_viewed`` rows are the viewer's order (labelled objects
    first, in the order shown); the others the full ranking (the paper's way). A vertical line
    (in the legend, off the curves) marks the label budget ``n_labels``; the curve of method
    ``detector`` is the detector's S; ``wanted`` names what is counted in words (e.g.
    "anomalies (odd-vote fraction > 0.9)"); ``note`` (e.g. the seed) titles the legend. Curves
    that coincide stay apart by width, dash and marker; random order is drawn on top."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    apply_style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.1), layout="constrained")
    for method, grp in curves.groupby("method", sort=False):
        key = "detector" if method == detector else str(method)
        label, colour, ls = METHOD_STYLE.get(key, (str(method), None, "-"))
        label = label.format(detector=detector)
        lw, marker = METHOD_LINE.get(key, (1.4, None))
        kw = {
            "ls": ls,
            "color": colour,
            "label": label,
            "lw": lw,
            "marker": marker,
            "ms": 3.5,
            "zorder": METHOD_Z.get(key, 2.5),
        }
        a.plot(grp["N"], grp["recall"], markevery=0.08, **kw)
        b.plot(grp["N"], grp["rws"], markevery=0.08, **kw)
    handles, labels = a.get_legend_handles_labels()
    if n_labels:
        for ax in (a, b):
            ax.axvline(n_labels, color="0.3", lw=0.8, ls=(0, (1, 2)), zorder=1)
        handles.append(Line2D([], [], color="0.3", lw=0.8, ls=(0, (1, 2))))
        labels.append(f"label budget ({n_labels} labels)")
    a.yaxis.set_major_locator(MaxNLocator(integer=True))
    a.set_xscale("log")  # curves that reach every wanted object in the first tens stay apart
    a.set_xlabel("position in the ranked list, N (objects)")
    a.set_ylabel(f"{wanted} found" + (f" (of {n_anomalies})" if n_anomalies else ""))
    b.set_xlabel("N (top-ranked objects scored)")
    b.set_ylabel("rank weighted score (0-1)")
    b.set_xscale("log")
    a.set_title("(a) wanted objects found", loc="left")
    b.set_title("(b) RWS(N)", loc="left")
    fig.legend(handles, labels, loc="outside lower center", ncol=3, title=note or None)
    return fig


def fig5_recall_rws(
    curves: pd.DataFrame,
    png: PathLike,
    pdf: PathLike | None = None,
    n_anomalies: int | None = None,
    n_labels: int | None = None,
    detector: str = "detector",
    wanted: str = "anomalies",
    note: str = "",
) -> None:
    """Write :func:`fig5_figure` (PNG, and PDF if given)."""
    save(fig5_figure(curves, n_anomalies, n_labels, detector, wanted, note), png, pdf)


def no_labels_note(dataset: str | None = None) -> str:
    """What panel (b) of the map says before anyone has labelled: how to get S^."""
    name = dataset or "<dataset>"
    return (
        "(b) after: $\\hat{S}$\n\nno labels yet ($\\hat{S}$ = S)\n"
        f"label objects with\nastroanom label {name}\nand rerun the workflow"
    )


def tsne_figure(
    embedding: pd.DataFrame,
    n_top: int | None = None,
    detector: str = "detector",
    n_labels: int | None = None,
    dataset: str | None = None,
) -> plt.Figure:
    """The 2-D map of a subset (columns x, y, S, score, label) coloured by the detector's
    score S and by S^ after learning on ``n_labels`` labels (default: those on the map). The
    labelled objects on the map are rings (hollow, their point's colour shows inside; smaller
    and thinner beyond 40 of them) drawn below the points, so no ring hides a point; the ``n_top`` highest-scoring points of each
    panel (default 2 %) are drawn last, above everything. The legend lists only the label
    groups present. With no labels at all (S^ = S), panel (b) is no map but a note saying so
    and how to label ``dataset`` (:func:`no_labels_note`)."""
    apply_style()
    fig, axes = plt.subplots(
        1, 2, figsize=(PAGE_WIDTH, 3.5), sharex=True, sharey=True, layout="constrained"
    )
    on_map = int(embedding["label"].notna().sum())
    n_lab = on_map if n_labels is None else int(n_labels)
    top = n_top if n_top is not None else max(1, len(embedding) // 50)
    labs = f"{n_lab} label{'' if n_lab == 1 else 's'}"
    labs += f", {on_map} on the map" if on_map != n_lab else ""
    # many labelled objects crowd into the few clusters the loop explored: smaller, thinner
    # rings there, so the clusters' own colours stay visible between them
    rings = {"size": 26, "linewidth": 0.8} if on_map <= 40 else {"size": 12, "linewidth": 0.45}
    panels = [(axes[0], "S", f"(a) before: {detector} score S")]
    if n_lab > 0:
        panels.append((axes[1], "score", f"(b) after: $\\hat{{S}}$ (one retrain, {labs})"))
    else:
        axes[1].axis("off")
        axes[1].text(
            0.5,
            0.5,
            no_labels_note(dataset),
            ha="center",
            va="center",
            fontsize=9,
            linespacing=1.5,
            transform=axes[1].transAxes,
            bbox={"boxstyle": "round,pad=0.8", "facecolor": "#f2f2f2", "edgecolor": "0.6"},
        )
    for ax, col, title in panels:
        order = np.argsort(embedding[col].to_numpy(), kind="stable")
        e = embedding.iloc[order]
        kw = {"cmap": "viridis", "vmin": 0, "vmax": 5, "linewidths": 0}
        lab = e[e["label"].notna()]
        draw_label_markers(ax, lab[["x", "y"]].to_numpy(), lab["label"].to_numpy(), **rings)
        for c in ax.collections:
            c.set_zorder(1.5)  # rings below the points
        sc = ax.scatter(e["x"], e["y"], c=e[col], s=4, zorder=2, rasterized=True, **kw)
        hi = e.iloc[-top:]
        ax.scatter(hi["x"], hi["y"], c=hi[col], s=7, zorder=4, **kw)
        ax.set_title(title)
        ax.set_xlabel("t-SNE 1 (arbitrary units)")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_ylabel("t-SNE 2 (arbitrary units)")
    fig.colorbar(
        sc,
        ax=axes,
        shrink=0.85,
        pad=0.01,
        label="anomaly score (0-5): S in (a), $\\hat{S}$ in (b)"
        if n_lab > 0
        else "anomaly score S (0-5)",
    )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=3,
        markerscale=float(np.sqrt(26 / rings["size"])),  # the legend's rings at full size
        title=f"{len(embedding):,} objects mapped; the top {top} by "
        + ("each panel's score" if n_lab > 0 else "S")
        + " drawn on top",
    )
    return fig


def tsne_map(
    embedding: pd.DataFrame,
    png: PathLike,
    pdf: PathLike | None = None,
    detector: str = "detector",
    n_labels: int | None = None,
    dataset: str | None = None,
) -> None:
    """Write :func:`tsne_figure` (PNG, and PDF if given)."""
    fig = tsne_figure(embedding, detector=detector, n_labels=n_labels, dataset=dataset)
    save(fig, png, pdf)
