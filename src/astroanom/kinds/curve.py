"""Objects that are regularly sampled curves whose values are the features (the paper's
simulation): one feature vector (m,) per object, drawn against ``dataset.json``'s ``extra.x``."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from astroanom.kinds.base import ObjectKind, RunObjects, TopObjects, View

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure


def x_values(info: Mapping[str, Any], n: int) -> np.ndarray:
    """The curves' x-values (n,): ``extra.x`` of ``dataset.json`` when it has n of them, else
    0..n-1."""
    import numpy as np

    extra = info.get("extra")
    x = extra.get("x") if isinstance(extra, dict) else None
    if isinstance(x, list) and len(x) == n:
        return np.asarray(x, dtype=np.float64)
    return np.arange(n, dtype=np.float64)


class CurveKind(ObjectKind):
    name = "curve"
    plural = "curves"
    columns = ()
    default_features = {"kind": "values"}
    values_in_page = True  # the labeller draws the values in the page (no image round trip)

    def load(self, run: RunObjects, oid: str) -> tuple[np.ndarray, np.ndarray]:
        """(x (m,), y (m,)): the curve's values as extracted against its x-values."""
        feats, _ = run.features(raw=True)
        y = feats.loc[str(oid)].to_numpy(dtype="float64")
        return x_values(run.info, y.size), y

    def labeller_view(self, run: RunObjects) -> View:
        """The curve (as the detector saw it) on one reused 9 x 5 inch figure: only the line's
        data, the limits and the title change between objects."""
        state: dict[str, Any] = {}

        def view(oid: str, display: Mapping[str, Any]) -> bytes:
            feats, _ = run.features()
            y = feats.loc[str(oid)].to_numpy(dtype="float64")
            if not state:
                from matplotlib.backends.backend_agg import FigureCanvasAgg
                from matplotlib.figure import Figure

                fig = Figure(figsize=(9, 5), dpi=100)
                FigureCanvasAgg(fig)
                ax = fig.add_subplot()
                fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.11)
                (line,) = ax.plot(x_values(run.info, y.size), y, color="#1f4e8c", lw=1.6)
                ax.set_xlabel(run.info.get("x_label", "x"))
                ax.set_ylabel(run.info.get("y_label", "y"))
                ax.grid(alpha=0.3)
                state.update(fig=fig, ax=ax, line=line)
            fig, ax, line = state["fig"], state["ax"], state["line"]
            line.set_ydata(y)
            ax.relim()
            ax.autoscale_view()
            ax.set_title(f"object {oid}")
            buf = io.BytesIO()
            fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
            return buf.getvalue()

        return view

    def draw(self, ax: Any, run: RunObjects, oid: str) -> Any:
        """The curve as extracted against its x-values, axes named as ``dataset.json`` says."""
        x, y = self.load(run, oid)
        ax.plot(x, y, color="#1f4e8c", lw=1.3)
        ax.set_xlabel(run.info.get("x_label", "x"), fontsize=8)
        ax.set_ylabel(run.info.get("y_label", "y"), fontsize=8)
        return ax

    def top_figure(self, top: TopObjects) -> Figure:
        from astroanom.plots import overview

        X = top.X()
        return overview.top_curves(
            x_values(top.info, X.shape[1]),
            X[top.rows],
            top.ids,
            top.scores,
            top.title,
            top.info.get("x_label", "x"),
            top.info.get("y_label", "y"),
        )


KIND = CurveKind()
