"""A table-only object: its feature values beside the population's distribution, one small
violin strip per feature with the object's value marked and its percentile written."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from astroanom.labeller.views import new_figure, to_png

MAX_POPULATION = 5000  # violins are drawn from at most this many objects (seeded subsample)


def population_sample(
    population: pd.DataFrame, n: int = MAX_POPULATION, seed: int = 0
) -> pd.DataFrame:
    """A seeded subsample of at most ``n`` rows (for drawing; percentiles use all rows)."""
    if len(population) <= n:
        return population
    idx = np.sort(np.random.default_rng(seed).choice(len(population), n, replace=False))
    return population.iloc[idx]


def percentiles(values: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Percentile (0..100) of each value within its population column: the share of finite
    population values <= it. ``values`` (m,), ``population`` (n, m)."""
    out = np.full(values.shape, np.nan)
    for j in range(values.size):
        col = population[:, j]
        col = np.sort(col[np.isfinite(col)])
        if col.size and np.isfinite(values[j]):
            out[j] = 100.0 * np.searchsorted(col, values[j], side="right") / col.size
    return out


class PopulationView:
    """Renders objects against one population; the sorted columns (for percentiles) and the
    drawing subsample are prepared once, so each object costs only its drawing."""

    def __init__(
        self,
        population: pd.DataFrame,
        columns: Sequence[str] | None = None,
        seed: int = 0,
        log_columns: Sequence[str] = (),
    ) -> None:
        self.columns = list(columns) if columns is not None else list(population.columns)
        pop = population[self.columns].to_numpy(dtype=np.float64)
        self.sorted = [np.sort(c[np.isfinite(c)]) for c in pop.T]
        self.sample = population_sample(population[self.columns], seed=seed).to_numpy(np.float64)
        self.log_columns = set(log_columns)

    def percentiles(self, values: np.ndarray) -> np.ndarray:
        out = np.full(values.shape, np.nan)
        for j, col in enumerate(self.sorted):
            if col.size and np.isfinite(values[j]):
                out[j] = 100.0 * np.searchsorted(col, values[j], side="right") / col.size
        return out

    def png(self, values: pd.Series, title: str = "", imputed: Sequence[str] = ()) -> bytes:
        """PNG: per feature (row) the population as a horizontal violin (box: quartiles, dot:
        median), the object's value as a red line and "value (percentile)" at the right; values
        listed in ``imputed`` are drawn grey and marked "imputed"."""
        cols = self.columns
        vals = np.array([float(values[c]) for c in cols])
        pct = self.percentiles(vals)
        fig = new_figure(8.0, 0.55 * len(cols) + 1.0)
        axes = fig.subplots(len(cols), 1, squeeze=False)[:, 0]
        top = 1 - 0.45 / fig.get_figheight()
        fig.subplots_adjust(left=0.16, right=0.74, top=top, bottom=0.05, hspace=0.9)
        for j, (ax, c) in enumerate(zip(axes, cols, strict=True)):
            self._strip(ax, j, c, vals[j])
            colour = "#888888" if c in imputed else "#d62728"
            ax.axvline(vals[j], color=colour, lw=2, ls="--" if c in imputed else "-")
            txt = f"{vals[j]:.4g}  ({pct[j]:.1f}%)" if np.isfinite(pct[j]) else f"{vals[j]:.4g}"
            if c in imputed:
                txt += "  imputed"
            ax.text(1.02, 0.5, txt, transform=ax.transAxes, va="center", fontsize=9, color=colour)
        fig.suptitle(title or "object (red) vs population; percentile", fontsize=10)
        return to_png(fig)

    def _strip(self, ax: object, j: int, name: str, value: float) -> None:
        s = self.sample[:, j]
        s = s[np.isfinite(s)]
        if name in self.log_columns:
            s = s[s > 0]
            ax.set_xscale("log")  # type: ignore[attr-defined]
        if s.size > 1 and np.ptp(s) > 0:
            lo, hi = np.percentile(s, [0.5, 99.5])
            lo, hi = min(lo, value), max(hi, value)
            data = s[(s >= lo) & (s <= hi)]
            try:  # matplotlib >= 3.10
                parts = ax.violinplot(  # type: ignore[attr-defined]
                    data, orientation="horizontal", showextrema=False, widths=0.9
                )
            except TypeError:  # older matplotlib
                parts = ax.violinplot(data, vert=False, showextrema=False, widths=0.9)  # type: ignore[attr-defined]
            for b in parts["bodies"]:
                b.set_facecolor("#9ecae1")
                b.set_alpha(0.9)
            q = np.percentile(s, [25, 50, 75])
            ax.plot(q[[0, 2]], [1, 1], color="#3182bd", lw=3)  # type: ignore[attr-defined]
            ax.plot([q[1]], [1], "o", color="white", ms=3)  # type: ignore[attr-defined]
        ax.set_yticks([])  # type: ignore[attr-defined]
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)  # type: ignore[attr-defined]
        ax.tick_params(axis="x", labelsize=7)  # type: ignore[attr-defined]
        for sp in ("top", "right", "left"):
            ax.spines[sp].set_visible(False)  # type: ignore[attr-defined]


def render_table_object(
    values: pd.Series,
    population: pd.DataFrame,
    columns: Sequence[str] | None = None,
    title: str = "",
    seed: int = 0,
    imputed: Sequence[str] = (),
) -> bytes:
    """One-off :meth:`PopulationView.png` (build a :class:`PopulationView` to render many)."""
    return PopulationView(population, columns, seed).png(values, title, imputed)


def imputed_columns(row: pd.Series) -> list[str]:
    """The imputed feature columns of a table-source manifest row (its ``imputed`` column)."""
    text = row.get("imputed", "")
    return [c for c in str(text).split(",") if c] if isinstance(text, str) else []
