"""Object kinds as one registry (astroanom.kinds): lookup, what sources declare, the default
extractor per kind, the light-curve bands and the spectrum grid found in the data, and each
kind drawn properly in the export (never a standardised vector labelled MJD / magnitude)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from matplotlib.figure import Figure

from astroanom import config as acfg
from astroanom import kinds, plugins
from astroanom.errors import AstroanomError, ConfigError
from astroanom.export import export_anomalies
from astroanom.features.light_curve import LightCurveExtractor, bands_in_data
from astroanom.features.spectrum import SpectrumExtractor, grid_from_data
from astroanom.kinds.base import RunObjects
from astroanom.pipeline.features import manifest_step
from astroanom.store.dataset import DatasetInfo
from astroanom.store.io import feature_frame

REPO = Path(__file__).resolve().parents[1]
SOURCE_KINDS = {
    "simulation": "curve",
    "synthetic_galaxies": "image",
    "images": "image",
    "galaxy_zoo": "image",
    "kaggle": "image",
    "fits_mosaic": "image",
    "table": "table",
    "light_curves": "light_curve",
    "spectra": "spectrum",
}
DEFAULTS = {
    "image": "ellipse",
    "curve": "values",
    "table": "columns",
    "light_curve": "light_curve",
    "spectrum": "spectrum",
}


# -- the registry ----------------------------------------------------------------------------


def test_every_kind_is_found_by_name_and_an_unknown_one_is_a_clear_error():
    assert set(kinds.names()) >= set(DEFAULTS)
    for name, extractor in DEFAULTS.items():
        kind = kinds.get(name)
        assert kind.name == name
        assert kind.default_features == {"kind": extractor}
        assert extractor in plugins.available("extractor")
    assert kinds.get("light_curve").plural == "light curves"
    assert DatasetInfo(name="x", kind="table").objects_word == "table rows"
    assert DatasetInfo(name="x", kind="nosuch").objects_word == "objects"
    with pytest.raises(kinds.UnknownKindError, match="unknown object kind 'hologram'; known: "):
        kinds.get("hologram")


@pytest.mark.parametrize("source, kind", sorted(SOURCE_KINDS.items()))
def test_each_builtin_source_declares_its_kind_read_without_importing_it(source, kind):
    """The declaration is the class attribute; the registry reads it from the module's text
    (what the Snakefile does at parse time) and gets what the imported class says."""
    target = plugins.BUILTIN["source"][source]
    assert kinds._declared_in_source_file(target) == kind
    assert plugins.resolve("source", source).object_kind == kind
    assert kinds.default_features(source) == {"kind": DEFAULTS[kind]}


def test_filling_defaults_imports_nothing_heavy():
    code = (
        "import sys; from astroanom import config as c; "
        "cfg = {'datasets': {k: {'source': {'kind': k, 'path': 'p'}} for k in "
        "('images', 'table', 'light_curves', 'spectra')}}; c.validate(cfg); "
        "print(sorted(cfg['datasets'][k]['features']['kind'] for k in cfg['datasets'])); "
        "print([m for m in ('cv2', 'matplotlib', 'sklearn', 'pandas', 'astropy') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == ["['columns', 'ellipse', 'light_curve', 'spectrum']", "[]"]


def test_minimal_datasets_get_their_kinds_default_features():
    """Failed before: features defaulted to {kind: ellipse} for every source."""
    cfg = {
        "datasets": {
            "t": {"source": {"kind": "table", "path": "cat.csv"}},
            "lc": {"source": {"kind": "light_curves", "path": "lc.csv"}},
            "sp": {"source": {"kind": "spectra", "path": "sp.csv"}},
            "im": {"source": {"kind": "images", "path": "cutouts"}},
            "own": {
                "source": {"kind": "images", "path": "cutouts"},
                "features": {"kind": "moments"},
            },
        }
    }
    acfg.validate(cfg)
    got = {k: v["features"]["kind"] for k, v in cfg["datasets"].items()}
    assert got == {
        "t": "columns",
        "lc": "light_curve",
        "sp": "spectrum",
        "im": "ellipse",
        "own": "moments",
    }
    assert cfg["datasets"]["t"]["features"]["shard_size"] == 1_000_000  # the schema's default
    assert cfg["datasets"]["sp"]["features"]["grid_min"] is None


def test_a_plugin_source_declares_its_kind_or_needs_features():
    cfg = {"datasets": {"toy": {"source": {"kind": "toy_kinds.NoKindToy"}}}}
    with pytest.raises(ConfigError, match=r"datasets.toy.features: source 'toy_kinds.NoKindToy' "):
        acfg.validate(cfg)
    cfg["datasets"]["toy"]["features"] = {"kind": "columns", "columns": ["v"]}
    acfg.validate(cfg)
    assert kinds.default_features("toy_kinds.SpectrumToy") == {"kind": "spectrum"}
    with pytest.raises(kinds.UnknownKindError, match="'hologram'"):
        kinds.default_features("toy_kinds.BadKindToy")


def test_dataset_kind_comes_from_the_declaration(tmp_path):
    out = {k: tmp_path / f"{k}" for k in ("man", "truth", "fails", "info")}
    manifest_step({"kind": "toy_kinds.NoKindToy"}, tmp_path, 0, *out.values())
    assert json.loads(out["info"].read_text())["kind"] == "table"  # the documented fallback
    with pytest.raises(AstroanomError, match=r"kind 'spectrum' but its manifest has no column"):
        manifest_step({"kind": "toy_kinds.SpectrumToy"}, tmp_path, 0, *out.values())


# -- what the data decides when the config does not -----------------------------------------


def test_bands_in_data_by_hand():
    # u is observed for 4 objects, fewer than half of g's 10: left out; r (5 = half) is used
    assert bands_in_data({"r": 5, "g": 10, "u": 4}) == (["g", "r"], ["u"])
    assert bands_in_data({}) == ([], [])


def long_light_curves(path: Path, n: int = 6, bands: tuple[str, ...] = ("g", "r")) -> Path:
    rng = np.random.default_rng(3)
    rows = [
        (f"star{i}", b, t, 15 + 0.1 * np.sin(t) + 0.01 * rng.normal(), 0.01)
        for i in range(n)
        for b in bands
        for t in np.sort(rng.uniform(50000, 50100, 12))
    ]
    pd.DataFrame(rows, columns=["id", "band", "mjd", "mag", "err"]).to_csv(path, index=False)
    return path


def test_band_column_without_bands_no_longer_fails_every_object(tmp_path, caplog):
    """Failed before: no ``bands:`` meant the single band "all", so every object of a table with
    a band column failed with "band all: 0 usable observation(s)"."""
    path = long_light_curves(tmp_path / "lc.csv")
    out = {k: tmp_path / "source" / k for k in ("man.parquet", "truth", "fails.csv", "info.json")}
    (tmp_path / "source").mkdir()
    manifest_step(
        {"kind": "light_curves", "path": str(path), "time_column": "mjd"},
        tmp_path,
        0,
        *out.values(),
    )
    info = json.loads(out["info.json"].read_text())
    assert info["kind"] == "light_curve" and info["band_objects"] == {"g": 6, "r": 6}
    caplog.set_level("INFO")
    ext = LightCurveExtractor(workdir=str(tmp_path))
    assert ext.bands == ["g", "r"] and ext.choices == {"bands": ["g", "r"], "bands_left_out": []}
    assert "features.bands not given: using band(s) g, r found in the data" in caplog.text
    X, reasons = ext.extract(pd.read_parquet(out["man.parquet"]))
    assert reasons == [None] * 6 and np.isfinite(X).all()
    assert ext.names()[0].startswith("g_") and len(ext.names()) == 2 * 25
    assert LightCurveExtractor().bands == ["all"]  # no record of the source: as before


def test_spectrum_grid_from_the_data_by_hand():
    cov = {"start": 4000.0, "start_id": "a", "stop": 4010.0, "stop_id": "b", "median_step": 2.5}
    assert grid_from_data(cov, None, None, None, None) == (4000.0, 4010.0, 2.5, None)
    assert grid_from_data(cov, 4002.0, None, None, 3) == (4002.0, 4010.0, None, 3)
    # a fine step over a wide range: capped at 1000 points
    wide = {**cov, "stop": 14000.0, "median_step": 1.0}
    assert grid_from_data(wide, None, None, None, None) == (4000.0, 14000.0, None, 1000)
    with pytest.raises(ConfigError, match="no wavelength range in common: object b starts"):
        grid_from_data({**cov, "start": 4020.0, "start_id": "b"}, None, None, None, None)
    with pytest.raises(ConfigError, match="give features.grid_min and grid_max"):
        SpectrumExtractor()


# -- each kind drawn in the export ------------------------------------------------------------


def run_dir(tmp_path: Path, kind: str, objects: pd.DataFrame, X: np.ndarray, **info) -> Path:
    d = tmp_path / kind
    d.mkdir(exist_ok=True)
    ids = objects["id"].to_numpy()
    objects.to_parquet(d / "objects.parquet")
    feature_frame(ids, X).to_parquet(d / "features_raw.parquet")
    z = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    feature_frame(ids, z).to_parquet(d / "features.parquet")
    S = np.linspace(5, 0, len(ids))
    pd.DataFrame({"id": ids, "raw": S, "S": S}).to_parquet(d / "scores.parquet")
    pd.DataFrame({"id": ids, "score": S, "label": np.nan}).to_parquet(d / "active.parquet")
    DatasetInfo(name=kind, kind=kind, **info).write(d)
    return d


@pytest.fixture
def runs(tmp_path) -> dict[str, Path]:
    """One tiny run directory of each kind (three objects each)."""
    ids = ["o1", "o2", "o3"]
    out = {}
    (tmp_path / "cut").mkdir()
    for i in ids:
        fits.PrimaryHDU(np.random.default_rng(1).normal(size=(12, 12))).writeto(
            tmp_path / "cut" / f"{i}.fits"
        )
    out["image"] = run_dir(
        tmp_path,
        "image",
        pd.DataFrame({"id": ids, "image_path": [str(tmp_path / "cut" / f"{i}.fits") for i in ids]}),
        np.ones((3, 2)),
    )
    lc = pd.DataFrame(
        {
            "id": np.repeat(ids, 4),
            "band": ["g", "g", "r", "r"] * 3,
            "time": np.tile([50000.0, 50001.0, 50000.5, 50002.0], 3),
            "value": np.tile([15.0, 15.5, 14.0, 14.2], 3),
            "err": 0.05,
        }
    )
    lc.to_parquet(tmp_path / "lc.parquet")
    out["light_curve"] = run_dir(
        tmp_path,
        "light_curve",
        pd.DataFrame({"id": ids, "lc_path": str(tmp_path / "lc.parquet"), "value_kind": "mag"}),
        np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]),
        x_label="MJD",
        y_label="magnitude",
    )
    sp = pd.DataFrame(
        {"id": np.repeat(ids, 3), "wavelength": np.tile([4000.0, 4001.0, 4002.0], 3), "flux": 1.0}
    )
    sp.to_parquet(tmp_path / "sp.parquet")
    out["spectrum"] = run_dir(
        tmp_path,
        "spectrum",
        pd.DataFrame({"id": ids, "spectrum_path": str(tmp_path / "sp.parquet")}),
        np.ones((3, 3)),
    )
    out["table"] = run_dir(
        tmp_path,
        "table",
        pd.DataFrame({"id": ids, "I": [10.0, 12.0, 14.0], "P": [1.0, 2.0, 6.0], "imputed": ""}),
        np.array([[10.0, 1.0], [12.0, 2.0], [14.0, 6.0]]),
        extra={"feature_names": ["I", "P"]},
    )
    out["curve"] = run_dir(
        tmp_path,
        "curve",
        pd.DataFrame({"id": ids}),
        np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [2.0, 2.0, 2.0]]),
        extra={"x": [0.0, 0.5, 1.0]},
    )
    return out


def draw(kind: str, d: Path, oid: str):
    ax = Figure().add_subplot()
    return kinds.get(kind).draw(ax, RunObjects.open(d), oid)


def test_a_light_curve_is_magnitude_against_the_sources_time_axis(runs):
    ax = draw("light_curve", runs["light_curve"], "o3")
    assert ax.get_xlabel() == "MJD" and ax.get_ylabel() == "magnitude (brighter up)"
    assert ax.yaxis_inverted()  # brighter up
    xs = sorted(np.concatenate([line.get_xdata() for line in ax.lines]))  # one per band
    assert xs == [50000.0, 50000.5, 50001.0, 50002.0]  # the observations' times, not 0..m-1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["g (2)", "r (2)"]


def test_a_table_row_is_its_feature_values_by_name(runs):
    ax = draw("table", runs["table"], "o3")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["I", "P"]
    assert "MJD" not in ax.get_xlabel() and "z-score" in ax.get_xlabel()
    assert sorted(t.get_text() for t in ax.texts) == ["14", "6"]  # the raw values, written
    z = [p.get_width() for p in ax.patches]  # I: (14 - 12) / 1.633, P: (6 - 3) / 2.160
    assert z == pytest.approx([2 / np.std([10, 12, 14]), 3 / np.std([1, 2, 6])])


def test_a_curve_and_a_spectrum_against_their_own_axes(runs):
    ax = draw("curve", runs["curve"], "o1")
    assert list(ax.lines[0].get_xdata()) == [0.0, 0.5, 1.0]
    assert list(ax.lines[0].get_ydata()) == [0.0, 1.0, 0.0]  # as extracted, not standardised
    ax = draw("spectrum", runs["spectrum"], "o2")
    assert ax.get_xlabel() == "wavelength" and list(ax.lines[0].get_xdata()) == [4000, 4001, 4002]


@pytest.mark.parametrize("kind", ["image", "light_curve", "spectrum", "table", "curve"])
def test_the_export_draws_every_kind(runs, tmp_path, kind):
    res = export_anomalies(runs[kind], [], tmp_path / f"out_{kind}", top_n=3)
    page = res.html.read_text()
    assert len(re.findall("data:image/(?:png|jpeg);base64,", page)) == 3
    assert "no image" not in page


def test_the_export_does_not_import_the_labeller(runs):
    code = (
        "import sys; from astroanom.export import export_anomalies; "
        f"export_anomalies({str(runs['light_curve'])!r}, [], {str(runs['light_curve'] / 'x')!r}); "
        f"export_anomalies({str(runs['image'])!r}, [], {str(runs['image'] / 'x')!r}); "
        "print([m for m in sys.modules if m.startswith('astroanom.labeller')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_image_display_moved_unchanged(tmp_path):
    """``astroanom.kinds.image_display`` is ``astroanom.kinds.image_display``'s code (the lead
    makes the latter re-export it): same bytes for the same choices."""
    from astroanom.kinds.image_display import render_file as new
    from astroanom.kinds.image_display import render_file as old

    path = tmp_path / "c.fits"
    fits.PrimaryHDU(np.random.default_rng(2).normal(size=(3, 10, 10))).writeto(path)
    for display in ({}, {"kind": "linear", "lo": 1.0}, {"mode": "band", "band": 2}):
        assert new(path, min_size=20, **display) == old(path, min_size=20, **display)
