"""A light curve as astronomers look at it: points with error bars per band against time, the
magnitude axis inverted (brighter up), and, when a period is known, folded on it (two cycles)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from astroanom.kinds.light_curve import read_curve
from astroanom.labeller.views import new_figure, to_png

BAND_COLOURS = {
    "u": "#6a3d9a", "g": "#2ca02c", "r": "#d62728", "i": "#8c564b", "z": "#7f7f7f",
    "y": "#000000", "B": "#1f77b4", "V": "#2ca02c", "R": "#d62728", "I": "#8c564b",
}  # fmt: skip
FALLBACK = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def band_colour(band: str, k: int) -> str:
    return BAND_COLOURS.get(band, FALLBACK[k % len(FALLBACK)])


def robust_ylim(ax: object, values: np.ndarray, err: np.ndarray) -> int:
    """Limit the y axis to the 0.5-99.5 percentile range of the values, padded by 10 % and the
    median error, so a few wild points do not flatten the curve; return how many fall outside."""
    v = values[np.isfinite(values)]
    if v.size < 10:
        return 0
    lo, hi = np.percentile(v, [0.5, 99.5])
    e = err[np.isfinite(err)]
    pad = 0.1 * (hi - lo) + (float(np.median(e)) if e.size else 0.0)
    if pad <= 0:
        pad = max(abs(hi), 1.0) * 0.01
    lo, hi = lo - pad, hi + pad
    ax.set_ylim(lo, hi)  # type: ignore[attr-defined]
    return int(((v < lo) | (v > hi)).sum())


def render_light_curve(
    curve: pd.DataFrame,
    value_kind: str = "mag",
    period: float | None = None,
    title: str = "",
    time_label: str = "time",
    width: float = 9.0,
    height: float = 4.8,
) -> bytes:
    """PNG of ``curve`` (columns band, time, value, err; err may be NaN), see :func:`draw_light_curve`."""
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.09, right=0.85, top=0.9, bottom=0.12)
    draw_light_curve(ax, curve, value_kind, period, title, time_label)
    return to_png(fig)


def draw_light_curve(
    ax: Any,
    curve: pd.DataFrame,
    value_kind: str = "mag",
    period: float | None = None,
    title: str = "",
    time_label: str = "time",
) -> Any:
    """Draw ``curve`` on ``ax``: points with error bars per band (legend, right of the axes:
    band and count).

    With a finite ``period`` > 0 the x axis is the phase (t - t_min) / period mod 1, drawn twice
    (0..2); else the time, labelled ``time_label`` (the source's time column, e.g. MJD).
    Magnitudes are drawn with the y axis inverted. Returns ``ax``.
    """
    folded = period is not None and np.isfinite(period) and period > 0
    t0 = float(curve["time"].min()) if len(curve) else 0.0
    for k, (band, g) in enumerate(curve.groupby("band", sort=True)):
        t = g["time"].to_numpy(dtype=np.float64)
        y = g["value"].to_numpy(dtype=np.float64)
        e = g["err"].to_numpy(dtype=np.float64)
        err = np.where(np.isfinite(e), e, 0.0) if np.isfinite(e).any() else None
        c = band_colour(str(band), k)
        label = f"{band} ({len(g)})"
        if folded:
            ph = np.mod((t - t0) / period, 1.0)
            x = np.concatenate([ph, ph + 1.0])
            y = np.concatenate([y, y])
            err = None if err is None else np.concatenate([err, err])
        else:
            x = t
        ax.errorbar(
            x, y, yerr=err, fmt="o", ms=2.5, lw=0.6, color=c, ecolor=c, alpha=0.75,
            elinewidth=0.6, capsize=0, label=label,
        )  # fmt: skip
    outside = robust_ylim(
        ax, curve["value"].to_numpy(np.float64), curve["err"].to_numpy(np.float64)
    )
    if outside:
        ax.text(
            0.01, 0.02, f"{outside} point(s) outside the shown range", transform=ax.transAxes,
            fontsize=8, color="#555555",
        )  # fmt: skip
    if value_kind == "mag":
        ax.invert_yaxis()
        ax.set_ylabel("magnitude (brighter up)")
    else:
        ax.set_ylabel("flux")
    ax.set_xlabel(f"phase (period {period:.6g})" if folded else time_label)
    if folded:
        ax.set_xlim(0.0, 2.0)
    ax.grid(alpha=0.3)
    if len(curve):
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            title="band (points)",
            title_fontsize=8,
            frameon=False,
        )
    ax.set_title(title, fontsize=10)
    return ax


def lomb_scargle_period(
    curve: pd.DataFrame, max_fap: float = 1e-3, max_frequency: float = 10.0
) -> float | None:
    """The best Lomb-Scargle period (time units of ``curve``) of the band with the most points
    (astropy.timeseries), or None when it is not significant (false-alarm probability above
    ``max_fap``, Baluev's bound) or the band has fewer than 20 points. Frequencies from two
    cycles over the baseline up to ``max_frequency`` per time unit (10 per day for MJD)."""
    if curve.empty:
        return None
    band = curve["band"].value_counts().idxmax()
    g = curve[curve["band"] == band]
    t = g["time"].to_numpy(np.float64)
    y = g["value"].to_numpy(np.float64)
    e = g["err"].to_numpy(np.float64)
    ok = np.isfinite(t) & np.isfinite(y)
    t, y, e = t[ok], y[ok], e[ok]
    baseline = float(np.ptp(t)) if t.size else 0.0
    if t.size < 20 or baseline <= 0:
        return None
    from astropy.timeseries import LombScargle

    dy = e if np.isfinite(e).all() and (e > 0).all() else None
    ls = LombScargle(t, y, dy)
    freq, power = ls.autopower(
        minimum_frequency=2.0 / baseline,
        maximum_frequency=max(max_frequency, 4.0 / baseline),
        samples_per_peak=5,
    )
    if not freq.size:
        return None
    k = int(np.argmax(power))
    fap = float(ls.false_alarm_probability(power[k], method="baluev"))
    return 1.0 / float(freq[k]) if fap <= max_fap else None


def light_curve_png(
    row: pd.Series, title: str | None = None, time_label: str = "time", fold: bool = True
) -> bytes:
    """Render one manifest row of a light-curve dataset (needs lc_path; uses value_kind and
    period when present). With ``fold`` the curve is folded on the row's period, or, when it
    has none, on a significant Lomb-Scargle period (:func:`lomb_scargle_period`)."""
    curve = read_curve(str(row["lc_path"]), str(row["id"]))
    period = row.get("period")
    period = float(period) if period is not None and pd.notna(period) else None
    if period is not None and not (np.isfinite(period) and period > 0):
        period = None
    source = "period column"
    if fold and period is None:
        period, source = lomb_scargle_period(curve), "Lomb-Scargle"
    bands = ", ".join(f"{c[6:]}: {int(row[c])}" for c in row.index if str(c).startswith("n_obs_"))
    if title is None:
        title = f"{row['id']}  [n_obs {bands}]" if bands else str(row["id"])
    if fold and period is not None:
        title = f"{title}  (folded, {source})"
    return render_light_curve(
        curve,
        str(row.get("value_kind", "mag")),
        period if fold else None,
        title,
        time_label=time_label,
    )
