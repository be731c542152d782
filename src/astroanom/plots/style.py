"""Shared figure style and output: consistent fonts and colours, PNG + PDF written atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from cycler import cycler  # noqa: E402

from astroanom.store.io import atomic_path  # noqa: E402

CLASS_COLOURS = {0: "#7f7f7f", 1: "#bcbd22", 2: "#1f77b4", 3: "#ff7f0e", 4: "#2ca02c"}
RELEVANCE_NAMES = {0: "boring", 3: "neutral", 5: "interesting"}


LABEL_MARKERS: dict[int, tuple[str, str]] = {  # label U -> (marker, colour)
    0: ("v", "#d62728"),
    1: ("v", "#d62728"),
    2: ("s", "#2bb5ff"),
    3: ("s", "#2bb5ff"),
    4: ("^", "#ff3fd2"),
    5: ("^", "#ff3fd2"),
}
LABEL_GROUPS = (("U = 0-1 (irrelevant)", 0), ("U = 2-3 (neutral)", 2), ("U = 4-5 (interesting)", 4))


def draw_label_markers(
    ax: plt.Axes,
    xy: np.ndarray,
    labels: np.ndarray,
    size: float = 22.0,
    filled: bool = False,
    linewidth: float = 0.8,
) -> int:
    """One marker per labelled object (xy (k, 2), labels (k,) in 0..5), shape and colour by
    relevance group. ``filled``: solid markers with a black edge (legible on any colour of a
    heat map); otherwise rings (hollow, coloured edge on a thin black halo) that leave the
    point underneath and its colour visible; ``linewidth`` (points) is the ring's coloured
    edge, its halo twice as wide. Groups without objects get no legend entry.
    Returns the count drawn."""
    labels = np.rint(np.asarray(labels, dtype=np.float64)).astype(int)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    drawn = 0
    for name, u in LABEL_GROUPS:
        sel = (labels == u) | (labels == u + 1)
        if not sel.any():
            continue
        marker, colour = LABEL_MARKERS[u]
        label = f"labelled, {name}"
        if filled:
            ax.scatter(
                *xy[sel].T,
                s=size,
                marker=marker,
                c=colour,
                edgecolors="black",
                linewidths=0.5,
                label=label,
                zorder=3,
            )
        else:
            ax.scatter(
                *xy[sel].T,
                s=size,
                marker=marker,
                facecolors="none",
                edgecolors="black",
                linewidths=2 * linewidth,
                zorder=3,
            )
            ax.scatter(
                *xy[sel].T,
                s=size,
                marker=marker,
                facecolors="none",
                edgecolors=colour,
                linewidths=linewidth,
                label=label,
                zorder=3,
            )
        drawn += int(sel.sum())
    return drawn


#: Print widths in inches: a journal's single column and full page (A&A, MNRAS: 3.5 / 7 in).
COLUMN_WIDTH = 3.5
PAGE_WIDTH = 7.0


def seeds_note(seeds: Sequence[object]) -> str:
    """How a figure drawn from several runs says what it shows: "mean of 3 seeds (1, 2, 3);
    band: min-max" (the band is the range, not a confidence interval), or "1 seed (1)"."""
    seeds = sorted({int(s) for s in seeds})  # type: ignore[call-overload]
    listed = ", ".join(map(str, seeds))
    if len(seeds) == 1:
        return f"1 seed ({listed}); no band"
    return f"line: mean of {len(seeds)} seeds ({listed}); band: min to max over the seeds"


