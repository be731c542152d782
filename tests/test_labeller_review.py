"""The review tools' server side: orders by any feature or metadata column (both directions,
missing values last), the label a change replaced (for undo), internal paths shortened, and
light curves folded on a known or a Lomb-Scargle period, with a switch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from labeller_helpers import curve_dataset

from astroanom.labeller import LabellerSettings, create_app
from astroanom.labeller.views.light_curve import lomb_scargle_period
from astroanom.store import dataset as ds
from astroanom.store.io import feature_frame, read_features, write_parquet

SETTINGS = LabellerSettings(alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"})
PNG = b"\x89PNG\r\n\x1a\n"


def _post(client, url, body, token):
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRF-Token": token, "Origin": "http://localhost"},
    )


@pytest.fixture(scope="module")
def curves(tmp_path_factory) -> Path:
    d = curve_dataset(tmp_path_factory.mktemp("curves"))
    obj = pd.read_parquet(d / ds.OBJECTS)
    obj["omega"] = obj["omega"].where(obj["id"] % 10 != 3)  # rows 3, 13, ... have no value
    obj["name"] = [f"n{(7 * i) % 120:03d}" for i in obj["id"]]
    write_parquet(obj, d / ds.OBJECTS)
    return d


@pytest.fixture
def env(curves, tmp_path):
    app = create_app(curves, tmp_path / "labels" / "bob.csv", "bob", SETTINGS)
    return app.test_client(), app.config["CSRF_TOKEN"]


def _ids(client, query: str) -> list[str]:
    resp = client.get(f"/api/order?{query}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["ids"]


def test_orders_by_a_feature_column_both_ways(env, curves):
    client, _ = env
    info = client.get("/api/info").get_json()
    assert info["sort_columns"]["meta"] == ["class", "omega", "name"]
    assert len(info["sort_columns"]["feature"]) == 40
    name = info["sort_columns"]["feature"][7]
    _, X = read_features(curves / ds.FEATURES)
    col = X[:, 7].astype(np.float64)
    down = _ids(client, f"by=feature:{name}&dir=desc")
    up = _ids(client, f"by=feature:{name}")  # dir defaults to desc
    assert down == up
    assert [col[int(i)] for i in down] == sorted(col, reverse=True)
    asc = _ids(client, f"by=feature:{name}&dir=asc")
    assert [col[int(i)] for i in asc] == sorted(col)


def test_metadata_orders_put_missing_values_last_and_sort_text(env, curves):
    client, _ = env
    obj = pd.read_parquet(curves / ds.OBJECTS)
    missing = {str(i) for i in obj["id"][obj["omega"].isna()]}
    assert len(missing) == 12
    for direction in ("asc", "desc"):
        ids = _ids(client, f"by=meta:omega&dir={direction}")
        assert set(ids[-12:]) == missing  # missing last either way
        vals = obj.set_index(obj["id"].astype(str)).loc[ids[:-12], "omega"].to_numpy()
        assert np.all(np.diff(vals) >= 0) if direction == "asc" else np.all(np.diff(vals) <= 0)
    by_name = _ids(client, "by=meta:name&dir=asc")
    assert by_name[:3] == ["0", "103", "86"]  # n000, n001 (7*103 % 120 = 1), n002 (7*86 = 602)
    # class: 0 for most, 2 for the first 12; stable ties keep the row order
    by_class = _ids(client, "by=meta:class&dir=desc")
    assert by_class[:12] == [str(i) for i in range(12)] and by_class[12] == "12"


def test_column_orders_keep_unlabelled_first_and_refuse_unknown_columns(env):
    client, token = env
    ids = _ids(client, "by=meta:omega&dir=asc")
    _post(client, "/api/label", {"id": ids[0], "label": 4}, token)
    first = _ids(client, "by=meta:omega&dir=asc&unlabelled_first=1")
    assert first == ids[1:] + [ids[0]]
    for bad in ("by=feature:nope", "by=meta:image_path", "by=meta:", "by=omega"):
        r = client.get(f"/api/order?{bad}")
        assert r.status_code == 400 and "sort_columns" in r.get_json()["error"]
    r = client.get("/api/order?by=score&dir=up")
    assert r.status_code == 400 and "asc or desc" in r.get_json()["error"]
    rows = client.get("/api/order?by=score&dir=asc&format=rows").get_data()
    desc = client.get("/api/order?by=score&format=rows").get_data()
    assert np.array_equal(np.frombuffer(rows, "<i4"), np.frombuffer(desc, "<i4")[::-1])


def test_label_answers_say_what_they_replaced(env):
    client, token = env
    assert (
        _post(client, "/api/label", {"id": "5", "label": 2}, token).get_json()["previous"] is None
    )
    assert _post(client, "/api/label", {"id": "5", "label": 4}, token).get_json()["previous"] == 2
    gone = _post(client, "/api/unlabel", {"id": "5"}, token).get_json()
    assert gone["removed"] is True and gone["previous"] == 4
    again = _post(client, "/api/unlabel", {"id": "5"}, token).get_json()
    assert again["removed"] is False and again["previous"] is None


def _lc_dataset(d: Path) -> None:
    """Two light curves of period 0.5 (s0: given in the period column; s1: not given)."""
    d.mkdir()
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 30, 200))
    value = 15 + 0.3 * np.sin(2 * np.pi * t / 0.5) + rng.normal(0, 0.02, t.size)
    curves = pd.DataFrame(
        {"id": np.repeat(["s0", "s1"], t.size), "band": "V", "time": np.tile(t, 2),
         "value": np.tile(value, 2), "err": 0.02}
    )  # fmt: skip
    curves.to_parquet(d / "light_curves.parquet")
    ids = ["s0", "s1"]
    write_parquet(feature_frame(np.array(ids), rng.normal(size=(2, 3))), d / ds.FEATURES)
    objects = pd.DataFrame(
        {"id": ids, "lc_path": str(d / "light_curves.parquet"), "value_kind": "mag",
         "period": [0.5, np.nan]}
    )  # fmt: skip
    write_parquet(objects, d / ds.OBJECTS)
    write_parquet(pd.DataFrame({"id": ids, "raw": [0.0, 1.0], "S": [1.0, 2.0]}), d / ds.SCORES)
    ds.DatasetInfo(name="lc", kind="light_curve", x_label="MJD").write(d)


def test_light_curves_fold_on_their_period_with_a_switch(tmp_path):
    d = tmp_path / "lc"
    _lc_dataset(d)
    client = create_app(d, tmp_path / "l.csv", "ann", SETTINGS).test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'name="can-fold" content="1"' in page and 'id="fold"' in page
    meta = client.get("/api/object?id=s0").get_json()["metadata"]
    assert meta["lc_path"] == "light_curves.parquet"  # the file name, not the internal path
    for oid in ("s0", "s1"):
        folded = client.get(f"/api/plot?id={oid}").data
        plain = client.get(f"/api/plot?id={oid}&fold=off").data
        assert folded.startswith(PNG) and plain.startswith(PNG) and folded != plain
    assert client.get("/api/plot?id=s0&fold=on").data == client.get("/api/plot?id=s0").data
    bad = client.get("/api/plot?id=s0&fold=maybe")
    assert bad.status_code == 400 and "fold" in bad.get_json()["error"]


def test_lomb_scargle_finds_the_period_or_none():
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 50, 300))
    sine = pd.DataFrame({"band": "V", "time": t, "err": 0.05,
                         "value": 14 + 0.4 * np.sin(2 * np.pi * t / 2.7) + rng.normal(0, 0.05, t.size)})  # fmt: skip
    assert lomb_scargle_period(sine) == pytest.approx(2.7, rel=0.01)
    noise = sine.assign(value=rng.normal(14, 0.05, t.size))
    assert lomb_scargle_period(noise) is None
    assert lomb_scargle_period(sine.iloc[:10]) is None  # too few points


def test_curve_pages_cannot_fold(env):
    client, _ = env
    page = client.get("/").get_data(as_text=True)
    assert 'name="can-fold" content="0"' in page and 'id="fold"' not in page
    for control in ('id="undo"', 'id="unlabel"', 'id="order-dir"', 'id="position"', 'id="grid"'):
        assert control in page
