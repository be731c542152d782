"""Detector plug-ins: short names, dotted paths, entry points, pyod, and the error paths."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from astroanom import plugins
from astroanom.detect.detectors import (
    EstimatorDetector,
    anomaly_scores,
    detector_from_config,
    make_detector,
)
from astroanom.errors import AstroanomError

sys.path.insert(0, str(Path(__file__).parent))  # the toy detector module


@pytest.fixture(scope="module")
def blob() -> tuple[np.ndarray, np.ndarray]:
    """400 inliers from N(0, 1) in 5-D plus 8 planted outliers at distance ~8; mask (408,)."""
    rng = np.random.default_rng(0)
    inl = rng.normal(size=(400, 5))
    out = rng.normal(size=(8, 5))
    out = 8.0 * out / np.linalg.norm(out, axis=1, keepdims=True)
    X = np.vstack([inl, out])
    return X, np.r_[np.zeros(400, bool), np.ones(8, bool)]


def _top_hits(S: np.ndarray, mask: np.ndarray) -> int:
    return int(mask[np.argsort(-S, kind="stable")[: mask.sum()]].sum())


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "iforest", "n_estimators": 50},
        {"name": "lof", "n_neighbors": 10},
        {"name": "sklearn.covariance.EllipticEnvelope", "params": {"contamination": 0.02}},
        {"name": "sklearn.svm.OneClassSVM", "params": {"nu": 0.05, "gamma": 0.05}},
        {"name": "sklearn.neighbors.LocalOutlierFactor", "n_neighbors": 10},  # training scores
        {"name": "toy_detector.DistanceFromMedian", "lower_is_weirder": False},
    ],
    ids=lambda e: e["name"].rsplit(".", 1)[-1],
)
def test_detectors_rank_planted_outliers_first(blob, entry):
    X, mask = blob
    det = detector_from_config(entry, seed=1)
    raw, S = anomaly_scores(det, X)
    assert S.shape == (X.shape[0],) and S.min() == 0.0 and S.max() == 5.0
    assert _top_hits(S, mask) >= 7  # at least 7 of the 8 planted outliers in the top 8


def test_direction_flag_is_obeyed(blob):
    """Declaring the wrong direction turns the ranking upside down: no silent guessing."""
    X, mask = blob
    _, right = anomaly_scores(
        make_detector("toy_detector.DistanceFromMedian", lower_is_weirder=False), X
    )
    _, wrong = anomaly_scores(
        make_detector("toy_detector.DistanceFromMedian", lower_is_weirder=True), X
    )
    assert _top_hits(right, mask) == 8 and _top_hits(wrong, mask) == 0


def test_seed_is_passed_as_random_state(blob):
    X, _ = blob
    a = make_detector("sklearn.ensemble.IsolationForest", seed=3, n_estimators=20)
    b = make_detector("sklearn.ensemble.IsolationForest", seed=3, n_estimators=20)
    c = make_detector("sklearn.ensemble.IsolationForest", seed=4, n_estimators=20)
    assert isinstance(a, EstimatorDetector) and a.estimator.random_state == 3
    np.testing.assert_array_equal(a.fit_score(X), b.fit_score(X))
    assert not np.array_equal(a.fit_score(X), c.fit_score(X))


def test_pyod_detector_through_dotted_path(blob):
    pytest.importorskip("pyod")
    X, mask = blob
    det = make_detector("pyod.models.knn.KNN", n_neighbors=10)
    assert det.lower_is_weirder is False  # pyod: outliers score higher
    _, S = anomaly_scores(det, X)
    assert _top_hits(S, mask) >= 7


def test_entry_point_registration(tmp_path, monkeypatch, blob):
    """A package registers a detector by name in the astroanom.detectors entry-point group."""
    dist = tmp_path / "toyplugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[astroanom.detectors]\nmedian = toy_detector:DistanceFromMedian\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "median" in plugins.available("detector")
    X, mask = blob
    _, S = anomaly_scores(make_detector("median", lower_is_weirder=False), X)
    assert _top_hits(S, mask) == 8


def test_unknown_name_lists_available():
    with pytest.raises(AstroanomError, match=r"unknown detector 'lofff'.*iforest.*lof"):
        make_detector("lofff")


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("no_such_module.Detector", r"cannot import detector 'no_such_module\.Detector'"),
        ("sklearn.ensemble.NoSuchForest", r"'sklearn\.ensemble\.NoSuchForest'.*no 'NoSuchForest'"),
        (
            "toy_detector.NoScore",
            r"'toy_detector\.NoScore'.*neither score_samples nor decision_function",
        ),
        ("numpy.ndarray.T", r"cannot import detector"),
    ],
)
def test_bad_classes_are_named(name, pattern):
    with pytest.raises(AstroanomError, match=pattern):
        make_detector(name)


def test_wrong_interface_no_fit_is_named():
    with pytest.raises(AstroanomError, match=r"'collections\.OrderedDict'.*no fit method"):
        make_detector("collections.OrderedDict")


def test_bad_parameters_are_named():
    with pytest.raises(
        AstroanomError, match=r"'sklearn\.svm\.OneClassSVM': bad parameters \['nuu'\]"
    ):
        make_detector("sklearn.svm.OneClassSVM", nuu=0.1)
    with pytest.raises(AstroanomError, match=r"'lof': bad parameters"):
        make_detector("lof", k=3)


@pytest.mark.parametrize(
    ("cls", "pattern"),
    [
        ("ConstantScore", r"the same score .* for every object"),
        ("NaNScore", r"NaN or inf .*rows \[3\]"),
    ],
)
def test_nan_or_constant_scores_name_the_detector(blob, cls, pattern):
    X, _ = blob
    det = make_detector(f"toy_detector.{cls}", label=f"my-{cls}")
    with pytest.raises(AstroanomError, match=rf"^my-{cls} returned {pattern}"):
        anomaly_scores(det, X)


def test_missing_optional_package_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyod", None)  # import pyod -> ImportError
    monkeypatch.setitem(sys.modules, "pyod.models", None)
    monkeypatch.setitem(sys.modules, "pyod.models.knn", None)
    with pytest.raises(AstroanomError, match=r"pip install 'astroanom\[pyod\]'"):
        make_detector("pyod.models.knn.KNN")


SOURCE_EXAMPLES = {
    "images": {"path": "x"},
    "table": {"path": "x.csv"},
    "light_curves": {"path": "x"},
    "spectra": {"path": "x"},
    "fits_mosaic": {"images": {"g": "a.fits"}, "catalogue": "c.csv"},
    "synthetic_galaxies": {},
    "galaxy_zoo": {},
    "kaggle": {},
}
EXTRACTOR_EXAMPLES = {
    "values": {},
    "ellipse": {},
    "colour": {},
    "moments": {},
    "power_spectrum": {},
    "wavelets": {},
    "histogram": {},
    "combine": {"extractors": [{"kind": "moments"}]},
    "columns": {"columns": ["a"]},
    "light_curve": {},
    "spectrum": {"grid_min": 1, "grid_max": 2, "grid_n": 10},
}


def _unaccepted(kind: str, name: str, params: dict) -> list[str]:
    import inspect

    from astroanom import plugins

    sig = inspect.signature(plugins.resolve(kind, name))
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return []
    return [k for k in params if k not in sig.parameters]


@pytest.mark.parametrize("name", sorted(SOURCE_EXAMPLES))
def test_every_source_key_the_schema_fills_in_is_a_constructor_parameter(name):
    """The schema's keys and defaults for a source kind reach its class as keywords, so no
    validated config can fail with 'bad parameters' (`resources` is resolved by the rule)."""
    from astroanom import config as acfg

    cfg = {"datasets": {"d": {"source": {"kind": name, **SOURCE_EXAMPLES[name]}}}}
    acfg.validate(cfg)
    params = {
        k: v for k, v in cfg["datasets"]["d"]["source"].items() if k not in ("kind", "resources")
    }
    assert _unaccepted("source", name, params) == []


@pytest.mark.parametrize("name", sorted(EXTRACTOR_EXAMPLES))
def test_every_extractor_key_the_schema_fills_in_is_a_constructor_parameter(name):
    from astroanom import config as acfg

    features = {"kind": name, **EXTRACTOR_EXAMPLES[name]}
    cfg = {"datasets": {"d": {"source": {"kind": "images", "path": "x"}, "features": features}}}
    acfg.validate(cfg)
    params = {
        k: v for k, v in cfg["datasets"]["d"]["features"].items() if k not in ("kind", "shard_size")
    }
    assert _unaccepted("extractor", name, params) == []


def test_a_missing_torch_names_the_extra_and_the_cpu_wheel(monkeypatch):
    """The learned extractor needs the optional torch: the message says how to install it
    without several GB of CUDA libraries."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    assert not plugins.installed("extractor", "learned")
    with pytest.raises(AstroanomError, match=r"astroanom\[learned\].*whl/cpu"):
        plugins.resolve("extractor", "learned")
