"""TopFirstRanking: the S^ order scored from the top of |S| down, exact at every step, and in
the end identical to a full retrain (values and order); its use by the labeller."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from labeller_helpers import curve_dataset

from astroanom.active.loop import refit_strategy
from astroanom.active.ranking import TopFirstRanking
from astroanom.active.score import RelevanceLearner, RelevanceModel, nearest_labelled_distance
from astroanom.active.strategies import PaperScore
from astroanom.labeller import LabellerSettings, create_app
from astroanom.labeller.data import LabellerData
from astroanom.ordering import rank_order


def _problem(n: int = 20_000, seed: int = 4, negative: bool = False, ties: bool = False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    S = rng.uniform(0.0, 5.0, n)
    if ties:
        S = np.round(S * 2) / 2  # 11 distinct values
    if negative:
        S -= 1.0
    idx = rank_order(S)[:40]
    lab = np.where(X[idx, 0] > 0, 5.0, 0.0)
    lab[:2] = [5.0, 0.0]
    return X, S, idx, lab


def _ranking(X, S, idx, lab, **kw) -> tuple[TopFirstRanking, np.ndarray]:
    learner = RelevanceLearner(n_estimators=15, seed=2, n_jobs=1)
    full = learner.retrain(X, S, idx, lab, alpha=1.3).score
    d = nearest_labelled_distance(X, idx)
    model = learner.fit(X, idx, lab)
    return TopFirstRanking(model, X, S, d, float(d.mean()), alpha=1.3, **kw), full


@pytest.mark.parametrize("kind", ["plain", "negative", "ties"])
def test_every_step_is_a_prefix_of_the_full_order_and_the_end_is_the_full_retrain(kind) -> None:
    X, S, idx, lab = _problem(negative=kind == "negative", ties=kind == "ties")
    by_abs = rank_order(np.abs(S))
    # the labeller passes its |S| order as int32 (memory-mapped): used as it is, no copy
    given = {"bound_order": by_abs.astype(np.int32)} if kind == "ties" else {}
    ranking, full = _ranking(X, S, idx, lab, first_chunk=500, chunk=3000, **given)
    want = rank_order(full)
    seen = []
    for k in (1, 50, 400, 2000):
        got = ranking.ensure_exact(k)
        assert got >= k
        rows, exact = ranking.rows()
        assert exact == got and rows.size == S.size
        assert np.array_equal(np.sort(rows), np.arange(S.size))  # every object once
        assert np.array_equal(rows[:exact], want[:exact])
        # behind the certain top: every other object in decreasing |S| (its bound)
        assert np.array_equal(rows[exact:], by_abs[~np.isin(by_abs, rows[:exact])])
        seen.append(ranking.done)
    assert seen[0] < S.size // 4  # the top is certain long before everything is scored
    ranking.finish()
    assert ranking.complete and ranking.n_exact == S.size
    assert np.array_equal(ranking.result.score, full)  # bit for bit
    assert np.array_equal(ranking.rows()[0], want)


def test_hand_worked_constant_relevance() -> None:
    """Every label 5: U = 5 everywhere, U~ = 0.95, arctanh(0.95) = 1.83178; alpha = 1, d0 = 1.
    Object 0 (d = 0): S^ = 5 * 0.95 = 4.75 > 4, the next |S|: certain after one object.
    Object 1 (d = ln 2, delta = 2): S^ = 4 tanh(2.83178) = 4 (1 - 2 / (e^5.66356 + 1)) = 3.97234 > 3: certain after two.
    Object 2 (d = 0): 3 * 0.95 = 2.85; object 3 (d = 2, delta = e^2): tanh(8.22) = 0.9999999."""
    S = np.array([5.0, 4.0, 3.0, 1.0])
    X = np.zeros((4, 1), dtype=np.float32)
    d = np.array([0.0, np.log(2.0), 0.0, 2.0])
    model = RelevanceModel(None, np.array([0]), np.array([5.0]))
    ranking = TopFirstRanking(model, X, S, d, d0=1.0, alpha=1.0, first_chunk=1)
    assert ranking.ensure_exact(1) == 1 and ranking.done == 1
    assert ranking.score[0] == pytest.approx(4.75, abs=1e-12)
    assert ranking.ensure_exact(2) == 2 and ranking.done == 2
    assert ranking.score[1] == pytest.approx(3.97234, abs=1e-5)
    assert ranking.rows()[0].tolist() == [0, 1, 2, 3]
    ranking.finish()
    assert ranking.result.score[2] == pytest.approx(2.85, abs=1e-12)
    assert ranking.result.score[3] == pytest.approx(1.0, abs=1e-6)
    assert ranking.rows()[0].tolist() == [0, 1, 2, 3]


def test_values_of_unscored_rows_equal_the_final_ones() -> None:
    X, S, idx, lab = _problem(n=5000)
    ranking, full = _ranking(X, S, idx, lab, first_chunk=200)
    ranking.ensure_exact(10)
    tail = rank_order(S)[-7:]
    U, d, s = ranking.values(tail)
    assert np.array_equal(s, full[tail])
    ranking.finish()
    assert np.array_equal(U, ranking.result.U[tail]) and np.array_equal(d, ranking.result.d[tail])


def test_cancel_stops_the_background_and_errors_reach_the_waiter() -> None:
    X, S, idx, lab = _problem(n=3000)
    ranking, _ = _ranking(X, S, idx, lab, first_chunk=100, chunk=100)
    cancel = threading.Event()
    cancel.set()
    ranking.start(cancel)
    assert ranking.wait(0.5) is False and not ranking.complete

    class Broken(RelevanceModel):
        def predict(self, X, rows=None):
            raise MemoryError("no room for the forest's output")

    broken = TopFirstRanking(
        Broken(None, idx, lab), X, S, np.ones(S.size), 1.0, 1.0, first_chunk=10
    )
    broken.start(threading.Event())
    with pytest.raises(MemoryError, match="no room"):
        broken.wait(10)


# -- the labeller ---------------------------------------------------------------------------------
SETTINGS = LabellerSettings(
    alpha=1.0, n_estimators=10, seed=0, strategy={"name": "paper"}, exact_first=5
)


def test_labeller_retrain_answers_with_the_certain_top_and_completes_to_the_full_order(
    tmp_path, monkeypatch
) -> None:
    data_dir = curve_dataset(tmp_path / "d", n=3000)
    started = []
    monkeypatch.setattr(
        TopFirstRanking, "start", lambda self, cancel, on_done=None: started.append(self)
    )
    data = LabellerData(data_dir, tmp_path / "labels.csv", "ann", SETTINGS)
    order_s = data.order_rows("score")
    for r, v in zip(order_s[:30], [5, 0, 0, 3, 0, 5] * 5, strict=True):
        data.store.set(data.ids[r], v)
    res = data.retrain()
    assert res["n_labels"] == 30 and res["exact"] >= 5
    idx = np.array([data.index[k] for k in data.store.current()])
    lab = np.array([float(v) for v in data.store.current().values()])
    full = refit_strategy(PaperScore(seed=0, n_estimators=10, alpha=1.0), data.X, data.S, idx, lab)
    want = rank_order(full)
    rows, exact = data.order_state("retrained", wait=False)
    assert np.array_equal(rows[:exact], want[:exact])
    assert not res["complete"] and exact < data.n and started  # the rest: in the background
    started[-1].finish()
    rows, exact = data.order_state("retrained")
    assert exact == data.n and np.array_equal(rows, want)
    one = data.describe(data.ids[want[-1]])
    assert one["score"] == pytest.approx(full[want[-1]], abs=0)


def test_http_order_partial_and_waiting(tmp_path) -> None:
    data_dir = curve_dataset(tmp_path / "d", n=2000)
    app = create_app(data_dir, tmp_path / "labels.csv", "bo", SETTINGS)
    client, token = app.test_client(), app.config["CSRF_TOKEN"]
    headers = {"X-CSRF-Token": token, "Origin": "http://localhost"}

    def post(url, body):
        return client.post(
            url, data=json.dumps(body), content_type="application/json", headers=headers
        )

    for oid, v in [("0", 5), ("1", 0), ("2", 0), ("150", 5)]:
        assert post("/api/label", {"id": oid, "label": v}).status_code == 200
    res = post("/api/retrain", {}).get_json()
    assert res["n_labels"] == 4 and res["exact"] >= 5 and isinstance(res["complete"], bool)
    part = client.get("/api/order?by=retrained&format=rows&partial=1")
    exact = int(part.headers["X-Exact"])
    full = client.get("/api/order?by=retrained&format=rows")
    assert int(full.headers["X-Exact"]) == 2000
    a, b = (np.frombuffer(r.get_data(), dtype="<i4") for r in (part, full))
    assert exact >= 5 and np.array_equal(a[:exact], b[:exact])
    info = client.get("/api/info").get_json()
    assert info["ranking"] == {"exact": 2000, "complete": True}
    page = client.get("/api/order?by=retrained&limit=3").get_json()
    assert page["exact"] == 2000 and len(page["ids"]) == 3


def test_rank_for_labeller_uses_top_first_when_offered_and_refits_otherwise() -> None:
    """The capability: PaperScore offers top_first (ending in its own score bit for bit); a
    strategy without it is refitted everywhere (here: a stub whose score is hand-made)."""
    from astroanom.active.ranking import CompleteRanking, rank_for_labeller

    X, S, idx, lab = _problem(n=3000)
    paper = PaperScore(seed=0, n_estimators=10, alpha=1.0)
    kw = {"bound_order": rank_order(np.abs(S)), "exact_first": 50, "n_jobs": 1}
    top = rank_for_labeller(paper, X, S, idx, lab, **kw)
    assert isinstance(top, TopFirstRanking) and top.n_exact >= 50
    top.finish()
    full = refit_strategy(PaperScore(seed=0, n_estimators=10, alpha=1.0), X, S, idx, lab)
    assert np.array_equal(top.result.score, full)
    assert np.array_equal(top.rows()[0], rank_order(full))

    class Reversed:  # a strategy without top_first and without the paper's U, d
        name = "reversed"

        def fit(self, X, S, labelled, labels):
            self.S_ = S
            return self

        def score(self):
            return -self.S_

    other = rank_for_labeller(Reversed(), X, S, idx, lab, **kw)
    assert isinstance(other, CompleteRanking) and other.complete
    assert np.array_equal(other.rows()[0], rank_order(-S))
    u, d, s = other.values(np.array([0, 1]))
    assert np.isnan(u).all() and np.isnan(d).all() and np.array_equal(s, -S[:2])


def test_the_labeller_reaches_into_no_strategy() -> None:
    """The labeller asks for the capability; it names neither PaperScore nor the learner."""
    from pathlib import Path

    import astroanom.labeller as pkg

    for path in Path(pkg.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "PaperScore" not in text and "RelevanceLearner" not in text, path


@pytest.mark.parametrize("n", [2, 3, 1001])
def test_rank_order_threads_is_rank_order(n):
    from astroanom.active.ranking import rank_order_threads

    rng = np.random.default_rng(n)
    s = rng.integers(0, 5, n).astype(np.float64)  # many ties
    s[rng.choice(n, max(1, n // 10), replace=False)] = np.nan
    s[s == 0] = -0.0
    s[: n // 3][s[: n // 3] == 1] = np.inf
    want = rank_order(s)
    got = rank_order_threads(s, n_jobs=2, min_rows=1)
    assert got.dtype == np.int64 and np.array_equal(got, want)
    assert np.array_equal(rank_order_threads(s, n_jobs=1), want)
    # two rows by hand: equal scores keep row order, NaN last
    assert rank_order_threads(np.array([np.nan, 1.0, 1.0, 2.0]), 2, min_rows=1).tolist() == [
        3,
        1,
        2,
        0,
    ]
