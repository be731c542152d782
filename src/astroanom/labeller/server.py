"""Serving the labeller: a threaded werkzeug server on loopback, never in debug mode."""

from __future__ import annotations

import gc
import ipaddress
import logging
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server

from astroanom.labeller.app import LOOPBACK_NAMES, create_app
from astroanom.labeller.session import LabellerData, LabellerSettings, PathLike

log = logging.getLogger("astroanom.labeller")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class RunningLabeller:
    """A started server: its URL, the werkzeug server, the thread serving it and the one
    rendering the first objects at start-up (``warmer``)."""

    url: str
    server: BaseWSGIServer
    thread: threading.Thread | None
    data: LabellerData
    warmer: threading.Thread | None = None

    def stop(self) -> None:
        """Stop serving and close the socket; waits (up to 60 s) for the start-up rendering,
        so nothing reads the dataset folder after this returns."""
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.warmer is not None:
            self.warmer.join(timeout=60)


def start(
    dataset_dir: PathLike,
    labels_path: PathLike,
    user: str = "default",
    host: str = "127.0.0.1",
    port: int = 0,
    settings: LabellerSettings | None = None,
    background: bool = True,
) -> RunningLabeller:
    """Build the app and bind ``host:port`` (port 0 picks a free one).

    With ``background`` the server runs in a daemon thread (tests, benchmarks); otherwise call
    ``running.server.serve_forever()`` yourself.
    """
    data = LabellerData(dataset_dir, labels_path, user, settings)
    try:
        data.view.prepare()  # one-time drawing work now, not in the first plot request
    except Exception as err:  # noqa: BLE001  (a plot request will report it, with its object)
        log.warning("the object view could not be prepared: %s", err)
    allowed = set(LOOPBACK_NAMES) | {host.strip("[]").lower()}
    if host in ("0.0.0.0", "::", ""):
        allowed = None  # bound to every interface on purpose: any Host name may reach it
        log.warning("serving on all interfaces: anybody on your network can label your data")
    elif not is_loopback(host):
        log.warning("serving on %s, which is not loopback", host)
    app = create_app(dataset_dir, labels_path, user, settings, allowed_hosts=allowed, data=data)
    server = make_server(host, port, app, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.port}/"
    gc.collect()
    gc.freeze()  # the imported libraries' objects: no full collection rescans them (~80 ms)

    def warm() -> None:
        data.warm()
        gc.freeze()  # and the plotting code's

    warmer = threading.Thread(target=warm, name="astroanom-labeller-warm", daemon=True)
    warmer.start()
    thread = None
    if background:
        thread = threading.Thread(
            target=server.serve_forever, name="astroanom-labeller", daemon=True
        )
        thread.start()
    return RunningLabeller(url=url, server=server, thread=thread, data=data, warmer=warmer)