#: seaborn 0.13's ``set_theme(context="paper", style="ticks")`` written out as the matplotlib
#: settings it makes (every key it sets), so that a figure job does not
#: import seaborn and, through it, scipy.stats (1-2 s of start-up per job; issue 22).
#: ``tests/test_plots.py`` checks it against seaborn itself. Left out: ``image.cmap``
#: ("rocket", a colormap only seaborn registers); every figure names its colormap where it
#: draws scalar data, and RGB images use none.
_DEEP = (
    (0.2980392156862745, 0.4470588235294118, 0.6901960784313725),
    (0.8666666666666667, 0.5176470588235295, 0.3215686274509804),
    (0.3333333333333333, 0.6588235294117647, 0.40784313725490196),
    (0.7686274509803922, 0.3058823529411765, 0.3215686274509804),
    (0.5058823529411764, 0.4470588235294118, 0.7019607843137254),
    (0.5764705882352941, 0.47058823529411764, 0.3764705882352941),
    (0.8549019607843137, 0.5450980392156862, 0.7647058823529411),
    (0.5490196078431373, 0.5490196078431373, 0.5490196078431373),
    (0.8, 0.7254901960784313, 0.4549019607843137),
    (0.39215686274509803, 0.7098039215686275, 0.803921568627451),
)
PAPER_TICKS_RC: dict[str, object] = {
    "axes.axisbelow": True,
    "axes.facecolor": "white",
    "axes.grid": False,
    "axes.spines.bottom": True,
    "axes.spines.left": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "figure.facecolor": "white",
    "font.family": ["sans-serif"],
    "grid.linestyle": "-",
    "grid.linewidth": 0.8,
    "xtick.bottom": True,
    "xtick.direction": "out",
    "xtick.top": False,
    "ytick.direction": "out",
    "ytick.left": True,
    "ytick.right": False,
    "axes.edgecolor": ".15",
    "axes.labelcolor": ".15",
    "axes.labelsize": 9.600000000000001,
    "axes.linewidth": 1.0,
    "axes.prop_cycle": cycler("color", list(_DEEP)),
    "axes.titlesize": 9.600000000000001,
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "font.size": 9.600000000000001,
    "grid.color": ".8",
    "legend.fontsize": 8.8,
    "legend.title_fontsize": 9.600000000000001,
    "lines.linewidth": 1.2000000000000002,
    "lines.markersize": 4.800000000000001,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "patch.linewidth": 0.8,
    "text.color": ".15",
    "xtick.color": ".15",
    "xtick.labelsize": 8.8,
    "xtick.major.size": 4.800000000000001,
    "xtick.major.width": 1.0,
    "xtick.minor.size": 3.2,
    "xtick.minor.width": 0.8,
    "ytick.color": ".15",
    "ytick.labelsize": 8.8,
    "ytick.major.size": 4.800000000000001,
    "ytick.major.width": 1.0,
    "ytick.minor.size": 3.2,
    "ytick.minor.width": 0.8,
}
#: The shorthand colours that theme remaps ("b" = the first colour of the palette, ...; "k"
#: is 10 % grey).
PAPER_COLOR_CODES: dict[str, tuple[float, float, float]] = {
    **dict(zip("bgrmyc", (_DEEP[i] for i in (0, 2, 3, 4, 8, 9)), strict=True)),
    "k": (0.1, 0.1, 0.1),
}


def apply_style() -> None:
    """Paper style at print size: figures drawn at :data:`PAGE_WIDTH` or :data:`COLUMN_WIDTH`
    inches with 8 pt labels and 7 pt ticks and legends (legible printed at 100 %)."""
    plt.rcParams.update(PAPER_TICKS_RC)
    matplotlib.colors.colorConverter.colors.update(PAPER_COLOR_CODES)
    plt.rcParams.update(
        {
            "font.size": 8,
            "axes.titlesize": 8,
            "axes.labelsize": 8,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "legend.fontsize": 7,
            "legend.title_fontsize": 7,
            "figure.titlesize": 9,
            "lines.linewidth": 1.2,
            "figure.dpi": 150,
            "savefig.dpi": 250,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "pdf.fonttype": 42,
            "svg.hashsalt": "astroanom",
        }
    )


#: Palette sizes :func:`compact_png` tries, fewest first.
PALETTE_SIZES = (16, 32, 64, 128)
#: A smaller palette is taken only if it reproduces the figure within these errors (0-255
#: levels, the largest channel error per pixel): root mean square, and at the 99.9th percentile
#: (anti-aliased edges move by a few levels; no colour, tint or gradient changes visibly).
PALETTE_MAX_RMS = 2.0
PALETTE_MAX_P999 = 32.0


