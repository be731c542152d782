"""THE labelling loop: a hand-worked tiny case, tie-breaks, the oracle's unknown objects, the
single retrain as one round with batch = budget, the shown order it records, and a dataset's
``strategy:`` honoured by the workflow steps with a simulated oracle."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from astroanom.active.loop import labelling_loop, next_to_label
from astroanom.active.oracle import ClassOracle, LookupOracle
from astroanom.active.score import RelevanceLearner
from astroanom.active.strategies import NoLearning, PaperScore
from astroanom.errors import ConfigError
from astroanom.ordering import rank_order, shown_order_rounds, shown_order_single
from astroanom.pipeline.active import incremental_step, retrain_step
from astroanom.store.io import feature_frame, write_parquet

RELEVANCE = {0: 0, 1: 0, 2: 3, 3: 0, 4: 5}


class MeanBoost:
    """Toy strategy: score = S + (mean label so far) * X[:, 0] (0 before any label)."""

    name = "mean-boost"

    def fit(self, X, S, labelled, labels):
        self.X, self.S = np.asarray(X, dtype=np.float64), np.asarray(S, dtype=np.float64)
        self.mean = float(np.mean(labels)) if len(labels) else 0.0
        return self

    def score(self):
        return self.S + self.mean * self.X[:, 0]


TOY_X = np.array([[0.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
TOY_S = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
TOY_U = np.array([5, 0, 0, 0, 0, 0])


def test_hand_worked_two_rounds():
    """Round 1 shows 0, 1 (by S), labels 5, 0: mean 2.5, score [5, 4, 5.5, 2, 3.5, 0]; round 2
    shows 2, 4 (the best unlabelled), labels 0, 0: mean 1.25, final [5, 4, 4.25, 2, 2.25, 0];
    viewed: 0, 1, 2, 4, then 3, 5 by the final score."""
    run = labelling_loop(TOY_X, TOY_S, LookupOracle(TOY_U), MeanBoost(), batch=2, budget=4)
    np.testing.assert_array_equal(run.shown, [0, 1, 2, 4])
    np.testing.assert_array_equal(run.labels, [5.0, 0.0, 0.0, 0.0])
    assert run.labels.dtype == np.float64
    np.testing.assert_array_equal(run.n_labels, [0, 2, 4])
    np.testing.assert_array_equal(run.label_round, [1, 1, 2, 2])
    assert run.rounds == 2
    np.testing.assert_array_equal(run.scores[0], TOY_S)
    np.testing.assert_array_equal(run.scores[1], [5, 4, 5.5, 2, 3.5, 0])
    np.testing.assert_array_equal(run.final, [5, 4, 4.25, 2, 2.25, 0])
    np.testing.assert_array_equal(run.viewed, [0, 1, 2, 4, 3, 5])
    assert run.seconds >= 0
    # without learning the second round would have shown 2, 3
    plain = labelling_loop(TOY_X, TOY_S, LookupOracle(TOY_U), NoLearning(), batch=2, budget=4)
    np.testing.assert_array_equal(plain.shown, [0, 1, 2, 3])


def test_unknown_objects_are_never_shown_and_the_loop_stops_when_none_is_left(caplog):
    """Object 2 has no truth: round 2 picks 4, 3 (2 skipped), round 3 the last one, 5; the
    budget of 10 stops at the 5 showable objects, with a warning saying so."""
    oracle = LookupOracle(TOY_U)
    oracle.unknown = np.array([False, False, True, False, False, False])
    with caplog.at_level(logging.WARNING, logger="astroanom.active.loop"):
        run = labelling_loop(TOY_X, TOY_S, oracle, MeanBoost(), batch=2, budget=10)
    np.testing.assert_array_equal(run.shown, [0, 1, 4, 3, 5])
    np.testing.assert_array_equal(run.n_labels, [0, 2, 4, 5])
    np.testing.assert_array_equal(run.label_round, [1, 1, 2, 2, 3])
    np.testing.assert_array_equal(run.final, [5, 4, 4, 2, 2, 0])  # mean label 1.0
    np.testing.assert_array_equal(run.viewed, [0, 1, 4, 3, 5, 2])
    assert "stops at 5" in caplog.text and "1 without truth" in caplog.text


def test_ties_keep_input_order():
    S = np.array([1.0, 2.0, 2.0, 1.0, 2.0])
    run = labelling_loop(np.zeros((5, 1)), S, LookupOracle(np.zeros(5)), NoLearning(), 2, 4)
    np.testing.assert_array_equal(run.shown, [1, 2, 4, 0])
    np.testing.assert_array_equal(run.viewed, [1, 2, 4, 0, 3])
    np.testing.assert_array_equal(next_to_label(S, np.array([2]), 2), [1, 4])


def test_bad_batch_or_budget():
    for batch, budget in ((0, 5), (1, -1)):
        with pytest.raises(ConfigError, match="batch >= 1 and budget >= 0"):
            labelling_loop(TOY_X, TOY_S, LookupOracle(TOY_U), NoLearning(), batch, budget)


def test_zero_budget_is_the_label_free_ranking():
    run = labelling_loop(TOY_X, TOY_S, LookupOracle(TOY_U), MeanBoost(), batch=3, budget=0)
    assert run.shown.size == 0 and run.rounds == 0
    np.testing.assert_array_equal(run.viewed, rank_order(TOY_S))


@pytest.fixture(scope="module")
def small(paper_preset):
    from astroanom.sources.simulation import simulate

    d = simulate(paper_preset, {0: 300, 1: 300, 2: 20, 3: 20, 4: 20}, seed=2)
    rng = np.random.default_rng(0)
    S = rng.uniform(0, 5, d.features.shape[0])
    S[d.classes == 3] += 5  # boring class on top, as LOF does in the paper
    return d.features, S, d.classes


def test_single_retrain_is_one_round_with_batch_budget(small):
    """The top 25 by S, shown in S order, then one retrain of the paper's learner: exactly
    ``RelevanceLearner.retrain`` on them (what the single retrain computed before the loop)."""
    X, S, classes = small
    oracle = ClassOracle(classes, RELEVANCE)
    paper = PaperScore(seed=1, n_jobs=1, n_estimators=10, alpha=0.7)
    run = labelling_loop(X, S, oracle, paper, batch=25, budget=25)
    np.testing.assert_array_equal(run.shown, rank_order(S)[:25])
    np.testing.assert_array_equal(run.shown, shown_order_single(S, run.shown))
    np.testing.assert_array_equal(run.labels, oracle(run.shown))
    np.testing.assert_array_equal(run.n_labels, [0, 25])
    direct = RelevanceLearner(10, seed=1).retrain(X, S, run.shown, oracle(run.shown), alpha=0.7)
    assert run.final.tobytes() == direct.score.tobytes()
    assert paper.result.U.tobytes() == direct.U.tobytes()
    assert paper.result.d.tobytes() == direct.d.tobytes()


def test_incremental_rounds_record_the_shown_order(small):
    """Each batch is the top of the previous round's ranking among the unlabelled; each row of
    ``scores`` is the paper's retrain on the labels so far; the recorded shown order is the one
    the evaluation rebuilds from the rounds table."""
    X, S, classes = small
    oracle = ClassOracle(classes, RELEVANCE)
    paper = PaperScore(seed=1, n_jobs=1, n_estimators=10, alpha=1.0)
    run = labelling_loop(X, S, oracle, paper, batch=10, budget=40)
    np.testing.assert_array_equal(run.n_labels, [0, 10, 20, 30, 40])
    assert np.unique(run.shown).size == 40
    np.testing.assert_array_equal(run.scores[0], S)
    learner = RelevanceLearner(10, seed=1)
    for r in range(4):
        before = run.shown[: 10 * r]
        np.testing.assert_array_equal(
            run.shown[10 * r : 10 * r + 10], next_to_label(run.scores[r], before, 10)
        )
        upto = run.shown[: 10 * (r + 1)]
        again = learner.retrain(X, S, upto, oracle(upto), alpha=1.0).score
        assert run.scores[r + 1].tobytes() == again.tobytes()
    label_round = np.full(S.size, -1)
    label_round[run.shown] = run.label_round
    np.testing.assert_array_equal(shown_order_rounds(label_round, run.scores), run.shown)
    # the boring class was on top; after labelling it is pushed down
    top = rank_order(run.final)[:30]
    assert (classes[top] == 3).mean() < (classes[rank_order(S)[:30]] == 3).mean()


# -- the workflow steps honour the dataset's strategy with a simulated oracle -----------------


@pytest.fixture
def run_dir(tmp_path, small):
    X, S, classes = small
    ids = np.array([f"o{i}" for i in range(S.size)])
    write_parquet(feature_frame(ids, X), tmp_path / "features.parquet")
    write_parquet(pd.DataFrame({"id": ids, "raw": S, "S": S}), tmp_path / "scores.parquet")
    truth = pd.DataFrame({"id": ids, "value": classes.astype(np.float64), "known": True})
    write_parquet(truth, tmp_path / "truth.parquet")
    return tmp_path


ORACLE = {"mode": "simulated", "relevance": RELEVANCE, "batch": 10, "budget": 30}
TRUTH = {"kind": "class", "column": "class", "anomaly_classes": [2, 3, 4], "wanted_classes": [4]}
SHARED = {"alpha": 1.0, "n_estimators": 10}


def _retrain(d, strategy: dict) -> pd.DataFrame:
    out = d / f"active_{strategy['name']}.parquet"
    retrain_step(
        d / "features.parquet",
        d / "scores.parquet",
        out,
        oracle=ORACLE,
        strategy=strategy,
        shared=SHARED,
        seed=3,
        truth=d / "truth.parquet",
        truth_spec=TRUTH,
    )
    return pd.read_parquet(out)


def test_retrain_step_honours_the_strategy_with_a_simulated_oracle(run_dir, small):
    """Before, the simulated single retrain always ran the paper's learner: ``random`` and
    ``none`` gave the paper's table. Now each gives its own ranking, U and d NaN."""
    X, S, classes = small
    paper = _retrain(run_dir, {"name": "paper"})
    top = rank_order(S)[:30]
    assert np.flatnonzero(paper["label"].notna()).tolist() == sorted(top.tolist())
    direct = RelevanceLearner(10, seed=3).retrain(
        X, S, top, ClassOracle(classes, RELEVANCE)(top), alpha=1.0
    )
    assert paper["score"].to_numpy().tobytes() == direct.score.tobytes()
    assert paper["U"].to_numpy().tobytes() == direct.U.tobytes()

    none = _retrain(run_dir, {"name": "none"})
    assert (none["score"] == none["S"]).all() and none["U"].isna().all() and none["d"].isna().all()
    np.testing.assert_array_equal(none["label"].notna(), paper["label"].notna())

    rnd = _retrain(run_dir, {"name": "random"})
    random_score = np.random.default_rng(3).random(S.size)  # RandomOrder(seed=3)
    np.testing.assert_array_equal(rnd["score"], random_score)
    shown = np.flatnonzero(rnd["label"].notna())
    assert sorted(shown.tolist()) == sorted(rank_order(random_score)[:30].tolist())
    assert rnd["U"].isna().all() and not rnd["label"].notna().equals(paper["label"].notna())


