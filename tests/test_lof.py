"""LOF (astroanom.detect.detectors) against hand-worked values and scikit-learn, and the 0..5 mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.neighbors import LocalOutlierFactor as SkLOF

from astroanom.detect.detectors import LocalOutlierFactor, anomaly_scores, to_anomaly_score
from astroanom.errors import AstroanomError
from astroanom.sources.simulation import simulate

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
PAPER = yaml.safe_load(CONFIG.read_text())["simulation_presets"]["table1-class3-reassigned"][
    "classes"
]


def test_hand_worked_1d_example():
    # x = 0, 1, 2, 6 with k = 2 (neighbours, distances; k-distance = distance to 2nd):
    #   0: {1: 1, 2: 2}, kd 2     1: {0: 1, 2: 1}, kd 1
    #   2: {1: 1, 0: 2}, kd 2     6: {2: 4, 1: 5}, kd 5
    # reach-dist(a, b) = max(d(a, b), kd(b)); lrd(a) = 1 / mean reach-dist:
    #   lrd(0) = 1 / mean(max(1, 1), max(2, 2)) = 1 / 1.5 = 2/3
    #   lrd(1) = 1 / mean(max(1, 2), max(1, 2)) = 1 / 2
    #   lrd(2) = 1 / mean(max(1, 1), max(2, 2)) = 2/3
    #   lrd(6) = 1 / mean(max(4, 2), max(5, 1)) = 1 / 4.5 = 2/9
    # LOF(a) = mean lrd(neighbours) / lrd(a):
    #   LOF(0) = (1/2 + 2/3) / 2 / (2/3) = 7/8      LOF(1) = (2/3 + 2/3) / 2 / (1/2) = 4/3
    #   LOF(2) = (1/2 + 2/3) / 2 / (2/3) = 7/8      LOF(6) = (2/3 + 1/2) / 2 / (2/9) = 21/8
    x = np.array([[0.0], [1.0], [2.0], [6.0]])
    nof = LocalOutlierFactor(n_neighbors=2).fit_score(x)
    np.testing.assert_allclose(nof, [-7 / 8, -4 / 3, -7 / 8, -21 / 8], rtol=1e-8)
    np.testing.assert_allclose(nof, SkLOF(n_neighbors=2).fit(x).negative_outlier_factor_)


@pytest.mark.parametrize(("n_neighbors", "block_rows"), [(20, 1024), (100, 400)])
def test_equals_sklearn_on_simulated_data(n_neighbors: int, block_rows: int):
    counts = {0: 1000, 1: 980, 2: 10, 3: 10, 4: 10}
    X = simulate(PAPER, counts, seed=2).features
    ours = LocalOutlierFactor(n_neighbors=n_neighbors, block_rows=block_rows).fit_score(X)
    ref = SkLOF(n_neighbors=n_neighbors).fit(X).negative_outlier_factor_
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_to_anomaly_score_maps_extremes_linearly():
    raw = np.array([-3.0, -1.0, -2.0, -1.5])
    s = to_anomaly_score(raw, lower_is_weirder=True, name="lof")
    np.testing.assert_allclose(s, [5.0, 0.0, 2.5, 1.25])
    s = to_anomaly_score(raw, lower_is_weirder=False, name="lof")
    np.testing.assert_allclose(s, [0.0, 5.0, 2.5, 3.75])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_to_anomaly_score_rejects_non_finite(bad: float):
    with pytest.raises(AstroanomError, match=r"mydet returned NaN or inf scores .*rows \[2\]"):
        to_anomaly_score(np.array([1.0, 2.0, bad]), lower_is_weirder=True, name="mydet")


def test_to_anomaly_score_rejects_constant():
    with pytest.raises(AstroanomError, match="mydet returned the same score"):
        to_anomaly_score(np.full(4, 0.5), lower_is_weirder=True, name="mydet")


def test_anomaly_scores_of_lof_put_the_outlier_at_5():
    x = np.array([[0.0], [1.0], [2.0], [6.0]])
    raw, S = anomaly_scores(LocalOutlierFactor(n_neighbors=2), x)
    np.testing.assert_allclose(S, 5.0 * (raw.max() - raw) / (raw.max() - raw.min()))
    assert S[3] == 5.0 and S.min() == 0.0
