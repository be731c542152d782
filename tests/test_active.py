"""Equations 1-3 against hand-worked values, and the relevance learner's contract."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astroanom.active.score import (
    RelevanceLearner,
    active_score,
    distance_penalty,
    nearest_labelled_distance,
    normalised_relevance,
)
from astroanom.errors import LabelsError


def test_normalised_relevance_end_points():
    # eq. 2: 0.1 + 0.85 * U / 5
    assert normalised_relevance(5) == pytest.approx(0.95)
    assert normalised_relevance(0) == pytest.approx(0.10)
    assert normalised_relevance(3) == pytest.approx(0.61)


def test_labelled_object_gets_S_times_U_tilde():
    # d = 0 -> delta = 1 -> tanh(arctanh(U~)) = U~ -> S^ = S U~
    S = np.array([4.0, 4.0, 2.5])
    U = np.array([5.0, 0.0, 3.0])
    d = np.zeros(3)
    got = active_score(S, U, d, alpha=1.0, d0=1.0)
    np.testing.assert_allclose(got, [4.0 * 0.95, 4.0 * 0.10, 2.5 * 0.61], rtol=1e-12)


def test_far_from_labels_tends_to_S():
    S = np.array([3.0, 1.0])
    U = np.array([0.0, 0.0])
    d = np.array([50.0, 50.0])  # delta = e^50
    np.testing.assert_allclose(active_score(S, U, d, alpha=1.0, d0=1.0), S, rtol=1e-12)


def test_intermediate_value_by_hand():
    # S = 2, U = 0, d = d0, alpha = 1: delta = e; argument = e - 1 + arctanh(0.1)
    # = 1.718281828 + 0.100335348 = 1.818617176; tanh of it = 0.948554...
    arg = math.e - 1.0 + 0.5 * math.log(1.1 / 0.9)
    expected = 2.0 * math.tanh(arg)
    assert expected == pytest.approx(1.8971, abs=5e-4)
    got = active_score(np.array([2.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 1.0]), 1.0)
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_d0_defaults_to_mean_distance_and_alpha_scales():
    d = np.array([0.0, 1.0, 2.0])  # mean 1
    np.testing.assert_allclose(distance_penalty(d, 1.0, 2.0), np.exp([0.0, 2.0, 4.0]))
    a = active_score(np.ones(3), np.zeros(3), d, 1.0)
    b = active_score(np.ones(3), np.zeros(3), d, 1.0, d0=1.0)
    np.testing.assert_array_equal(a, b)
    assert (distance_penalty(d, 0.0, 1.0) == 1.0).all()


def test_nearest_labelled_distance_by_hand():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]], dtype=np.float32)
    d = nearest_labelled_distance(X, np.array([0]))
    np.testing.assert_allclose(d, [0.0, 5.0, 10.0, 1.0], atol=1e-6)
    d2 = nearest_labelled_distance(X, np.array([0, 2]), block_rows=1)
    np.testing.assert_allclose(d2, [0.0, 5.0, 0.0, 1.0], atol=1e-6)


def test_nearest_distance_matches_brute_force():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 7)).astype(np.float32)
    lab = rng.choice(500, 20, replace=False)
    d = nearest_labelled_distance(X, lab, block_rows=64)
    brute = np.sqrt(((X[:, None, :].astype(float) - X[lab][None].astype(float)) ** 2).sum(-1)).min(
        1
    )
    np.testing.assert_allclose(d, brute, atol=1e-5)


def test_learner_keeps_human_labels_and_clips():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    lab_idx = np.arange(20)
    labels = (X[lab_idx, 0] > 0).astype(int) * 5
    U = RelevanceLearner(n_estimators=10, seed=3).predict_relevance(X, lab_idx, labels)
    np.testing.assert_array_equal(U[lab_idx], labels)
    assert U.min() >= 0 and U.max() <= 5


def test_learner_is_deterministic_per_seed():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 5))
    S = rng.uniform(0, 5, 400)
    lab_idx = np.arange(30)
    labels = rng.integers(0, 6, 30)
    a = RelevanceLearner(20, seed=5, n_jobs=2).retrain(X, S, lab_idx, labels, alpha=1.0)
    b = RelevanceLearner(20, seed=5, n_jobs=1).retrain(X, S, lab_idx, labels, alpha=1.0)
    np.testing.assert_array_equal(a.score, b.score)
    assert a.d0 == pytest.approx(a.d.mean())


@pytest.mark.parametrize("bad", [[6], [-1], [float("nan")]])
def test_bad_labels_are_refused(bad):
    X = np.zeros((5, 2))
    with pytest.raises(LabelsError, match="0..5"):
        RelevanceLearner(5).predict_relevance(X, np.array([0]), np.array(bad))


def test_duplicate_labelled_index_refused():
    X = np.random.default_rng(0).normal(size=(5, 2))
    with pytest.raises(LabelsError, match="more than once"):
        RelevanceLearner(5).predict_relevance(X, np.array([1, 1]), np.array([0, 5]))
