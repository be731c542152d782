"""A table-only object: its feature values beside the population's distribution, one small
violin strip per feature with the object's value marked and its percentile written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
        self._figure: tuple[Any, list[Any], list[Any], list[Any], list[Any]] | None = None

    def percentiles(self, values: np.ndarray) -> np.ndarray:
        out = np.full(values.shape, np.nan)
        for j, col in enumerate(self.sorted):
            if col.size and np.isfinite(values[j]):
                out[j] = 100.0 * np.searchsorted(col, values[j], side="right") / col.size
        return out

    def png(self, values: pd.Series, title: str = "", imputed: Sequence[str] = ()) -> bytes:
        """PNG: per feature (row) the population as a horizontal violin (box: quartiles, dot:
        median), the object's value as a red line and "value (percentile)" at the right; values
        listed in ``imputed`` are drawn grey and marked "imputed". The population's part is
        drawn once; each object only moves its lines and texts (not thread-safe: the labeller
        renders under one lock)."""
        cols = self.columns
        vals = np.array([float(values[c]) for c in cols])
        pct = self.percentiles(vals)
        if self._figure is None:
            self._figure = self._draw_population()
        fig, axes, lines, texts, limits = self._figure
        for j, c in enumerate(cols):
            colour = "#888888" if c in imputed else "#d62728"
            lines[j].set_xdata([vals[j], vals[j]])
            lines[j].set_color(colour)
            lines[j].set_linestyle("--" if c in imputed else "-")
            txt = f"{vals[j]:.4g}  ({pct[j]:.1f}%)" if np.isfinite(pct[j]) else f"{vals[j]:.4g}"
            texts[j].set_text(txt + ("  imputed" if c in imputed else ""))
            texts[j].set_color(colour)
            lo, hi = limits[j]
            if np.isfinite(vals[j]) and np.isfinite(lo) and np.isfinite(hi):
                lo, hi = min(lo, vals[j]), max(hi, vals[j])
                pad = 0.03 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.03
                if c in self.log_columns and lo > 0:
                    axes[j].set_xlim(lo / 1.1, hi * 1.1)
                else:
                    axes[j].set_xlim(lo - pad, hi + pad)
        fig.suptitle(title or "object (red) vs population; percentile", fontsize=10)
        return to_png(fig, close=False)

    def _draw_population(self) -> tuple[Any, list[Any], list[Any], list[Any], list[Any]]:
        """The figure with every feature's violin, and per feature the object's line, its text
        and the x range of the drawn population."""
        cols = self.columns
        fig = new_figure(8.0, 0.55 * len(cols) + 1.0)
        axes = list(fig.subplots(len(cols), 1, squeeze=False)[:, 0])
        top = 1 - 0.45 / fig.get_figheight()
        fig.subplots_adjust(left=0.16, right=0.74, top=top, bottom=0.05, hspace=0.9)
        lines, texts, limits = [], [], []
        for j, (ax, c) in enumerate(zip(axes, cols, strict=True)):
            limits.append(self._strip(ax, j, c))
            lines.append(ax.axvline(np.nan, lw=2))
            texts.append(ax.text(1.02, 0.5, "", transform=ax.transAxes, va="center", fontsize=9))
        return fig, axes, lines, texts, limits

    def _strip(self, ax: Any, j: int, name: str) -> tuple[float, float]:
        """Draw feature ``j``'s population between its 0.5 and 99.5 percentiles; return them."""
        s = self.sample[:, j]
        s = s[np.isfinite(s)]
        if name in self.log_columns:
            s = s[s > 0]
            ax.set_xscale("log")
        lo = hi = np.nan
        if s.size > 1 and np.ptp(s) > 0:
            lo, hi = np.percentile(s, [0.5, 99.5])
            data = s[(s >= lo) & (s <= hi)]
            try:  # matplotlib >= 3.10
                parts = ax.violinplot(data, orientation="horizontal", showextrema=False, widths=0.9)
            except TypeError:  # older matplotlib
                parts = ax.violinplot(data, vert=False, showextrema=False, widths=0.9)
            for b in parts["bodies"]:
                b.set_facecolor("#9ecae1")
                b.set_alpha(0.9)
            q = np.percentile(s, [25, 50, 75])
            ax.plot(q[[0, 2]], [1, 1], color="#3182bd", lw=3)
            ax.plot([q[1]], [1], "o", color="white", ms=3)
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        for sp in ("top", "right", "left"):
            ax.spines[sp].set_visible(False)
        return float(lo), float(hi)


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
