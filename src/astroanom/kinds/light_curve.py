"""Objects that are light curves: irregular observations (band, time, value, err) in the
Parquet the light-curve source writes (``lc_path``), magnitudes or fluxes (``value_kind``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from astroanom.kinds.base import ObjectKind, RunObjects, View

if TYPE_CHECKING:
    import pandas as pd


def read_curve(lc_path: str, oid: str) -> pd.DataFrame:
    """The observations (band, time, value, err) of one object from the normalised Parquet."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tab = pq.read_table(lc_path, filters=[("id", "=", str(oid))])
    if tab.num_rows == 0:  # older pyarrow may not push the filter down; do it here
        tab = pq.read_table(lc_path)
        tab = tab.filter(pc.equal(tab["id"], pa.scalar(str(oid))))
    return tab.to_pandas()[["band", "time", "value", "err"]]


def time_label(info: Mapping[str, Any]) -> str:
    """The time axis' name: the source's time column (``dataset.json`` ``x_label``)."""
    label = info.get("x_label")
    return str(label) if label and label != "x" else "time"


class LightCurveKind(ObjectKind):
    name = "light_curve"
    plural = "light curves"
    columns = ("lc_path",)
    default_features = {"kind": "light_curve"}
    fold_option = True

    def parse_display(self, query: Mapping[str, str]) -> dict[str, Any]:
        """``fold=on|off`` (default on: folded on the period when one is known)."""
        fold = query.get("fold", "on")
        if fold not in ("on", "off"):
            raise ValueError(f"fold must be on or off, not {str(fold)[:20]!r}")
        return {} if fold == "on" else {"fold": False}

    def load(self, run: RunObjects, oid: str) -> pd.DataFrame:
        """The object's observations: band, time, value, err (NaN where unknown)."""
        return read_curve(str(run.file(oid, "lc_path")), oid)

    def labeller_view(self, run: RunObjects) -> View:
        """:func:`astroanom.labeller.views.light_curve.light_curve_png` of the manifest row."""
        from astroanom.labeller.views.light_curve import light_curve_png

        label = time_label(run.info)
        return lambda oid, display: light_curve_png(
            run.row(oid).astype(object), time_label=label, fold=display.get("fold", True)
        )

    def draw(self, ax: Any, run: RunObjects, oid: str) -> Any:
        """Points with error bars per band against the source's time axis (``dataset.json``
        ``x_label``, e.g. MJD); magnitudes with the axis inverted (brighter up)."""
        import numpy as np

        curve = self.load(run, oid)
        mag = str(run.row(oid).get("value_kind", "mag")) == "mag"
        for band, g in curve.groupby("band", sort=True):
            e = g["err"].to_numpy(np.float64)
            ax.errorbar(
                g["time"].to_numpy(np.float64),
                g["value"].to_numpy(np.float64),
                yerr=np.where(np.isfinite(e), e, 0.0) if np.isfinite(e).any() else None,
                fmt="o",
                ms=2,
                lw=0.5,
                elinewidth=0.5,
                capsize=0,
                alpha=0.8,
                label=f"{band} ({len(g)})",
            )
        if mag:
            ax.invert_yaxis()
        ax.set_xlabel(time_label(run.info), fontsize=8)
        ax.set_ylabel("magnitude (brighter up)" if mag else "flux", fontsize=8)
        if len(curve):
            ax.legend(fontsize=6, frameon=False)
        return ax


KIND = LightCurveKind()
