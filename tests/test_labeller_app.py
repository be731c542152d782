"""The labeller's Flask app through the test client: every endpoint, good and bad input, guards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from labeller_helpers import curve_dataset, image_dataset

from astroanom.active.score import RelevanceLearner
from astroanom.labeller import LabellerSettings, create_app
from astroanom.ordering import rank_order
from astroanom.store.io import read_features
from astroanom.store.labels import log_path_for, read_labels

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SETTINGS = LabellerSettings(alpha=1.0, n_estimators=20, seed=0, strategy={"name": "paper"})


@pytest.fixture(scope="module")
def curves(tmp_path_factory) -> Path:
    return curve_dataset(tmp_path_factory.mktemp("curves"))


@pytest.fixture
def app_env(curves, tmp_path):
    labels = tmp_path / "labels" / "alice.csv"
    app = create_app(curves, labels, "alice", SETTINGS)
    client = app.test_client()
    token = app.config["CSRF_TOKEN"]
    return app, client, token, labels


def post(client, url, body, token, **headers):
    if "Origin" not in headers and "Referer" not in headers:
        headers["Origin"] = "http://localhost"  # what a browser's fetch POST sends
    return client.post(
        url,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRF-Token": token, **headers},
    )


def test_page_has_token_controls_and_strict_headers(app_env):
    app, client, token, _ = app_env
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'content="{token}"' in html
    for control in (
        'data-label="0"',
        'data-label="5"',
        'id="retrain"',
        'id="delete-labels"',
        'id="order"',
        'id="unlabelled-first"',
        'id="jump"',
        'id="map"',
        'id="progress-labelled"',
    ):
        assert control in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert client.get("/static/app.js").status_code == 200
    assert app.debug is False


def test_info_and_orders(app_env, curves):
    _, client, _, labels = app_env
    info = client.get("/api/info").get_json()
    assert info["kind"] == "curve" and info["total"] == 120 and info["labelled"] == 0
    assert info["labels_file"] == str(labels) and info["user"] == "alice"
    S = np.asarray(__import__("pandas").read_parquet(curves / "scores.parquet")["S"])
    by_s = client.get("/api/order?by=score").get_json()["ids"]
    assert by_s == [str(i) for i in rank_order(S)]
    assert client.get("/api/order?by=retrained").get_json()["ids"] == by_s  # no retrain yet: S
    rnd = client.get("/api/order?by=random").get_json()["ids"]
    assert sorted(rnd) == sorted(by_s) and rnd != by_s
    assert client.get("/api/order?by=random").get_json()["ids"] == rnd  # stable across reloads
    bad = client.get("/api/order?by=evil")
    assert bad.status_code == 400 and "unknown order" in bad.get_json()["error"]


def test_object_and_plot(app_env):
    _, client, _, _ = app_env
    obj = client.get("/api/object?id=5").get_json()
    assert obj["id"] == "5" and obj["label"] is None and obj["U"] is None and obj["score"] is None
    assert set(obj["metadata"]) == {"class", "omega"} and obj["n_features"] == 40
    assert len(obj["features"]) == 40 and obj["features"][0][0] == "f000"
    png = client.get("/api/plot?id=5")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(PNG_MAGIC)
    assert client.get("/api/plot?id=5").data == png.data  # served from the cache
    for bad in ("999", "../../etc/passwd", "/etc/passwd", "5/../6", ""):
        for url in ("/api/object", "/api/plot"):
            resp = client.get(url, query_string={"id": bad})
            assert resp.status_code == 404, (url, bad)
            assert "not an object of this dataset" in resp.get_json()["error"]
    assert client.get("/api/object").status_code == 400


def test_label_good_and_bad(app_env):
    _, client, token, labels = app_env
    ok = post(client, "/api/label", {"id": "7", "label": 4}, token)
    assert ok.status_code == 200 and ok.get_json()["labelled"] == 1
    assert read_labels(labels)[["id", "label", "user"]].values.tolist() == [["7", 4, "alice"]]
    assert client.get("/api/object?id=7").get_json()["label"] == 4
    before = labels.read_bytes()
    for body, status, words in [
        ({"id": "7", "label": 6}, 400, "integer from 0 to 5"),
        ({"id": "7", "label": -1}, 400, "integer from 0 to 5"),
        ({"id": "7", "label": 2.5}, 400, "integer from 0 to 5"),
        ({"id": "7", "label": "three"}, 400, "integer from 0 to 5"),
        ({"id": "7", "label": True}, 400, "integer from 0 to 5"),
        ({"id": "7", "label": None}, 400, "integer from 0 to 5"),
        ({"id": "7"}, 400, "send"),
        ({"id": "4242", "label": 1}, 404, "not an object"),
        ({"id": "../x", "label": 1}, 404, "not an object"),
        ({"id": ["7"], "label": 1}, 404, "must be a string"),
    ]:
        resp = post(client, "/api/label", body, token)
        assert resp.status_code == status, body
        assert words in resp.get_json()["error"], body
    resp = client.post(
        "/api/label",
        data="[1, 2]",
        content_type="application/json",
        headers={"X-CSRF-Token": token, "Origin": "http://localhost"},
    )
    assert resp.status_code == 400 and "JSON object" in resp.get_json()["error"]
    resp = client.post(
        "/api/label",
        data="id=7&label=1",
        headers={"X-CSRF-Token": token, "Origin": "http://localhost"},
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 415
    big = post(client, "/api/label", {"id": "7", "label": 1, "pad": "x" * 20000}, token)
    assert big.status_code == 413
    assert labels.read_bytes() == before  # nothing changed


def test_posts_need_token_and_same_origin(app_env):
    _, client, token, labels = app_env
    body = {"id": "1", "label": 1}
    assert post(client, "/api/label", body, "").status_code == 403
    assert post(client, "/api/label", body, "wrong").status_code == 403
    r = post(client, "/api/label", body, token, Origin="http://evil.example")
    assert r.status_code == 403 and "cross-origin" in r.get_json()["error"]
    assert post(client, "/api/label", body, token, Origin="null").status_code == 403
    assert (
        post(client, "/api/label", body, token, Referer="http://evil.example/page").status_code
        == 403
    )
    assert read_labels(labels).empty
    assert post(client, "/api/label", body, token, Origin="http://localhost").status_code == 200
    assert post(client, "/api/label", body, token, Referer="http://localhost/").status_code == 200
    # DNS rebinding: a foreign Host name is refused even for GETs
    assert client.get("/api/info", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/info", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/api/label").status_code == 405


def test_unlabel_delete_all_and_labels_listing(app_env):
    _, client, token, labels = app_env
    for oid, lab in (("1", 5), ("2", 0), ("3", 3)):
        post(client, "/api/label", {"id": oid, "label": lab}, token)
    listing = client.get("/api/labels").get_json()
    assert [(r["id"], r["label"]) for r in listing["labels"]] == [("1", 5), ("2", 0), ("3", 3)]
    r = post(client, "/api/unlabel", {"id": "2"}, token)
    assert r.get_json() == {
        "id": "2",
        "removed": True,
        "previous": 0,
        "labelled": 2,
        "total": 120,
    }
    assert post(client, "/api/unlabel", {"id": "nope"}, token).status_code == 404
    refused = post(client, "/api/labels/delete", {}, token)
    assert refused.status_code == 400 and "confirm" in refused.get_json()["error"]
    assert len(read_labels(labels)) == 2
    done = post(client, "/api/labels/delete", {"confirm": True}, token)
    assert done.get_json()["removed"] == 2 and read_labels(labels).empty
    assert "clear" in log_path_for(labels).read_text()


def test_retrain_uses_the_workflow_learner_and_reorders(app_env, curves):
    _, client, token, _ = app_env
    before = client.get("/api/order?by=retrained").get_json()["ids"]
    empty = post(client, "/api/retrain", {}, token).get_json()
    assert empty["n_labels"] == 0
    labelled = {before[0]: 0, before[1]: 0, "110": 5}
    for oid, lab in labelled.items():
        post(client, "/api/label", {"id": oid, "label": lab}, token)
    res = post(client, "/api/retrain", {}, token).get_json()
    assert res["n_labels"] == 3
    after = client.get("/api/order?by=retrained").get_json()["ids"]
    _, X = read_features(curves / "features.parquet")
    S = np.asarray(__import__("pandas").read_parquet(curves / "scores.parquet")["S"])
    direct = RelevanceLearner(n_estimators=20, seed=0).retrain(
        X,
        S,
        np.array([int(k) for k in labelled]),
        np.array(list(labelled.values()), dtype=float),
        alpha=1.0,
    )
    assert after == [str(i) for i in rank_order(direct.score)]
    assert after != before
    obj = client.get(f"/api/object?id={before[0]}").get_json()
    assert obj["label"] == 0 and obj["U"] == 0 and obj["d"] == 0
    assert obj["score"] == pytest.approx(S[int(before[0])] * 0.1)  # S * U~ with U = 0
    first = client.get("/api/order?by=score&unlabelled_first=1").get_json()["ids"]
    assert set(first[-3:]) == set(labelled) and set(first[:-3]).isdisjoint(labelled)


def test_map_reads_embedding_parquet(app_env):
    _, client, token, _ = app_env
    post(client, "/api/label", {"id": "9", "label": 2}, token)
    m = client.get("/api/map").get_json()
    assert m["source"] == "embedding.parquet" and len(m["id"]) == len(m["x"]) == len(m["S"]) == 120
    assert m["label"][m["id"].index("9")] == 2


def test_map_is_computed_when_absent_and_images_render(tmp_path):
    imgs = image_dataset(tmp_path / "imgs")
    app = create_app(
        imgs,
        tmp_path / "l.csv",
        "bob",
        LabellerSettings(
            alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"}, embedding_max=100
        ),
    )
    client = app.test_client()
    obj = client.get("/api/object?id=gal_002").get_json()
    assert obj["metadata"]["image_path"] == "gal_002.png"  # the file name only, no path
    png = client.get("/api/plot?id=gal_002")
    assert png.status_code == 200 and png.data.startswith(PNG_MAGIC)
    import cv2

    decoded = cv2.imdecode(np.frombuffer(png.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape == (48, 48, 3) and decoded[24, 24].max() > 200 and decoded[0, 0].max() < 30
    m = client.get("/api/map").get_json()
    assert m["source"] == "t-SNE (computed)" and sorted(m["id"]) == [
        f"gal_{k:03d}" for k in range(6)
    ]
    assert np.isfinite(m["x"]).all()


def test_cli_opens_a_dataset_by_name_through_the_validated_config(tmp_path, capsys, monkeypatch):
    from astroanom.cli import load_config, main, resolve_run

    monkeypatch.chdir(tmp_path)
    cfg_file = tmp_path / "mine.yaml"
    cfg_file.write_text(
        "seeds: [3]\ndatasets:\n  d: {source: {kind: images, path: imgs}}\n"
        "  e: {source: {kind: images, path: imgs}}\n"
    )
    cfg = load_config([cfg_file])
    run = resolve_run(cfg, "d")
    assert (run.path, run.seed) == ("d", 3)
    assert cfg["datasets"]["d"]["strategy"] == {"name": "paper", "optional": False}
    assert main(["label", "nope", "--configfile", str(cfg_file)]) == 1
    assert "unknown dataset 'nope'; this config has: d, e" in capsys.readouterr().err
    assert main(["label", "e", "--configfile", str(cfg_file)]) == 1
    assert (
        "results/e has no results yet: run `snakemake --cores all --configfile mine.yaml` first"
        in (capsys.readouterr().err)
    )
    curve_dataset(tmp_path / "results" / "d", n=20, embedding=False)
    assert main(["label", "d", "--configfile", str(cfg_file), "--user", "../evil"]) == 1
    assert "not allowed" in capsys.readouterr().err
    assert main(["label", "d", "--configfile", str(cfg_file), "--port", "70000"]) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets:\n  d: {source: {kind: images, path: imgs}\n")
    assert main(["label", "d", "--configfile", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml line" in err and "YAML syntax error" in err
    assert main([]) == 2


def test_truth_is_hidden_unless_asked(tmp_path):
    import pandas as pd

    d = curve_dataset(tmp_path / "d", n=20, embedding=False)
    truth = pd.DataFrame(
        {"id": range(20), "value": 1.0, "known": True, "is_anomaly": False, "class": 1}
    )
    truth.to_parquet(d / "truth.parquet")
    for show in (False, True):
        settings = LabellerSettings(
            alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"}, show_truth=show
        )
        meta = create_app(d, tmp_path / f"{show}.csv", "ann", settings).test_client()
        obj = meta.get("/api/object?id=4").get_json()["metadata"]
        assert ("truth_class" in obj) is show and ("truth_is_anomaly" in obj) is show
