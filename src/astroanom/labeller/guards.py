"""The labeller's HTTP guards: Host, Origin/Referer and CSRF checks before every request,
security headers after it, JSON errors, and bounded JSON bodies.

Every POST must carry the page's ``X-CSRF-Token`` header (the token is in the page's
``<meta name="csrf-token">``), a JSON body of at most 16 KiB (also when sent chunked; else 413)
nested at most 32 levels deep, and an Origin or Referer header of this very server (browsers
send Origin on every fetch POST; a POST with neither is refused); the Host header must be a
loopback name unless the server was deliberately bound elsewhere.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger("astroanom.labeller")
MAX_BODY_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32  # the API's bodies are flat objects; deeper nesting is refused with a 400
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def fail(status: int, message: str) -> Response:
    """A JSON error ``{"error": message}`` with ``status``."""
    resp = jsonify(error=message)
    resp.status_code = status
    return resp


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


def json_body() -> dict[str, Any]:
    """The request's JSON object body, or an abort with 415, 413 or 400 saying why not."""
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


def _refusal(hosts: frozenset[str] | None, token: str) -> Response | None:
    """Why this request is refused (a response), or None: Host, then for a POST the
    Origin/Referer and the CSRF token."""
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


def install_guards(app: Flask, token: str, hosts: frozenset[str] | None) -> None:
    """Register the request checks, the security headers and the JSON error handlers."""

    @app.before_request
    def guard() -> Response | None:
        return _refusal(hosts, token)

    @app.after_request
    def headers(resp: Response) -> Response:
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Content-Security-Policy"] = CSP
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