def test_incremental_step_honours_the_strategy(run_dir, small):
    _, S, _ = small

    def rounds(name: str) -> pd.DataFrame:
        out = run_dir / f"rounds_{name}.parquet"
        incremental_step(
            run_dir / "features.parquet",
            run_dir / "scores.parquet",
            run_dir / "truth.parquet",
            out,
            oracle=ORACLE,
            truth_spec=TRUTH,
            strategy={"name": name},
            shared=SHARED,
            seed=3,
        )
        return pd.read_parquet(out)

    none, paper = rounds("none"), rounds("paper")
    assert list(none.columns) == [
        "id",
        "round00",
        "round01",
        "round02",
        "round03",
        "label_round",
        "label",
        "known",
    ]
    for c in ("round00", "round01", "round02", "round03"):
        np.testing.assert_array_equal(none[c], S)
    np.testing.assert_array_equal(paper["round00"], S)
    assert not np.array_equal(paper["round03"], S)
    lr = none["label_round"].to_numpy()
    np.testing.assert_array_equal(np.flatnonzero(lr > 0), np.sort(rank_order(S)[:30]))
    np.testing.assert_array_equal(lr[rank_order(S)[:30]], np.repeat([1, 2, 3], 10))
    assert not np.array_equal(lr, paper["label_round"].to_numpy())


