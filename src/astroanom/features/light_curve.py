"""``features.kind: light_curve``: per-band light-curve features from the ``light-curve`` package
(the SNAD group's Rust extractor), or the raw curve resampled onto ``resample`` points.

Reads the normalised long table that :class:`astroanom.sources.light_curves.LightCurvesSource`
writes (``lc_path`` column of the manifest), only the rows of the shard's objects. All curves of
a shard go through ``light_curve``'s batch API (``Extractor.many``, Arrow input) in one call,
on ``n_jobs`` threads. The default feature set is documented in docs/data_kinds.md.

Failures (a row of NaN plus the reason): a band with fewer than ``min_obs`` usable observations
(an all-NaN curve has none), a band absent for the object, or the extractor failing on a curve.
A feature that is mathematically undefined for a valid curve (e.g. the skew of a constant curve,
0/0) is set to ``undefined_value`` (0.0) and counted in :attr:`LightCurveExtractor.report`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from astroanom.errors import ConfigError
from astroanom.params import Param, Params, declared
from astroanom.progress import Progress, chunks

log = logging.getLogger("astroanom.features.light_curve")

#: The default per-band feature set: light_curve class name and constructor parameters.
DEFAULT_FEATURES: list[tuple[str, dict[str, Any]]] = [
    ("Amplitude", {}),
    ("BeyondNStd", {"nstd": 1.0}),
    ("Cusum", {}),
    ("Eta", {}),
    ("InterPercentileRange", {"quantile": 0.1}),
    ("Kurtosis", {}),
    ("LinearFit", {}),
    ("LinearTrend", {}),
    ("MaximumSlope", {}),
    ("Mean", {}),
    ("Median", {}),
    ("StandardDeviation", {}),
    ("Skew", {}),
    ("StetsonK", {}),
    ("AndersonDarlingNormal", {}),
    ("WeightedMean", {}),
    ("ReducedChi2", {}),
    ("Periodogram", {"peaks": 2}),
]
#: Curves per call of the Rust extractor at least: the work goes in about 20 calls (progress
#: lines between them), never in calls so small that the per-call cost shows.
CURVES_PER_CALL = 2000
MIN_OBS_FLOOR = 4  # Kurtosis and Anderson-Darling need 4 points; the periodogram needs > 1


def _spec(entry: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    params = dict(entry)
    if "name" not in params:
        raise ConfigError(f"a light-curve feature entry needs a 'name', got {dict(entry)}")
    return str(params.pop("name")), params


def build_extractor(features: Sequence[str | Mapping[str, Any]] | None) -> Any:
    """A ``light_curve.Extractor`` of the named features (default :data:`DEFAULT_FEATURES`).

    Each entry is a class name of the ``light_curve`` package (e.g. "StetsonK") or a mapping
    ``{name: Periodogram, peaks: 3}`` with its constructor parameters.
    """
    import light_curve as lcf

    specs = DEFAULT_FEATURES if features is None else [_spec(f) for f in features]
    objs = []
    for name, params in specs:
        cls = getattr(lcf, name, None)
        if cls is None or not isinstance(cls, type):
            raise ConfigError(
                f"light_curve has no feature {name!r}; see docs/data_kinds.md for the names"
            )
        try:
            objs.append(cls(**params))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"light_curve feature {name}: bad parameters {params}: {exc}"
            ) from exc
    return lcf.Extractor(*objs)


def read_curves(objects: pd.DataFrame) -> pd.DataFrame:
    """The normalised observations (id, band, time, value, err) of ``objects``, sorted."""
    paths = objects["lc_path"].unique()
    ids = objects["id"].astype(str).unique()
    parts = []
    for p in paths:
        tab = pq.read_table(p, columns=["id", "band", "time", "value", "err"])
        tab = tab.filter(pc.is_in(tab["id"], value_set=pa.array(ids)))
        parts.append(tab.to_pandas())
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def curve_slices(lc: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(id, band) -> (start, stop) row range in the long table ``lc`` sorted by id, band.

    Vectorised: integer codes of id and band (``pd.factorize``), a run starts where either
    changes; only one Python step per curve, none per observation.
    """
    if len(lc) == 0:
        return {}
    id_codes, id_names = pd.factorize(lc["id"], sort=False)
    band_codes, band_names = pd.factorize(lc["band"], sort=False)
    change = (np.diff(id_codes) != 0) | (np.diff(band_codes) != 0)
    starts = np.flatnonzero(np.r_[True, change])
    stops = np.r_[starts[1:], len(lc)]
    ids = np.asarray(id_names, dtype=object)[id_codes[starts]]
    bands = np.asarray(band_names, dtype=object)[band_codes[starts]]
    return {
        (str(i), str(b)): (int(s), int(e))
        for i, b, s, e in zip(ids, bands, starts, stops, strict=True)
    }


