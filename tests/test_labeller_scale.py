"""The labeller at survey scale, on small n: the compiled forest equals scikit-learn's, the
distances kept up to date label by label equal a full computation, the columns' cache, the id
index, paged and binary orders and ids, and the retrain's ranking after labels come and go
equals the workflow's full retrain bit for bit."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from labeller_helpers import curve_dataset

from astroanom.active._forest_numba import PackedForest
from astroanom.active.loop import refit_strategy
from astroanom.active.score import RelevanceLearner, nearest_labelled_distance
from astroanom.active.strategies import PaperScore
from astroanom.errors import BadFeaturesError
from astroanom.labeller import LabellerSettings, create_app
from astroanom.labeller.columns import CACHE_DIR, IdIndex, load_columns
from astroanom.labeller.distances import LabelDistances
from astroanom.labeller.session import LabellerData, UnknownIdError
from astroanom.ordering import rank_order
from astroanom.store import dataset as ds
from astroanom.store.io import read_features
from astroanom.store.labels import label_arrays

SETTINGS = LabellerSettings(alpha=1.0, n_estimators=10, seed=0, strategy={"name": "paper"})


def test_packed_forest_equals_scikit_learn_bit_for_bit_on_any_threads():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(7)
    X = rng.normal(size=(20_000, 9)).astype(np.float32)
    X[:50] = X[50:100]  # repeated rows: leaves that cannot be split further
    lab = rng.choice(X.shape[0], 150, replace=False)
    y = rng.integers(0, 6, lab.size).astype(np.float64)  # labels 0-5, full-depth trees
    forest = RandomForestRegressor(n_estimators=12, random_state=3).fit(X[lab], y)
    want = forest.predict(X)
    packed = PackedForest.from_forest(forest)
    assert packed is not None
    for n_jobs in (1, 3):
        got = packed.predict(X, n_jobs=n_jobs, min_rows=1000)
        assert got.dtype == np.float64 and np.array_equal(got, want), n_jobs
    # a row exactly on a threshold goes left, as in scikit-learn (x <= threshold)
    node = int(np.flatnonzero(forest.estimators_[0].tree_.children_left >= 0)[0])
    row = X[:1].copy()
    row[0, forest.estimators_[0].tree_.feature[node]] = np.float32(
        forest.estimators_[0].tree_.threshold[node]
    )
    assert np.array_equal(packed.predict(row), forest.predict(row))


def test_distances_follow_labels_added_and_removed_in_any_order():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 5)).astype(np.float32)
    keeper = LabelDistances(X, n_jobs=2)
    labelled: list[int] = []
    for step in range(40):
        if labelled and rng.uniform() < 0.35:  # undo: a label removed
            labelled.pop(int(rng.integers(len(labelled))))
        else:
            labelled.append(int(rng.integers(X.shape[0])))
        if not labelled:
            continue
        rows = np.array(sorted(set(labelled)))
        assert np.array_equal(keeper.distances(rows), nearest_labelled_distance(X, rows)), step


def test_distance_by_hand():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]], dtype=np.float32)
    keeper = LabelDistances(X)
    assert keeper.distances(np.array([0])).tolist() == [0.0, 5.0, 10.0]
    assert keeper.distances(np.array([0, 2])).tolist() == [0.0, 5.0, 0.0]
    assert keeper.distances(np.array([2])).tolist() == [10.0, 5.0, 0.0]  # 0 removed


def test_distances_in_the_background_report_when_they_have_caught_up():
    import time

    rng = np.random.default_rng(5)
    X = rng.normal(size=(50_000, 7)).astype(np.float32)
    labelled = [3]
    keeper = LabelDistances(X, n_jobs=1)
    assert not keeper.pending()  # nothing followed yet
    keeper.follow(lambda: np.array(labelled))
    for step in range(5):
        labelled.append(int(rng.integers(X.shape[0])))
        keeper.changed()
        deadline = time.monotonic() + 30
        while keeper.pending():
            assert time.monotonic() < deadline, step
            time.sleep(0.005)
        rows = np.unique(labelled)
        assert np.array_equal(keeper._rows, rows), step  # up to date when it says so
        assert np.array_equal(keeper.distances(rows), nearest_labelled_distance(X, rows))


def test_id_index_finds_rows_and_refuses_repeats():
    ids = np.array(["b", "a ", "c", "10", "1"])
    index = IdIndex(ids)
    assert [index[k] for k in ("b", "a ", "c", "10", "1")] == [0, 1, 2, 3, 4]
    assert "a" not in index and "a " in index and "" not in index and 1 not in index
    assert index.get("zzzzzzzzzz") is None and len(index) == 5
    assert index.rows(np.array(["c", "x", "1"])).tolist() == [2, -1, 4]
    with pytest.raises(BadFeaturesError, match="not unique.*'a'"):
        IdIndex(np.array(["a", "b", "a"]))


def test_columns_are_cached_memory_mapped_and_refreshed(tmp_path):
    data_dir = curve_dataset(tmp_path / "d", n=300)
    first = load_columns(data_dir, ds.FEATURES, ds.SCORES)
    assert first.mapped and (data_dir / CACHE_DIR / "X.npy").is_file()
    feats, X = read_features(data_dir / ds.FEATURES)
    S = pd.read_parquet(data_dir / ds.SCORES)["S"].to_numpy()
    assert first.X.dtype == np.float32 and np.array_equal(first.X, X)
    assert np.array_equal(first.S, S) and first.ids.tolist() == feats["id"].astype(str).tolist()
    assert np.array_equal(first.by_S, rank_order(S))
    assert np.array_equal(first.by_abs_S, rank_order(np.abs(S)))
    again = load_columns(data_dir, ds.FEATURES, ds.SCORES)
    assert isinstance(again.X, np.memmap) and np.array_equal(again.X, X)
    # new scores (another detector run): the cache follows
    S2 = S[::-1].copy()
    pd.DataFrame({"id": feats["id"], "raw": -S2, "S": S2}).to_parquet(data_dir / ds.SCORES)
    st = (data_dir / ds.SCORES).stat()
    os.utime(data_dir / ds.SCORES, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert np.array_equal(load_columns(data_dir, ds.FEATURES, ds.SCORES).S, S2)


def test_columns_stay_in_memory_when_the_folder_is_read_only(tmp_path):
    data_dir = curve_dataset(tmp_path / "d", n=100)
    (data_dir / CACHE_DIR).write_text("a file where the cache folder would go")
    cols = load_columns(data_dir, ds.FEATURES, ds.SCORES)
    assert not cols.mapped and cols.X.shape == (100, 40)


def test_repeated_ids_are_refused_naming_the_file(tmp_path):
    from astroanom.store.io import feature_frame, write_parquet

    data_dir = curve_dataset(tmp_path / "d", n=50)
    ids = np.arange(50).astype(str)
    ids[7] = ids[3]
    write_parquet(feature_frame(ids, np.zeros((50, 2), np.float32)), data_dir / ds.FEATURES)
    with pytest.raises(BadFeaturesError, match=r"features.parquet: ids are not unique \('3'"):
        load_columns(data_dir, ds.FEATURES, ds.SCORES)


@pytest.fixture
def client_of(tmp_path):
    data_dir = curve_dataset(tmp_path / "d", n=1500)
    app = create_app(data_dir, tmp_path / "labels" / "ann.csv", "ann", SETTINGS)
    client, token = app.test_client(), app.config["CSRF_TOKEN"]
    headers = {"X-CSRF-Token": token, "Origin": "http://localhost"}

    def post(url, body):
        resp = client.post(
            url, data=json.dumps(body), content_type="application/json", headers=headers
        )
        assert resp.status_code == 200, resp.get_data()
        return resp.get_json()

    return client, post


def _rows(client, query):
    resp = client.get(f"/api/order?{query}&format=rows")
    assert resp.status_code == 200 and resp.mimetype == "application/octet-stream"
    return np.frombuffer(resp.get_data(), dtype="<i4"), resp.headers


def test_ids_as_text_and_pages_equal_the_json_list(client_of):
    client, _ = client_of
    ids = client.get("/api/ids").get_json()["ids"]
    text = client.get("/api/ids?format=text")
    assert text.mimetype == "text/plain" and text.headers["X-Total"] == "1500"
    assert text.get_data(as_text=True).split("\n") == ids
    page = client.get("/api/ids?format=text&offset=1490&limit=20").get_data(as_text=True)
    assert page.split("\n") == ids[1490:]
    assert client.get("/api/ids?offset=5&limit=3").get_json()["ids"] == ids[5:8]
    assert client.get("/api/ids?format=xml").status_code == 400
    assert client.get("/api/ids?offset=-1").status_code == 400


def test_binary_order_pages_equal_the_json_order(client_of):
    client, post = client_of
    ids = client.get("/api/ids").get_json()["ids"]
    for oid, v in [("0", 5), ("1", 0), ("7", 3), ("40", 5), ("41", 1)]:
        post("/api/label", {"id": oid, "label": v})
    post("/api/retrain", {})
    for query in ("by=retrained", "by=score&dir=asc", "by=retrained&unlabelled_first=1"):
        rows, head = _rows(client, query)
        assert [ids[r] for r in rows] == client.get(f"/api/order?{query}").get_json()["ids"]
        pages = [_rows(client, f"{query}&offset={o}&limit=400")[0] for o in (0, 400, 800, 1200)]
        assert np.array_equal(np.concatenate(pages), rows)
        assert _rows(client, f"{query}&offset=1400&limit=400")[1]["X-Offset"] == "1400"
    assert _rows(client, "by=score&offset=2000&limit=5")[0].size == 0


def test_top_page_after_a_retrain_is_the_head_of_the_complete_order(tmp_path, monkeypatch):
    from astroanom.active.ranking import TopFirstRanking

    started = []
    monkeypatch.setattr(
        TopFirstRanking, "start", lambda self, cancel, on_done=None: started.append(self)
    )
    data_dir = curve_dataset(tmp_path / "d", n=4000)
    settings = LabellerSettings(
        alpha=1.0, n_estimators=10, seed=0, strategy={"name": "paper"}, exact_first=20
    )
    data = LabellerData(data_dir, tmp_path / "l.csv", "ann", settings)
    by_s = data.order_rows("score")
    for r, v in zip(by_s[:12], [5, 0, 0, 4, 1, 2] * 2, strict=True):
        data.store.set(data.ids[r], v)
        data.labels_changed()
    res = data.retrain()
    top, exact = data.order_state("retrained", wait=False)
    assert not res["complete"] and 0 < exact < data.n
    started[-1].finish()
    full, n_exact = data.order_state("retrained")
    assert n_exact == data.n and np.array_equal(top[:exact], full[:exact])


def _full_retrain(data: LabellerData) -> np.ndarray:
    """S^ (n,) of the workflow's full retrain on the session's current labels."""
    cur = data.store.current()
    idx = np.array([data.index[k] for k in cur])
    lab = np.array([float(v) for v in cur.values()])
    strategy = PaperScore(seed=0, n_estimators=10, alpha=1.0)
    return refit_strategy(strategy, np.asarray(data.X), np.asarray(data.S), idx, lab)


def test_the_ranking_after_labels_come_and_go_is_the_full_retrain(tmp_path):
    data_dir = curve_dataset(tmp_path / "d", n=2500)
    data = LabellerData(data_dir, tmp_path / "l.csv", "ann", SETTINGS)
    rng = np.random.default_rng(5)
    by_s = data.order_rows("score")
    steps = [("set", int(r), int(rng.integers(0, 6))) for r in by_s[:25]]
    steps[8:8] = [("del", int(by_s[2]), 0), ("del", int(by_s[5]), 0)]
    steps[20:20] = [("del", int(by_s[11]), 0)]
    for k, (what, row, value) in enumerate(steps):
        oid = str(data.ids[row])
        if what == "set":
            data.store.set(oid, value)
            data.labels_changed()
        else:
            data.unlabel(oid)
        if k % 9 != 8:
            continue
        data.retrain()
        rows, exact = data.order_state("retrained")
        want = _full_retrain(data)
        assert exact == data.n and np.array_equal(rows, rank_order(want)), k
        shown = data.scores_of(np.arange(data.n))
        assert np.array_equal(shown, want), k


def test_a_retrain_from_the_forest_fitted_in_the_background_is_the_full_retrain(tmp_path):
    data_dir = curve_dataset(tmp_path / "d", n=2500)
    data = LabellerData(data_dir, tmp_path / "l.csv", "ann", SETTINGS)
    by_s = data.order_rows("score")
    for r, v in zip(by_s[:15], [5, 0, 3, 1, 4] * 3, strict=True):
        data.store.set(str(data.ids[r]), v)
    data.prefit()  # what the distance worker does after a label change
    assert data.retrain()["prefitted"] is True
    rows, _ = data.order_state("retrained")
    want = _full_retrain(data)
    assert np.array_equal(rows, rank_order(want))
    assert np.array_equal(data.scores_of(np.arange(data.n)), want)
    # a label the forest fitted beforehand has not seen (the worker is not woken): not used
    data.store.set(str(data.ids[by_s[20]]), 2)
    assert data._prefitted(*label_arrays(data.training_labels(), data.index)) is None
    assert data.retrain()["prefitted"] is False
    rows, _ = data.order_state("retrained")
    assert np.array_equal(rows, rank_order(_full_retrain(data)))


def test_relevance_model_uses_the_compiled_forest_with_the_same_values():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 4)).astype(np.float32)
    lab = rng.choice(5000, 60, replace=False)
    y = rng.integers(0, 6, 60).astype(np.float64)
    model = RelevanceLearner(n_estimators=8, seed=0, n_jobs=2).fit(X, lab, y)
    got = model.predict(X)
    want = np.clip(model.forest.predict(X), 0, 5)  # scikit-learn's own walk
    want[lab] = y
    assert np.array_equal(got, want)


def test_map_is_built_once_per_feature_table_and_shows_every_label(tmp_path, monkeypatch):
    import astroanom.evaluate.embedding as emb

    data_dir = curve_dataset(tmp_path / "d", n=200, embedding=False)
    settings = LabellerSettings(
        alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"}, embedding_max=30
    )
    data = LabellerData(data_dir, tmp_path / "l.csv", "ann", settings)
    first = data.embedding()
    assert len(first) == 30 and list((data_dir / CACHE_DIR).glob("map-*.npy"))
    outside = next(r for r in range(200) if r not in set(first["row"]))
    data.store.set(str(data.ids[outside]), 4)

    def no_tsne(*args, **kwargs):
        raise AssertionError("the map was computed again")

    monkeypatch.setattr(emb, "tsne_map", no_tsne)
    again = LabellerData(data_dir, tmp_path / "l.csv", "ann", settings).embedding()
    assert len(again) == 31 and np.array_equal(again["x"][:30], first["x"])
    X = np.asarray(data.X, dtype=np.float64)
    sample = first["row"].to_numpy()
    nearest = sample[np.argmin(((X[sample] - X[outside]) ** 2).sum(axis=1))]
    got = again.iloc[30]
    assert got["row"] == outside and got["id"] == str(data.ids[outside])
    at = first.set_index("row").loc[nearest]
    assert (got["x"], got["y"]) == (at["x"], at["y"])


def test_known_ids_are_looked_up_in_the_id_index(tmp_path):
    from dataclasses import replace

    data_dir = curve_dataset(tmp_path / "d", n=300)
    known = replace(SETTINGS, known={"7": 5, "12": 3})
    data = LabellerData(data_dir, tmp_path / "l.csv", "ann", known)
    assert data.known == {"7": 5, "12": 3}
    bad = replace(SETTINGS, known={"7": 5, "ghost": 5, "nope ": 1})
    with pytest.raises(UnknownIdError, match=r"2 known example id\(s\) .*'ghost', 'nope '"):
        LabellerData(data_dir, tmp_path / "l2.csv", "ann", bad)


def test_curve_png_is_the_kinds_view_drawn_from_the_mapped_columns(tmp_path):
    from astroanom import kinds
    from astroanom.kinds.base import RunObjects

    data_dir = curve_dataset(tmp_path / "d", n=300)
    run = RunObjects.open(data_dir)
    want = [kinds.get("curve").labeller_view(run)(oid, {}) for oid in ("7", "3")]
    data = LabellerData(data_dir, tmp_path / "l.csv", "ann", SETTINGS)
    (data_dir / ds.FEATURES).unlink()  # the columns are mapped from the cache: never read again
    assert [data.png("7"), data.png("3")] == want  # the same PNG bytes as the kind's own view
    with pytest.raises(UnknownIdError):
        data.png("nope")
