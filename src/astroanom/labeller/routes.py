"""The labeller's routes, one small group per area: the page and its info, orders, one object
(its description and its plot), labels, retraining and the map. Each group registers on the
app and reads the session (:class:`astroanom.labeller.session.LabellerData`)."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from flask import Flask, Response, abort, jsonify, render_template, request

from astroanom import __version__
from astroanom.errors import AstroanomError, LabelsError
from astroanom.labeller.guards import fail, json_body
from astroanom.labeller.render import BadDisplayError
from astroanom.labeller.session import ORDERS, LabellerData, UnknownIdError
from astroanom.store.labels import LabelsReadOnlyError

log = logging.getLogger("astroanom.labeller")
_TRUE = {"1", "true", "yes", "on"}


def _counts(state: LabellerData) -> dict[str, int]:
    return {"labelled": len(state.store), "total": state.n}


def _ranking_state(state: LabellerData) -> dict[str, Any]:
    r = state.ranking
    return {"exact": state.n if r is None else int(r.n_exact), "complete": r is None or r.complete}


def _object_id() -> str:
    oid = request.args.get("id")
    if oid is None:
        abort(fail(400, "give the object as ?id=..."))
    return oid


def page_routes(app: Flask, state: LabellerData, token: str) -> None:
    """``GET /`` (the page with its CSRF token) and ``GET /api/info``."""

    @app.get("/")
    def page() -> str:
        return render_template(
            "index.html",
            token=token,
            info=state.info,
            view=state.view,
            read_only=state.read_only,
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
            read_only=state.read_only,
            n_features=int(state.X.shape[1]),
            orders=list(ORDERS),
            sort_columns=state.sort_columns(),
            retrained_with=state.retrained_with,
            n_known=len(state.known),  # known examples: in every retrain, not in the label file
            stale=state.stale(),
            ranking=_ranking_state(state),
            # the distances and the forest follow the last label change (a retrain need not wait)
            retrain_ready=not state.distances.pending(),
            curve_axis=state.curve_axis(),
            **_counts(state),
        )


def _page() -> tuple[int, int | None]:
    """``offset`` and ``limit`` of a paged request (``limit`` None: to the end); aborts with
    400 for a value that is not a non-negative integer."""
    try:
        offset = int(request.args.get("offset", 0))
        limit = request.args.get("limit")
        limit_n = None if limit is None else int(limit)
    except ValueError:
        abort(fail(400, "offset and limit must be integers"))
    if offset < 0 or (limit_n is not None and limit_n < 0):
        abort(fail(400, "offset and limit must not be negative"))
    return offset, limit_n


#: ids per chunk of a streamed answer (``/api/ids``, ``/api/order`` as JSON)
IDS_CHUNK = 1 << 16


def _json_with_ids(
    head: dict[str, Any], ids: np.ndarray, rows: np.ndarray | None = None
) -> Response:
    """``{**head, "ids": [...]}`` as JSON: ``ids`` (or ``ids[rows]``, gathered chunk by chunk),
    encoded and sent ``IDS_CHUNK`` at a time, so ten million ids never become one Python list,
    one string or one reordered copy of the id array (320 MB at 10M) in the server."""
    size = ids.size if rows is None else rows.size

    def parts():
        yield json.dumps(head)[:-1].encode() + (b', "ids": [' if head else b'"ids": [')
        for start in range(0, size, IDS_CHUNK):
            part = slice(start, start + IDS_CHUNK)
            values = ids[part] if rows is None else ids[rows[part]]
            chunk = json.dumps(values.tolist(), separators=(",", ":"))
            yield ("," if start else "").encode() + chunk[1:-1].encode()
        yield b"]}"

    return Response(parts(), mimetype="application/json")


def order_routes(app: Flask, state: LabellerData) -> None:
    """``GET /api/ids`` (JSON, or text: one id per line, streamed; both paged) and
    ``GET /api/order`` (ids paged as JSON, or rows as int32 bytes, paged too)."""

    @app.get("/api/ids")
    def all_ids() -> Response:
        offset, limit = _page()
        fmt = request.args.get("format", "json")
        if fmt not in ("json", "text"):
            return fail(400, f"format must be json or text, not {fmt[:20]!r}")
        if fmt == "json":
            ids = state.ids_page(offset, limit)
            return _json_with_ids({"offset": offset, "total": state.n}, ids)
        if not state.ids_text_ok():
            return fail(400, "an id holds a line break: ask for format=json")
        ids = state.ids_page(offset, limit)

        def lines():  # one id per line, UTF-8; chunks keep the server's memory flat
            for start in range(0, ids.size, IDS_CHUNK):
                chunk = ids[start : start + IDS_CHUNK].tolist()
                yield ("\n".join(chunk) + ("\n" if start + IDS_CHUNK < ids.size else "")).encode()

        resp = Response(lines(), mimetype="text/plain; charset=utf-8")
        resp.headers["X-Total"] = str(state.n)
        resp.headers["X-Count"] = str(ids.size)
        return resp

    @app.get("/api/order")
    def order() -> Response:
        by = request.args.get("by", "score")
        direction = request.args.get("dir", "desc")
        try:
            state.check_order(by)
        except ValueError as err:
            return fail(400, str(err))
        if direction not in ("asc", "desc"):
            return fail(400, f"dir must be asc or desc, not {direction[:20]!r}")
        offset, limit = _page()
        first = request.args.get("unlabelled_first", "0").lower() in _TRUE
        partial = request.args.get("partial", "0").lower() in _TRUE
        rows, exact = state.order_state(by, first, wait=not partial, descending=direction == "desc")
        counts = _counts(state)
        stop = rows.size if limit is None else offset + limit
        if request.args.get("format", "ids") == "rows":
            resp = Response(
                rows[offset:stop].astype("<i4", copy=False).tobytes(),
                mimetype="application/octet-stream",
            )
            for k, v in {**counts, "exact": exact, "offset": offset}.items():
                resp.headers[f"X-{k.capitalize()}"] = str(v)
            return resp
        head = {
            "by": by,
            "dir": direction,
            "unlabelled_first": first,
            "offset": offset,
            "exact": exact,
            **counts,
        }
        return _json_with_ids(head, state.ids, rows[offset:stop])


def object_routes(app: Flask, state: LabellerData) -> None:
    """``GET /api/object`` and ``GET /api/plot`` (PNG; display choices as the view takes)."""

    @app.get("/api/object")
    def one_object() -> Response:
        try:
            return jsonify(state.describe(_object_id()))
        except UnknownIdError as err:
            return fail(404, str(err))

    @app.get("/api/plot")
    def plot() -> Response:
        try:
            display = state.view.parse_display(request.args)
            png = state.png(_object_id(), display)
        except UnknownIdError as err:
            return fail(404, str(err))
        except BadDisplayError as err:
            return fail(400, str(err))
        except AstroanomError as err:
            return fail(500, str(err))
        resp = Response(png, mimetype="image/png")
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp


def label_routes(app: Flask, state: LabellerData) -> None:
    """``GET /api/labels``, ``POST /api/label``, ``/api/unlabel``, ``/api/labels/delete``.
    A change the store could not write (e.g. a full disk) is a 500 and is never applied."""

    def refused(err: Exception) -> Response:
        if isinstance(err, UnknownIdError):
            return fail(404, str(err))
        if isinstance(err, LabelsReadOnlyError):
            return fail(403, str(err))
        if isinstance(err, LabelsError):
            return fail(400, str(err))
        log.error("label change not stored: %s", err)
        return fail(500, f"not stored (nothing was changed): {type(err).__name__}: {err}")

    @app.get("/api/labels")
    def labels() -> Response:
        recs = state.store.records()
        return jsonify(labels=[r.__dict__ for r in recs], **_counts(state))

    @app.post("/api/label")
    def set_label() -> Response:
        payload = json_body()
        if "id" not in payload or "label" not in payload:
            return fail(400, 'send {"id": ..., "label": 0..5}')
        try:
            state.row(payload["id"])
            previous = state.store.current().get(str(payload["id"]))
            rec = state.store.set(payload["id"], payload["label"])
        except (UnknownIdError, LabelsError, OSError) as err:
            return refused(err)
        state.labels_changed()
        return jsonify(
            id=rec.id,
            label=rec.label,
            previous=previous,
            user=rec.user,
            time=rec.time,
            **_counts(state),
        )

    @app.post("/api/unlabel")
    def unlabel() -> Response:
        payload = json_body()
        try:
            state.row(payload.get("id"))
            previous = state.store.current().get(str(payload["id"]))
            removed = state.unlabel(payload["id"])
        except (UnknownIdError, LabelsError, OSError) as err:
            return refused(err)
        return jsonify(id=str(payload["id"]), removed=removed, previous=previous, **_counts(state))

    @app.post("/api/labels/delete")
    def delete_all() -> Response:
        payload = json_body()
        if payload.get("confirm") is not True:
            return fail(400, 'deleting all labels needs {"confirm": true}')
        try:
            removed = state.clear()
        except (UnknownIdError, LabelsError, OSError) as err:
            return refused(err)
        state.retrain()
        log.warning(
            "user %s deleted all %d labels (kept in %s)", state.user, removed, state.store.log_path
        )
        return jsonify(removed=removed, **_counts(state))


def retrain_routes(app: Flask, state: LabellerData) -> None:
    """``POST /api/retrain`` (answers once the top of the new order is certain)."""

    @app.post("/api/retrain")
    def retrain() -> Response:
        json_body()
        try:
            result = state.retrain()
        except LabelsError as err:
            return fail(400, str(err))
        return jsonify(**result, **_counts(state))


def map_routes(app: Flask, state: LabellerData) -> None:
    """``GET /api/map`` (the 2-D map coloured by S and S^)."""

    @app.get("/api/map")
    def map_points() -> Response:
        return jsonify(state.map_points())
