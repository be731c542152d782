"""The Flask application of the labeller: one page, a small JSON API, and its guards.

Endpoints (all JSON unless noted; ids travel as query or body values, never as file names):

- ``GET  /``                         the page (HTML, with the CSRF token in
  ``<meta name="csrf-token">``)
- ``GET  /api/info``                 dataset, user, label file, counts, orders, ``stale``,
  ``retrain_ready`` (the distances to the labelled objects and the forest, made in the
  background, follow the last label change)
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

The guards (Host, Origin/Referer, the ``X-CSRF-Token`` header, body limits) are in
:mod:`astroanom.labeller.guards`, the route groups in :mod:`astroanom.labeller.routes`.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from pathlib import Path

from flask import Flask

from astroanom.labeller import routes
from astroanom.labeller import vo as vo_routes
from astroanom.labeller.guards import (
    LOOPBACK_NAMES,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    install_guards,
    json_depth,
)
from astroanom.labeller.session import LabellerData, LabellerSettings, PathLike

__all__ = ["LOOPBACK_NAMES", "MAX_BODY_BYTES", "MAX_JSON_DEPTH", "create_app", "json_depth"]


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
    if data is None and settings is None:
        raise TypeError("create_app needs the retraining settings (or a LabellerData)")
    state = data or LabellerData(dataset_dir, labels_path, user, settings)  # type: ignore[arg-type]
    token = secrets.token_urlsafe(32)
    hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
    app.extensions["astroanom.labeller"] = state
    app.config["CSRF_TOKEN"] = token
    install_guards(app, token, hosts)
    routes.page_routes(app, state, token)
    routes.order_routes(app, state)
    routes.object_routes(app, state)
    routes.label_routes(app, state)
    routes.retrain_routes(app, state)
    routes.map_routes(app, state)
    vo_routes.samp_routes(app, state)  # Send to TOPCAT/Aladin (SAMP)
    return app
