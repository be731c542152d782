"""Renderers of objects for the labeller and the export: one module per data kind, each
returning PNG bytes.

Pure matplotlib (object-oriented API on the Agg canvas, no pyplot state), importable without
Flask. Not thread-safe across calls (matplotlib's font caches): callers serialise rendering.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float, dpi: int = 100) -> Figure:
    """A figure on its own Agg canvas (never registered with pyplot, so nothing leaks)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, close: bool = True) -> bytes:
    """Encode ``fig`` as PNG bytes (fast zlib level) at the figure's own size and dpi, whatever
    the global matplotlib settings (the workflow's figure style changes them), and release its
    artists unless ``close`` is False (a figure drawn again for the next object)."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"savefig.bbox": "standard", "savefig.dpi": "figure"}):
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    if close:
        fig.clear()
    return buf.getvalue()
