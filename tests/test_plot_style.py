"""The figure style without seaborn: the settings astroanom.plots.style applies are those of
seaborn's paper/ticks theme (so figures stay byte-identical), and a figure job imports neither
seaborn nor scipy.stats (their import was 1.6-2 s of every figure job's start-up)."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

from astroanom.plots import style
from astroanom.plots.style import plt


def _snapshot() -> tuple[dict, dict]:
    rc = {k: str(v) for k, v in plt.rcParams.items() if k != "image.cmap"}
    codes = {c: matplotlib.colors.colorConverter.colors[c] for c in "bgrmyck"}
    return rc, codes


def test_style_equals_seaborn_paper_ticks_theme():
    sns = pytest.importorskip("seaborn")
    saved = plt.rcParams.copy()
    saved_codes = {c: matplotlib.colors.colorConverter.colors[c] for c in "bgrmyck"}
    try:
        matplotlib.rcdefaults()
        sns.set_theme(context="paper", style="ticks")
        sns.set_theme(context="paper", style="ticks")  # applied twice: no drift either way
        want = _snapshot()
        matplotlib.rcdefaults()
        sns.set_color_codes("reset")
        plt.rcParams.update(style.PAPER_TICKS_RC)
        matplotlib.colors.colorConverter.colors.update(style.PAPER_COLOR_CODES)
        got = _snapshot()
    finally:
        plt.rcParams.update(saved)
        matplotlib.colors.colorConverter.colors.update(saved_codes)
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert got[1]["k"] == (0.1, 0.1, 0.1)  # the theme's 10 % grey "k"


def test_figure_job_imports_neither_seaborn_nor_scipy_stats():
    code = (
        "import sys\n"
        "from astroanom.pipeline import figures\n"
        "from astroanom.plots import overview, simulation, galaxies\n"
        "overview.apply_style()\n"
        "bad = [m for m in ('seaborn', 'scipy.stats') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    src = Path(style.__file__).resolve().parents[2]  # the directory holding astroanom/
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(src)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""
