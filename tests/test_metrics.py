"""Equations 4-5 against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from astroanom.evaluate.metrics import (
    cumulative_recall,
    per_class_table,
    rank_order,
    recall,
    rws,
    rws_curve,
)
from astroanom.evaluate.tables import round_metrics, takeover_labels


def test_rws_hand_worked():
    # (3*1 + 2*0 + 1*1) / (3*4/2) = 4/6
    assert rws([1, 0, 1], 3) == pytest.approx(4 / 6)
    assert rws([1, 1, 1], 3) == 1.0
    assert rws([0, 0, 0, 1], 3) == 0.0
    # N larger than the list: missing entries count as non-anomalies; (4*1)/10
    assert rws([1], 4) == pytest.approx(0.4)


def test_recall_hand_worked():
    assert recall([1, 0, 1], 2) == 1
    assert recall([1, 0, 1], 3) == 2
    assert recall([1, 0, 1], 0) == 0


def test_rws_curve_equals_direct_sum():
    rng = np.random.default_rng(0)
    hits = rng.random(300) < 0.2
    ns = [1, 2, 17, 150, 300, 400]
    np.testing.assert_allclose(rws_curve(hits, ns), [rws(hits, n) for n in ns], rtol=1e-12)


def test_invalid_n():
    with pytest.raises(ValueError):
        rws([1], 0)
    with pytest.raises(ValueError):
        rws_curve([1], [0])


def test_rank_order_is_descending_and_stable():
    np.testing.assert_array_equal(rank_order(np.array([1.0, 3.0, 3.0, 2.0])), [1, 2, 3, 0])


def test_per_class_table_and_cumulative_recall():
    score = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    classes = np.array([2, 4, 2, 0, 4])
    t = per_class_table(score, classes, [2, 4], [2, 5])
    row = t[(t["class"] == 2) & (t["N"] == 2)].iloc[0]
    assert row["rws"] == pytest.approx(2 / 3) and row["recall"] == 1
    row = t[(t["class"] == 4) & (t["N"] == 5)].iloc[0]
    assert row["rws"] == pytest.approx((4 + 1) / 15) and row["recall"] == 2
    np.testing.assert_array_equal(cumulative_recall(score, classes == 4, 5), [0, 1, 1, 1, 2])


def test_round_metrics_and_takeover():
    classes = np.array([2, 2, 4, 4, 0, 0])
    r0 = np.array([6, 5, 1, 2, 4, 3], dtype=float)  # top 2: class 2, 2
    r1 = np.array([1, 2, 6, 5, 4, 3], dtype=float)  # top 2: class 4, 4
    t = round_metrics(classes, np.stack([r0, r1]), [0, 10], [2, 4], top=2)
    assert t.query("round == 0 and `class` == 2")["share"].item() == 1.0
    assert t.query("round == 1 and `class` == 4")["rws"].item() == 1.0
    assert takeover_labels(t, 4) == 10.0
    assert np.isnan(takeover_labels(t[t["round"] == 0], 4))
