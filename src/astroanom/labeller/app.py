"""The Flask application of the labeller: one page, a small JSON API, and its guards.

Endpoints (all JSON unless noted; ids travel as query or body values, never as file names):

- ``GET  /``                         the page (HTML)
- ``GET  /api/info``                 dataset, user, label file, counts, orders
- ``GET  /api/order?by=&unlabelled_first=&offset=&limit=&partial=``   ids in display order (a
  page of them with offset/limit; with ``format=rows`` the rows instead, as little-endian int32
  bytes, counts in the X-Labelled / X-Total / X-Exact headers: 4 bytes per object). Right after
  a retrain only the top of the S^ order may be ranked yet: the order waits for the rest unless
  ``partial=1``, which answers at once with the certain top first (``exact`` of them) and the
  others in decreasing S behind them
- ``GET  /api/ids``                  every id in row order (what ``format=rows`` indexes)
- ``GET  /api/object?id=``           scores, label, metadata and features of one object
- ``GET  /api/plot?id=``             the object as a PNG (image or curve), cached
- ``GET  /api/labels``               the current labels
- ``POST /api/label``    {id, label}       set a label (integer 0..5)
- ``POST /api/unlabel``  {id}              remove one label
- ``POST /api/labels/delete`` {confirm: true}   remove all of this user's labels (logged)
- ``POST /api/retrain``                    recompute S^ with the current labels; answers
  once the top of the new order is certain (``exact``; ``complete`` when all of it is)
- ``GET  /api/map``                  the 2-D map coloured by S and S^

Every POST must carry the page's ``X-CSRF-Token`` header, a JSON body of at most 16 KiB (also
when sent chunked; else 413) nested at most 32 levels deep, and an Origin or Referer header of
this very server (browsers send Origin on every fetch POST; a POST with neither is refused);
the Host header must be a loopback name unless the server was deliberately bound elsewhere.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from astroanom import __version__
from astroanom.errors import AstroanomError, LabelsError
from astroanom.labeller.data import ORDERS, LabellerData, LabellerSettings, PathLike, UnknownIdError

log = logging.getLogger("astroanom.labeller")
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32  # the API's bodies are flat objects; deeper nesting is refused with a 400
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_TRUE = {"1", "true", "yes", "on"}


def _hostname(netloc: str) -> str:
    """Host name of a ``host[:port]`` string, without IPv6 brackets, lower case."""
    host = netloc.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _read_body(limit: int) -> bytes:
    """At most ``limit`` bytes of the request body.

    A chunked body (no Content-Length) is read from the server's de-chunked input, which ends
    with the body, so a body of exactly the maximum size is told apart from a longer one;
    werkzeug's guarded stream is used otherwise (it raises 413 for a Content-Length too large).
    """
    env = request.environ
    if request.content_length is None and env.get("wsgi.input_terminated"):
        stream, parts, got = env["wsgi.input"], [], 0
        while got < limit:
            block = stream.read(limit - got)
            if not block:
                break
            parts.append(block)
            got += len(block)
        return b"".join(parts)
    return request.stream.read(limit)


def json_depth(raw: bytes) -> int:
    """Deepest nesting of ``[``/``{`` in a JSON text (brackets inside strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def create_app(
    dataset_dir: PathLike,
    labels_path: PathLike,
    user: str = "default",
    settings: LabellerSettings | None = None,
    allowed_hosts: Collection[str] | None = LOOPBACK_NAMES,
    data: LabellerData | None = None,
) -> Flask:
    """Build the labeller for one dataset directory and one user's label file.

    ``allowed_hosts`` are the accepted Host header names (None accepts any, for a server bound
    to a non-loopback address on purpose).
    """
    here = Path(__file__).parent
    app = Flask(
        __name__, template_folder=str(here / "templates"), static_folder=str(here / "static")
    )
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        DEBUG=False,
        TESTING=False,
        PROPAGATE_EXCEPTIONS=False,
        SEND_FILE_MAX_AGE_DEFAULT=0,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    state = data or LabellerData(dataset_dir, labels_path, user, settings)
    token = secrets.token_urlsafe(32)
    hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
    app.extensions["astroanom.labeller"] = state
    app.config["CSRF_TOKEN"] = token

    def fail(status: int, message: str) -> Response:
        resp = jsonify(error=message)
        resp.status_code = status
        return resp

    def body() -> dict[str, Any]:
        if not request.is_json:
            abort(fail(415, "send the request body as JSON (Content-Type: application/json)"))
        too_big = f"the request body is larger than {MAX_BODY_BYTES} bytes"
        try:
            raw = _read_body(MAX_BODY_BYTES + 1)
        except RequestEntityTooLarge:
            abort(fail(413, too_big))
        if len(raw) > MAX_BODY_BYTES:
            abort(fail(413, too_big))
        if json_depth(raw) > MAX_JSON_DEPTH:
            abort(fail(400, f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"))
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            payload = None
        if not isinstance(payload, dict):
            abort(fail(400, "the request body must be a JSON object"))
        return payload

    def counts() -> dict[str, int]:
        return {"labelled": len(state.store), "total": state.n}

    def ranking_state() -> dict[str, Any]:
        r = state.ranking
        return {
            "exact": state.n if r is None else int(r.n_exact),
            "complete": r is None or r.complete,
        }

    @app.before_request
    def guard() -> Response | None:
        if hosts is not None and _hostname(request.host) not in hosts:
            return fail(
                400, f"unexpected Host header {request.host!r}; open the URL the labeller printed"
            )
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        origin = request.headers.get("Origin")
        source = origin if origin and origin != "null" else request.headers.get("Referer")
        if origin == "null" or (source and urlsplit(source).netloc.lower() != request.host.lower()):
            return fail(403, "cross-origin request refused")
        if not source:
            return fail(
                403,
                "a POST needs an Origin or Referer header of this server (browsers send one); "
                "use the labeller's page",
            )
        sent = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return fail(403, "missing or wrong X-CSRF-Token header; reload the page")
        return None

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        if request.path.startswith("/api/") and request.path != "/api/plot":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        if err.response is not None:
            return err.response
        return fail(err.code or 500, err.description or err.name)

    @app.errorhandler(Exception)
    def server_error(err: Exception) -> Response:
        log.exception("request failed: %s %s", request.method, request.path)
        return fail(500, f"internal error: {type(err).__name__}: {err}")

    @app.get("/")
    def page() -> str:
        return render_template(
            "index.html",
            token=token,
            info=state.info,
            user=state.user,
            n=state.n,
            labels_file=str(state.store.path),
            version=__version__,
        )

    @app.get("/api/info")
    def info() -> Response:
        return jsonify(
            name=state.info.name,
            kind=state.info.kind,
            description=state.info.description,
            user=state.user,
            labels_file=str(state.store.path),
            n_features=int(state.X.shape[1]),
            orders=list(ORDERS),
            retrained_with=state.retrained_with,
            ranking=ranking_state(),
            curve_axis=state.curve_axis(),
            **counts(),
        )

    @app.get("/api/ids")
    def all_ids() -> Response:
        return Response(state.ids_json(), mimetype="application/json")

    @app.get("/api/order")
    def order() -> Response:
        by = request.args.get("by", "score")
        if by not in ORDERS:
            return fail(400, f"unknown order {by[:40]!r}; use one of {', '.join(ORDERS)}")
        first = request.args.get("unlabelled_first", "0").lower() in _TRUE
        partial = request.args.get("partial", "0").lower() in _TRUE
        rows, exact = state.order_state(by, first, wait=not partial)
        if request.args.get("format", "ids") == "rows":
            resp = Response(
                rows.astype("<i4", copy=False).tobytes(), mimetype="application/octet-stream"
            )
            for k, v in {**counts(), "exact": exact}.items():
                resp.headers[f"X-{k.capitalize()}"] = str(v)
            return resp
        try:
            offset = int(request.args.get("offset", 0))
            limit = int(request.args.get("limit", state.n))
        except ValueError:
            return fail(400, "offset and limit must be integers")
        if offset < 0 or limit < 0:
            return fail(400, "offset and limit must not be negative")
        ids = state.ids[rows[offset : offset + limit]].tolist()
        return jsonify(
            by=by, unlabelled_first=first, offset=offset, ids=ids, exact=exact, **counts()
        )

    def object_id() -> str:
        oid = request.args.get("id")
        if oid is None:
            abort(fail(400, "give the object as ?id=..."))
        return oid

    @app.get("/api/object")
    def one_object() -> Response:
        try:
            return jsonify(state.describe(object_id()))
        except UnknownIdError as err:
            return fail(404, str(err))

    @app.get("/api/plot")
    def plot() -> Response:
        from astroanom.labeller.views.image import parse_display

        try:
            display = parse_display(request.args) if state.info.kind == "image" else {}
        except ValueError as err:
            return fail(400, str(err))
        try:
            png = state.png(object_id(), display)
        except UnknownIdError as err:
            return fail(404, str(err))
        except AstroanomError as err:
            return fail(500, str(err))
        resp = Response(png, mimetype="image/png")
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp

    @app.get("/api/labels")
    def labels() -> Response:
        recs = state.store.records()
        return jsonify(labels=[r.__dict__ for r in recs], **counts())

    @app.post("/api/label")
    def set_label() -> Response:
        payload = body()
        if "id" not in payload or "label" not in payload:
            return fail(400, 'send {"id": ..., "label": 0..5}')
        try:
            state.row(payload["id"])
            rec = state.store.set(payload["id"], payload["label"])
        except UnknownIdError as err:
            return fail(404, str(err))
        except LabelsError as err:
            return fail(400, str(err))
        return jsonify(id=rec.id, label=rec.label, user=rec.user, time=rec.time, **counts())

    @app.post("/api/unlabel")
    def unlabel() -> Response:
        payload = body()
        try:
            state.row(payload.get("id"))
            removed = state.store.delete(payload["id"])
        except UnknownIdError as err:
            return fail(404, str(err))
        return jsonify(id=str(payload["id"]), removed=removed, **counts())

    @app.post("/api/labels/delete")
    def delete_all() -> Response:
        payload = body()
        if payload.get("confirm") is not True:
            return fail(400, 'deleting all labels needs {"confirm": true}')
        removed = state.store.clear()
        state.retrain()
        log.warning(
            "user %s deleted all %d labels (kept in %s)", state.user, removed, state.store.log_path
        )
        return jsonify(removed=removed, **counts())

    @app.post("/api/retrain")
    def retrain() -> Response:
        body()
        try:
            result = state.retrain()
        except LabelsError as err:
            return fail(400, str(err))
        return jsonify(**result, **counts())

    @app.get("/api/map")
    def map_points() -> Response:
        return jsonify(state.map_points())

    return app
