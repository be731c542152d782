"""Active-learning strategies on a small simulation where the wanted class (4) is known.

Each learning strategy must beat random order on recall@50 (wanted objects among the first 50
viewed, all of them labelled with a budget of 50) by a stated margin, averaged over 3 seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from astroanom import plugins
from astroanom.active.loop import labelling_loop
from astroanom.active.oracle import ClassOracle
from astroanom.active.strategies import (
    GaussianProcessEI,
    expected_improvement,
    make_strategy,
    strategy_from_config,
)
from astroanom.detect.detectors import anomaly_scores, make_detector
from astroanom.errors import AstroanomError, LabelsError
from astroanom.ordering import rank_order
from astroanom.pipeline.benchmark import cell_metrics
from astroanom.sources.simulation import simulate

RELEVANCE = {0: 0, 1: 0, 2: 3, 3: 0, 4: 5}
COUNTS = {0: 1000, 1: 1000, 2: 40, 3: 40, 4: 40}  # 2120 objects, 40 wanted (class 4)
SEEDS = (1, 2, 3)
BUDGET, BATCH = 50, 10
# Minimum lead over random order in mean recall@50 (random expects 50 * 40 / 2120 ~ 0.9).
MARGINS = {"paper": 10.0, "gp": 5.0, "coniferest": 3.0}
SHARED = {"alpha": 1.0, "n_estimators": 100}  # the config's active_learning section


@pytest.fixture(scope="module")
def sims(paper_preset):
    """Per seed: features (n, 100), classes (n,), isolation-forest S (n,)."""
    out = {}
    for seed in SEEDS:
        d = simulate(paper_preset, COUNTS, seed=seed)
        _, S = anomaly_scores(make_detector("iforest", seed=seed, n_estimators=100), d.features)
        out[seed] = (d.features, d.classes, S)
    return out


@pytest.fixture(scope="module")
def recalls(sims):
    """Mean recall@50 over the seeds, memoised per strategy."""
    cache: dict[str, float] = {}

    def get(name: str) -> float:
        if name not in cache:
            vals = []
            for seed, (X, classes, S) in sims.items():
                run = labelling_loop(
                    X,
                    S,
                    ClassOracle(classes, RELEVANCE),
                    make_strategy(name, seed=seed, shared=SHARED),
                    BATCH,
                    BUDGET,
                )
                vals.append(cell_metrics(run.viewed, classes == 4, [50])["recall_50"])
            cache[name] = float(np.mean(vals))
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["paper", "gp", "coniferest"])
def test_learning_strategy_beats_random(recalls, name):
    if not plugins.installed("strategy", name):
        pytest.skip(f"optional package for {name!r} not installed")
    assert recalls(name) >= recalls("random") + MARGINS[name], (
        name,
        recalls(name),
        recalls("random"),
    )


def test_no_learning_labels_the_detector_top(sims):
    X, classes, S = sims[1]
    run = labelling_loop(
        X, S, ClassOracle(classes, RELEVANCE), make_strategy("none"), BATCH, BUDGET
    )
    np.testing.assert_array_equal(run.shown, rank_order(S)[:BUDGET])
    np.testing.assert_array_equal(run.viewed, rank_order(S))


def test_random_order_is_seeded(sims):
    X, classes, S = sims[1]
    oracle = ClassOracle(classes, RELEVANCE)
    a = labelling_loop(X, S, oracle, make_strategy("random", seed=5), BATCH, 30).shown
    b = labelling_loop(X, S, oracle, make_strategy("random", seed=5), BATCH, 30).shown
    c = labelling_loop(X, S, oracle, make_strategy("random", seed=6), BATCH, 30).shown
    np.testing.assert_array_equal(a, b)
    assert len(np.intersect1d(a, c)) < 5


def test_every_strategy_starts_from_scratch_without_labels(sims):
    X, _, S = sims[1]
    empty = np.empty(0, dtype=np.int64)
    for name in ("paper", "gp", "none"):
        np.testing.assert_array_equal(
            make_strategy(name, shared=SHARED).fit(X, S, empty, empty).score(), S
        )


def test_gp_posterior_follows_labels(sims):
    """Posterior mean near the labels (within the fitted noise), and S far from them."""
    X, classes, S = sims[2]
    idx = rank_order(S)[:40]
    lab = ClassOracle(classes, RELEVANCE)(idx).astype(float)
    gp = GaussianProcessEI(seed=0).fit(X, S, idx, lab)
    mu, sd = gp.posterior()
    assert np.mean(np.abs(mu[idx] - lab)) < 1.0 < np.mean(np.abs(S[idx] - lab))
    assert (sd >= 0).all() and sd[idx].mean() < sd.mean()


def test_expected_improvement_values():
    mu = np.array([1.0, 2.0, 3.0, 3.0])
    sd = np.array([0.0, 0.0, 0.0, 1.0])
    ei = expected_improvement(mu, sd, best=2.0, xi=0.5)
    np.testing.assert_allclose(ei[:3], [0.0, 0.0, 0.5])
    # z = 0.5: 0.5 * Phi(0.5) + phi(0.5)
    np.testing.assert_allclose(ei[3], 0.5 * 0.691462461 + 0.352065327, rtol=1e-6)
    assert np.all(np.diff(expected_improvement(np.linspace(0, 5, 6), np.ones(6), 2.0)) > 0)


def test_coniferest_absent_gives_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "coniferest", None)
    monkeypatch.setitem(sys.modules, "coniferest.pineforest", None)
    monkeypatch.setitem(sys.modules, "coniferest.aadforest", None)
    with pytest.raises(AstroanomError, match=r"pip install 'astroanom\[coniferest\]'"):
        make_strategy("coniferest")


def test_strategy_errors(sims):
    X, _, S = sims[1]
    with pytest.raises(
        AstroanomError, match=r"unknown strategy 'papr'; available: .*gp.*paper.*random"
    ):
        make_strategy("papr")
    with pytest.raises(AstroanomError, match=r"cannot import strategy 'nope\.Strategy'"):
        make_strategy("nope.Strategy")
    with pytest.raises(AstroanomError, match=r"'collections\.OrderedDict'.*needs fit"):
        make_strategy("collections.OrderedDict")
    with pytest.raises(AstroanomError, match=r"strategy 'gp': bad parameters \['kappa'\]"):
        strategy_from_config({"name": "gp", "kappa": 2})
    with pytest.raises(LabelsError, match="0..5"):
        make_strategy("paper", shared=SHARED).fit(X, S, np.array([0, 1]), np.array([0.0, 7.0]))
    with pytest.raises(LabelsError, match="more than once"):
        make_strategy("gp").fit(X, S, np.array([0, 0]), np.array([0.0, 5.0]))
    assert {"paper", "gp", "coniferest", "none", "random"} <= set(plugins.available("strategy"))