def _palette(rgb: object, colours: int) -> object:
    from PIL import Image

    return rgb.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)  # type: ignore[attr-defined]


def palette_error(rgb: np.ndarray, quantised: np.ndarray) -> tuple[float, float]:
    """(RMS, 99.9th percentile) of the largest channel error per pixel between two (H, W, 3)
    uint8 images, in levels (0-255)."""
    err = np.abs(rgb.astype(np.int16) - quantised.astype(np.int16)).max(axis=2)
    return float(np.sqrt(np.mean(err.astype(np.float64) ** 2))), float(np.percentile(err, 99.9))


def compact_png(data: bytes, palette: bool = True, fewer: bool = True) -> bytes:
    """The PNG ``data`` smaller and without metadata (same input, same bytes): with
    ``palette`` as 256 colours (median cut, no dithering: plots, maps and curves look the same,
    anti-aliased edges move by a few levels; about 3x smaller), or with ``fewer`` the fewest
    of :data:`PALETTE_SIZES` that reproduce it within :data:`PALETTE_MAX_RMS` and
    :data:`PALETTE_MAX_P999` (a curve on white: 16 colours, 4 bits a pixel; not for colour
    bars, whose gradient would show steps); without ``palette``, full colour; maximally
    deflated either way. Not for photographs: a palette posterises a galaxy's smooth light."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        rgba = im.convert("RGBA")
    rgb = Image.new("RGB", rgba.size, (255, 255, 255))
    rgb.paste(rgba, mask=rgba.getchannel("A"))
    best = rgb
    if palette:
        full = np.asarray(rgb)
        for colours in (*(PALETTE_SIZES if fewer else ()), 256):
            best = _palette(rgb, colours)
            if colours == 256:
                break
            rms, p999 = palette_error(full, np.asarray(best.convert("RGB")))
            if rms <= PALETTE_MAX_RMS and p999 <= PALETTE_MAX_P999:
                break
    out = io.BytesIO()
    best.save(out, format="PNG", compress_level=9, optimize=True)
    small = out.getvalue()
    return small if len(small) < len(data) else data


#: Resolution of figures that show images (dots per inch; others: ``savefig.dpi``, 250). Their
#: tiles hold at most 160 px per 1.2 in (Figs. 4, top objects: 140 px per inch), so 200 dpi
#: keeps every pixel of them, and text stays sharp at print size, in 20 % fewer bytes.
PICTURE_DPI = 200


def has_pictures(fig: plt.Figure) -> bool:
    """Whether ``fig`` shows images (``imshow``: cutouts, stamps, smoothed maps), which keep
    full colour."""
    return any(ax.get_images() for ax in fig.axes)


def has_colour_maps(fig: plt.Figure) -> bool:
    """Whether ``fig`` draws values through a colour map (a scatter coloured by score, a colour
    bar): its gradients need 256 colours."""
    return any(
        getattr(artist, "get_array", lambda: None)() is not None
        for ax in fig.axes
        for artist in (*ax.collections, *ax.images)
    )


def save(
    fig: plt.Figure, png: str | os.PathLike[str], pdf: str | os.PathLike[str] | None = None
) -> None:
    """Save ``fig`` as PNG (:func:`compact_png`: a palette unless it shows images, the fewest
    colours that reproduce it unless it has colour maps; images at :data:`PICTURE_DPI`) and
    PDF atomically, with fixed metadata so reruns are byte-identical."""
    import io

    buf = io.BytesIO()
    pictures = has_pictures(fig)
    fig.savefig(
        buf, format="png", metadata={"Software": None}, dpi=PICTURE_DPI if pictures else None
    )
    data = compact_png(buf.getvalue(), palette=not pictures, fewer=not has_colour_maps(fig))
    with atomic_path(png) as tmp:
        tmp.write_bytes(data)
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
