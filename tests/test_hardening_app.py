"""Issue 9 hardening of the labeller's HTTP guards: nested JSON, chunked bodies, POSTs without
Origin or Referer."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from labeller_helpers import curve_dataset

from astroanom.labeller import LabellerSettings, create_app
from astroanom.labeller.app import MAX_BODY_BYTES, json_depth
from astroanom.labeller.server import start
from astroanom.store.labels import read_labels

SETTINGS = LabellerSettings(alpha=1.0, n_estimators=5, seed=0, strategy={"name": "paper"})
LOCAL = "http://localhost"


@pytest.fixture(scope="module")
def curves(tmp_path_factory) -> Path:
    return curve_dataset(tmp_path_factory.mktemp("curves"), n=30)


@pytest.fixture
def client_env(curves, tmp_path):
    labels = tmp_path / "alice.csv"
    app = create_app(curves, labels, "alice", SETTINGS)
    return app.test_client(), app.config["CSRF_TOKEN"], labels


def raw_post(client, token, data, **headers):
    return client.post(
        "/api/label",
        data=data,
        content_type="application/json",
        headers={"X-CSRF-Token": token, **headers},
    )


@pytest.mark.parametrize(
    "text, depth",
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"id": "[[[[{{{{", "x": "\\"[["}', 1),
        (b"[" * 40 + b"]" * 40, 40),
    ],
)
def test_json_depth(text, depth):
    assert json_depth(text) == depth


def test_deeply_nested_json_is_a_400_not_a_500(client_env):
    client, token, labels = client_env
    for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
        for depth in (33, 2500):
            body = opener * depth + b"1" + closer * depth
            assert len(body) <= MAX_BODY_BYTES
            resp = raw_post(client, token, body, Origin=LOCAL)
            assert resp.status_code == 400, (opener, depth)
            assert "nested more than 32 levels" in resp.get_json()["error"]
    # brackets inside strings are text, not nesting: the id is looked up (and unknown)
    resp = raw_post(client, token, json.dumps({"id": "[" * 100, "label": 1}), Origin=LOCAL)
    assert resp.status_code == 404
    assert read_labels(labels).empty


def test_post_without_origin_or_referer_is_refused(client_env):
    client, token, labels = client_env
    body = json.dumps({"id": "3", "label": 2})
    resp = raw_post(client, token, body)
    assert resp.status_code == 403
    assert "Origin or Referer" in resp.get_json()["error"]
    assert read_labels(labels).empty
    assert raw_post(client, token, body, Origin=LOCAL).status_code == 200
    assert raw_post(client, token, body, Referer=LOCAL + "/").status_code == 200
    # GETs need neither
    assert client.get("/api/labels").status_code == 200


def test_page_js_posts_with_fetch_from_the_same_origin():
    """Browsers add Origin to every fetch POST: the page must POST with fetch to a relative path
    (same origin), never with a form or an absolute URL."""
    js = (Path(__file__).parents[1] / "src/astroanom/labeller/static/app.js").read_text(
        encoding="utf-8"
    )
    assert 'method: "POST"' in js and "await fetch(path, opts)" in js
    assert "http://" not in js and "https://" not in js


def _chunked_post(url_port: int, token: str, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", url_port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/label",
            body=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]),
            headers={
                "Content-Type": "application/json",
                "X-CSRF-Token": token,
                "Origin": f"http://127.0.0.1:{url_port}",
            },
            encode_chunked=True,
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_oversized_chunked_body_is_a_413(curves, tmp_path):
    running = start(curves, tmp_path / "bob.csv", "bob", settings=SETTINGS)
    try:
        port, token = running.server.port, running.server.app.config["CSRF_TOKEN"]
        big = json.dumps({"id": "1", "label": 1, "pad": "x" * 100_000}).encode()
        status, out = _chunked_post(port, token, big)
        assert status == 413 and "larger than 16384 bytes" in out["error"]
        edge = json.dumps({"id": "1", "label": 1, "pad": ""}).encode()
        edge = edge[:-2] + b"x" * (MAX_BODY_BYTES - len(edge)) + b'"}'
        assert len(edge) == MAX_BODY_BYTES
        status, out = _chunked_post(port, token, edge)  # exactly at the limit: accepted
        assert status == 200 and out["label"] == 1
        status, out = _chunked_post(port, token, json.dumps({"id": "2", "label": 3}).encode())
        assert status == 200 and out["labelled"] == 2
    finally:
        running.stop()
    assert read_labels(tmp_path / "bob.csv")["id"].tolist() == ["1", "2"]
