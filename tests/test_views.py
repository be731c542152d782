"""Labeller views: light curves (per band, inverted magnitudes, folded), spectra and table
objects render to PNG; the axes say what the astronomer expects."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from astroanom.labeller.views import new_figure
from astroanom.labeller.views.light_curve import draw_light_curve, render_light_curve
from astroanom.labeller.views.spectrum import render_spectrum
from astroanom.labeller.views.table import PopulationView, render_table_object


def _decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def _curve() -> pd.DataFrame:
    t = np.linspace(0.0, 20.0, 60)
    rows = [
        pd.DataFrame({"band": b, "time": t, "value": 15 + off + 0.3 * np.sin(t), "err": 0.05})
        for b, off in (("g", 0.0), ("r", -0.4))
    ]
    return pd.concat(rows, ignore_index=True)


def test_light_curve_magnitudes_inverted_and_bands_in_legend():
    fig = new_figure(9, 4.8)
    ax = draw_light_curve(fig.add_subplot(), _curve(), "mag", None, "x")
    assert ax.yaxis_inverted()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["g (60)", "r (60)"]
    fig = new_figure(9, 4.8)
    ax = draw_light_curve(fig.add_subplot(), _curve(), "flux", None, "x")
    assert not ax.yaxis_inverted()
    assert ax.get_xlabel() == "time"
    fig = new_figure(9, 4.8)
    ax = draw_light_curve(fig.add_subplot(), _curve(), "mag", None, "x", time_label="MJD")
    assert ax.get_xlabel() == "MJD"
    # the legend sits right of the axes, off the data
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1


def test_light_curve_folded_on_period_shows_two_cycles():
    fig = new_figure(9, 4.8)
    ax = draw_light_curve(fig.add_subplot(), _curve(), "mag", 2 * np.pi, "x")
    assert ax.get_xlim() == (0.0, 2.0) and "phase" in ax.get_xlabel()
    img = _decode(render_light_curve(_curve(), period=2 * np.pi, title="folded"))
    assert img.shape == (480, 900, 3)


def test_spectrum_and_table_views_render():
    wl = np.linspace(4000, 7000, 300)
    img = _decode(render_spectrum(wl, 1 + np.exp(-0.5 * ((wl - 6563) / 5) ** 2), "s"))
    assert img.shape == (450, 900, 3)
    rng = np.random.default_rng(0)
    pop = pd.DataFrame({"a": rng.normal(size=500), "b": rng.exponential(size=500)})
    view = PopulationView(pop)
    # the object's value of a at the population's maximum has percentile 100
    np.testing.assert_allclose(view.percentiles(np.array([pop["a"].max(), -1e9])), [100.0, 0.0])
    png = render_table_object(pd.Series({"a": 0.1, "b": 2.0}), pop, imputed=["b"])
    assert _decode(png).shape[1] == 800


def test_table_view_reuses_its_population_figure_without_leftovers():
    """The violins are drawn once; a second object's PNG equals that of a fresh view, and a value
    beyond the drawn population (0.5-99.5 percentile) widens the axis to show it."""
    rng = np.random.default_rng(1)
    pop = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.exponential(size=3000)})
    view = PopulationView(pop)
    first = view.png(pd.Series({"a": 2.5, "b": 0.1}), "one", imputed=["b"])
    second = view.png(pd.Series({"a": -0.3, "b": 1.2}), "two")
    assert second == PopulationView(pop).png(pd.Series({"a": -0.3, "b": 1.2}), "two")
    assert first != second
    view.png(pd.Series({"a": 40.0, "b": 1.0}), "far out")
    ax_a = view._figure[1][0]
    assert ax_a.get_xlim()[1] > 40.0 and ax_a.get_xlim()[0] < -2.0
