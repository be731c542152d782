"""Objects that are rows of a feature table (the table source), and the fallback for objects of
a plug-in source that declares no kind: the object is its feature values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from astroanom.kinds.base import ObjectKind, RunObjects, View

if TYPE_CHECKING:
    import pandas as pd

#: Features drawn in a thumbnail at most (the first ones, in the features' order).
THUMBNAIL_MAX_FEATURES = 24


def population(run: RunObjects) -> pd.DataFrame:
    """Every object's values as a person reads them, indexed by id: the source's own columns
    when ``objects.parquet`` holds them (a table source, after its missing-value policy: the
    feature columns, or ``dataset.json``'s ``extra.source_columns`` when the features come from
    elsewhere, e.g. ``embeddings``), else the features as extracted."""
    feats, names = run.features(raw=True)
    own = [n for n in names if n in run.objects.columns]
    if own:
        return run.objects[own]
    source = run.extra.get("source_columns")
    if isinstance(source, list) and source and all(c in run.objects.columns for c in source):
        return run.objects[[str(c) for c in source]]
    return feats


class TableKind(ObjectKind):
    name = "table"
    plural = "table rows"
    columns = ()
    default_features = {"kind": "columns"}

    def load(self, run: RunObjects, oid: str) -> pd.Series:
        """The object's feature values (name -> value)."""
        return population(run).loc[str(oid)]

    def labeller_view(self, run: RunObjects) -> View:
        """:class:`astroanom.labeller.views.table.PopulationView` of the run's objects (built
        once): one violin strip per feature, the object's value marked, imputed values grey."""
        from astroanom.labeller.views.table import PopulationView, imputed_columns

        view = PopulationView(population(run))

        def render(oid: str, display: Mapping[str, Any]) -> bytes:
            row = run.row(oid)
            return view.png(self.load(run, oid), str(oid), imputed_columns(row))

        return render

    def thumbnail_height(self, run: RunObjects) -> float:
        n = min(len(population(run).columns), THUMBNAIL_MAX_FEATURES)
        return max(1.4, 0.6 + 0.17 * n)

    def draw(self, ax: Any, run: RunObjects, oid: str) -> Any:
        """The object's feature values by name (the first :data:`THUMBNAIL_MAX_FEATURES`): a
        bar per feature of its z-score against all objects of the run (clipped at ±5), the
        value written beside it; imputed values grey and marked."""
        import numpy as np

        pop = population(run)
        names = list(pop.columns)[:THUMBNAIL_MAX_FEATURES]
        values = pop.loc[str(oid), names].to_numpy(np.float64)
        all_values = pop[names].to_numpy(np.float64)
        mu = np.nanmean(all_values, axis=0)
        sd = np.nanstd(all_values, axis=0)
        z = np.where(sd > 0, (values - mu) / np.where(sd > 0, sd, 1.0), 0.0)
        imputed = set(str(run.row(oid).get("imputed", "") or "").split(","))
        colours = ["#999999" if n in imputed else "#1f4e8c" for n in names]
        pos = np.arange(len(names))[::-1]
        ax.barh(pos, np.clip(z, -5, 5), color=colours, height=0.7)
        ax.axvline(0.0, color="#555555", lw=0.6)
        for p, v, n in zip(pos, values, names, strict=True):
            mark = " (imputed)" if n in imputed else ""
            ax.text(5.2, p, f"{v:.4g}{mark}", fontsize=6, va="center")
        ax.set_yticks(pos, names, fontsize=6)
        ax.set_xlim(-5, 8.5)
        ax.set_xlabel("z-score against all objects (value written)", fontsize=7)
        return ax


KIND = TableKind()