def test_known_examples_fit_from_round_zero_and_are_never_shown_nor_viewed():
    """Known: object 0 with U = 5. Round 0 is fitted on it: mean 5, score S + 5 X[:, 0] =
    [5, 4, 8, 2, 6, 0]; round 1 shows 2, 4 (0 is known: skipped), labels 0, 0: mean over the
    known and shown labels 5/3, final [5, 4, 14/3, 2, 8/3, 0]; viewed leaves 0 out:
    2, 4, then 1, 3, 5 by the final score."""
    run = labelling_loop(
        TOY_X,
        TOY_S,
        LookupOracle(TOY_U),
        MeanBoost(),
        batch=2,
        budget=2,
        known=[0],
        known_labels=[5],
    )
    np.testing.assert_array_equal(run.scores[0], [5, 4, 8, 2, 6, 0])
    np.testing.assert_array_equal(run.shown, [2, 4])
    np.testing.assert_array_equal(run.n_labels, [0, 2])
    np.testing.assert_allclose(run.final, [5, 4, 5 + 5 / 3 - 2, 2, 1 + 5 / 3, 0])
    np.testing.assert_array_equal(run.viewed, [2, 4, 1, 3, 5])
    np.testing.assert_array_equal(run.known, [0])
    np.testing.assert_array_equal(run.known_labels, [5.0])


@pytest.mark.parametrize(
    "known, labels, match",
    [
        ([0], None, "need as many"),
        ([7], [5], "out of range"),
        ([1, 1], [5, 5], "twice"),
        ([1], [6], "0..5"),
        (None, [5], "without known"),
    ],
)
def test_bad_known_examples_are_refused(known, labels, match):
    with pytest.raises(ConfigError, match=match):
        labelling_loop(
            TOY_X, TOY_S, LookupOracle(TOY_U), NoLearning(), 2, 2, known=known, known_labels=labels
        )