def resample_curve(t: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation of (t, v) onto ``n`` evenly spaced times over [t[0], t[-1]] (n,)."""
    return np.interp(np.linspace(t[0], t[-1], n), t, v)


def bands_in_data(band_objects: Mapping[str, int]) -> tuple[list[str], list[str]]:
    """(bands used, bands left out) from band -> number of objects observed in it: the bands
    observed for at least half as many objects as the most observed band, sorted by name (a
    band few objects have would make every other object a failure)."""
    if not band_objects:
        return [], []
    most = max(int(n) for n in band_objects.values())
    used = sorted(b for b, n in band_objects.items() if 2 * int(n) >= most)
    return used, sorted(set(band_objects) - set(used))


def source_bands(workdir: str | os.PathLike[str] | None) -> dict[str, int]:
    """band -> objects observed in it, as the light-curve source recorded it in
    ``<workdir>/source/info.json`` ({} if there is none)."""
    if workdir is None:
        return {}
    info = Path(workdir) / "source" / "info.json"
    if not info.is_file():
        return {}
    found = json.loads(info.read_text(encoding="utf-8")).get("band_objects") or {}
    return {str(b): int(n) for b, n in found.items()}


@declared
class LightCurveExtractor:
    """Per-band features of irregular, multi-band light curves.

    Parameters (the config's ``features:`` mapping minus ``kind``):
        bands: the bands to use, in order (default: the bands found in the data, see
            :func:`bands_in_data`: those the source recorded in ``<workdir>/source/info.json``;
            without that record a single band named "all", which is what the source writes when
            the data has no band column). Names are ``<band>_<feature>`` when more than one
            band is used, else ``<feature>``. :attr:`choices` records the bands used.
        features: light_curve feature entries (class names or {name, params}); default
            :data:`DEFAULT_FEATURES`.
        resample: if given, no light_curve features: each band's curve is linearly interpolated
            onto this many evenly spaced times and the values are the features (regular curves,
            as the paper's simulation does).
        min_obs: fewest usable observations per band (default 5, at least 4).
        undefined_value: value for a feature that is undefined for a valid curve (default 0.0).
        n_jobs: threads for the batch extraction.
    """

    reads = "light_curve"

    PARAMS = Params(
        bands=Param(
            list,
            None,
            "bands, in order (null: the bands most objects are observed in, found in the data)",
            nullable=True,
            items={"type": "string"},
        ),
        features=Param(
            list,
            None,
            "light-curve feature names or {name, params} (null: the default set, "
            "docs/data_kinds.md)",
            nullable=True,
        ),
        resample=Param(
            int,
            None,
            "regular curves: the values interpolated onto this many points as features",
            minimum=2,
            nullable=True,
        ),
        min_obs=Param(int, 5, "fewest usable observations of a band", minimum=2),
        undefined_value=Param(float, 0.0, "value of a feature undefined for a curve (counted)"),
    )
    SHARD_SIZE = 50000

    def __init__(
        self,
        bands: Sequence[str] | None,
        features: Sequence[str | Mapping[str, Any]] | None,
        resample: int | None,
        min_obs: int,
        undefined_value: float,
        n_jobs: int = 1,
        workdir: str | None = None,
    ) -> None:
        #: what was chosen from the data (recorded in dataset.json): the bands if not given
        self.choices: dict[str, Any] = {}
        if bands:
            self.bands = [str(b) for b in bands]
        else:
            found = source_bands(workdir)
            used, left_out = bands_in_data(found)
            self.bands = used or ["all"]
            if used:
                self.choices = {"bands": used, "bands_left_out": left_out}
                log.info(
                    "features.bands not given: using band(s) %s found in the data%s",
                    ", ".join(used),
                    "; left out (observed for fewer than half as many objects): "
                    + ", ".join(f"{b} ({found[b]} objects)" for b in left_out)
                    if left_out
                    else "",
                )
        if resample is not None and int(resample) < 2:
            raise ConfigError(f"features.resample must be >= 2 points, got {resample}")
        self.resample = None if resample is None else int(resample)
        floor = 2 if resample is not None else MIN_OBS_FLOOR
        self.min_obs = max(int(min_obs), floor)
        self.undefined_value = float(undefined_value)
        self.n_jobs = int(n_jobs)
        self._extractor = None if self.resample is not None else build_extractor(features)
        #: feature name -> number of valid curves whose value was undefined and filled.
        self.report: dict[str, int] = {}

    def per_band_names(self) -> list[str]:
        if self.resample is not None:
            width = max(3, len(str(self.resample - 1)))
            return [f"v{j:0{width}d}" for j in range(self.resample)]
        return list(self._extractor.names)  # type: ignore[union-attr]

    def names(self) -> list[str]:
        base = self.per_band_names()
        if len(self.bands) == 1:
            return base
        return [f"{b}_{n}" for b in self.bands for n in base]

    def extract(self, objects: pd.DataFrame) -> tuple[np.ndarray, list[str | None]]:
        """Features (n, len(names())) float64 and a failure reason per object (None if ok)."""
        n = len(objects)
        per = len(self.per_band_names())
        X = np.full((n, per * len(self.bands)), np.nan)
        reasons: list[str | None] = [None] * n
        if n == 0:
            return X, reasons
        lc = read_curves(objects)
        slices = curve_slices(lc)
        t = lc["time"].to_numpy(dtype=np.float64)
        v = lc["value"].to_numpy(dtype=np.float64)
        e = lc["err"].to_numpy(dtype=np.float64)
        e = np.where(np.isfinite(e) & (e > 0), e, 1.0)  # unknown errors: unit weights
        jobs: list[tuple[int, int, int, int]] = []  # (object row, band index, start, stop)
        ids = objects["id"].astype(str).to_numpy()
        for i, oid in enumerate(ids):
            for b, band in enumerate(self.bands):
                s, stop = slices.get((oid, band), (0, 0))
                if stop - s < self.min_obs:
                    why = f"band {band}: {stop - s} usable observation(s) < min_obs {self.min_obs}"
                    reasons[i] = f"{reasons[i]}; {why}" if reasons[i] else why
                else:
                    jobs.append((i, b, s, stop))
        jobs = [j for j in jobs if reasons[j[0]] is None]
        bar = Progress("light-curve features", len(jobs), "curves", logger=log)
        if self.resample is not None:
            for i, b, s, stop in jobs:
                X[i, b * per : (b + 1) * per] = resample_curve(t[s:stop], v[s:stop], self.resample)
                bar.advance()
        else:
            starts = np.array([j[2] for j in jobs], dtype=np.int64)
            stops = np.array([j[3] for j in jobs], dtype=np.int64)
            values = []
            for lo, hi in chunks(len(jobs), minimum=CURVES_PER_CALL):  # one call per chunk
                values += self._evaluate(t, v, e, starts[lo:hi], stops[lo:hi])
                bar.advance(hi - lo)
            failed = np.zeros(len(jobs), dtype=bool)
            for k, (i, b, _, _) in enumerate(jobs):
                if isinstance(values[k], str):
                    failed[k] = True
                    why = f"band {self.bands[b]}: light_curve failed: {values[k]}"
                    reasons[i] = f"{reasons[i]}; {why}" if reasons[i] else why
                else:
                    X[i, b * per : (b + 1) * per] = values[k]
            self._fill_undefined(X, reasons, per)
        bar.done()
        for i, r in enumerate(reasons):
            if r is not None:
                X[i] = np.nan
        return X, reasons

    def _evaluate(
        self, t: np.ndarray, v: np.ndarray, e: np.ndarray, starts: np.ndarray, stops: np.ndarray
    ) -> list[Any]:
        """Features of the curves ``[starts[k]:stops[k]]`` of the arrays t, v, e (one row each).

        All curves go to ``Extractor.many`` in one call as an Arrow List<Struct<t, m, sigma>>
        (zero-copy on the Rust side; about twice the throughput of a list of numpy tuples).
        If that fails (one bad curve fails the batch), the curves are evaluated one by one and
        each failing curve gets its error message instead of a feature row.
        """
        if starts.size == 0:
            return []
        ext = self._extractor
        lengths = stops - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        idx = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        values = pa.StructArray.from_arrays(
            [pa.array(t[idx]), pa.array(v[idx]), pa.array(e[idx])], names=["t", "m", "sigma"]
        )
        curves = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
        fields = {"t": "t", "m": "m", "sigma": "sigma"}
        try:
            out = ext.many(  # type: ignore[union-attr]
                curves, arrow_fields=fields, fill_value=np.nan, sorted=True, n_jobs=self.n_jobs
            )
            return list(np.asarray(out, dtype=np.float64))
        except BaseException as exc:  # pyo3 panics derive from BaseException
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
        res: list[Any] = []
        for s, stop in zip(starts, stops, strict=True):
            try:
                res.append(
                    np.asarray(
                        ext(t[s:stop], v[s:stop], e[s:stop], fill_value=np.nan, sorted=True),  # type: ignore[misc]
                        dtype=np.float64,
                    )
                )
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                res.append(str(exc).splitlines()[0] or type(exc).__name__)
        return res

    def _fill_undefined(self, X: np.ndarray, reasons: list[str | None], per: int) -> None:
        ok = np.array([r is None for r in reasons])
        names = self.names()
        sub = X[ok]
        bad = ~np.isfinite(sub)
        if bad.any():
            for j in np.flatnonzero(bad.any(axis=0)):
                self.report[names[j]] = self.report.get(names[j], 0) + int(bad[:, j].sum())
            sub[bad] = self.undefined_value
            X[ok] = sub
            log.info("undefined feature values set to %g: %s", self.undefined_value, self.report)
