"""Issue 9 hardening of downloads without an md5, the overall deadline, and disk errors; all
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import logging
import os
import re
import threading
import time

import pytest

from astroanom.sources.download import DownloadError, fetch

CSV = b"".join(b"%d,%d,0.%03d\n" % (i, i * 7, i % 1000) for i in range(20000))
GZ = gzip.compress(CSV, mtime=0)
HTML = b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Slow down</body></html>\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Behaviour set by ``server.mode``: ok, html, short (close-delimited, cut), trickle."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        srv = self.server
        srv.requests.append(self.headers.get("Range"))
        body, mode = srv.body, srv.mode
        if mode == "html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(HTML)))
            self.end_headers()
            self.wfile.write(HTML)
            return
        if mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for k in range(len(body)):
                if srv.stop.wait(0.5):
                    return
                try:
                    self.wfile.write(body[k : k + 1])
                    self.wfile.flush()
                except OSError:
                    return
            return
        m = re.match(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(m.group(1)) if m else 0
        if start >= len(body) and m:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.end_headers()
            return
        if m:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        out = body[start:]
        if mode == "short":  # no Content-Length, and the connection closes early
            self.end_headers()
            self.wfile.write(out[: len(out) // 2])
            return
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.mode, srv.body, srv.requests, srv.stop = "ok", GZ, [], threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()


def url(srv, name="gz2_hart16.csv.gz"):
    return f"http://127.0.0.1:{srv.server_address[1]}/{name}"


FAST = {"retries": 2, "backoff": 0.0, "timeout": 5}


# -- item 2: no md5 ------------------------------------------------------------------------------
def test_html_error_page_with_200_is_not_kept(server, tmp_path):
    server.mode = "html"
    dest = tmp_path / "gz2_hart16.csv.gz"
    with pytest.raises(DownloadError, match="HTML/XML page") as info:
        fetch(url(server), dest, **FAST)
    assert "<!DOCTYPE html>" in str(info.value) and str(dest) in str(info.value)
    assert list(tmp_path.iterdir()) == []
    # the same page for a CSV name (text check) is refused too
    with pytest.raises(DownloadError, match="HTML/XML page"):
        fetch(url(server, "map.csv"), tmp_path / "map.csv", **FAST)
    assert list(tmp_path.iterdir()) == []


def test_short_body_without_content_length_is_not_kept(server, tmp_path):
    server.mode = "short"
    dest = tmp_path / "gz2_hart16.csv.gz"
    with pytest.raises(DownloadError, match="incomplete or corrupt gzip data"):
        fetch(url(server), dest, **FAST)
    assert not dest.exists() and not (tmp_path / "gz2_hart16.csv.gz.part").exists()


def test_stale_part_longer_than_the_remote_file_is_discarded(server, tmp_path, caplog):
    dest = tmp_path / "gz2_hart16.csv.gz"
    stale = GZ + b"stale tail from an older version"
    (tmp_path / "gz2_hart16.csv.gz.part").write_bytes(stale)
    with caplog.at_level(logging.WARNING, logger="astroanom.sources.download"):
        fetch(url(server), dest, **FAST)
    assert dest.read_bytes() == GZ
    assert server.requests == [f"bytes={len(stale)}-", None]  # 416, then a clean restart
    assert "does not fit the remote file" in caplog.text


def test_no_md5_logs_what_was_verified_and_records_sha256(server, tmp_path, caplog):
    dest = tmp_path / "gz2_hart16.csv.gz"
    with caplog.at_level(logging.INFO, logger="astroanom.sources.download"):
        fetch(url(server), dest, **FAST)
    sha = hashlib.sha256(GZ).hexdigest()
    assert (tmp_path / "gz2_hart16.csv.gz.sha256").read_text() == f"{sha}  gz2_hart16.csv.gz\n"
    assert f"size {len(GZ)} bytes as announced by the server" in caplog.text
    assert "content check 'gzip' passed" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="astroanom.sources.download"):
        fetch(url(server), dest, **FAST)  # second run: compared with the recorded sha256
    assert "sha256 matches the one recorded" in caplog.text and "md5 verified" not in caplog.text
    assert len(server.requests) == 1


def test_changed_file_is_fetched_again(server, tmp_path, caplog):
    dest = tmp_path / "gz2_hart16.csv.gz"
    fetch(url(server), dest, **FAST)
    dest.write_bytes(GZ[:-10])  # damaged on disk after the download
    with caplog.at_level(logging.WARNING, logger="astroanom.sources.download"):
        fetch(url(server), dest, **FAST)
    assert "has changed since it was downloaded" in caplog.text
    assert dest.read_bytes() == GZ and len(server.requests) == 2


def test_file_placed_by_hand_is_content_checked_never_called_verified(server, tmp_path, caplog):
    dest = tmp_path / "gz2_hart16.csv.gz"
    dest.write_bytes(GZ)
    with caplog.at_level(logging.INFO, logger="astroanom.sources.download"):
        fetch(url(server), dest, **FAST)
    assert "no checksum to compare it to" in caplog.text and "verified" not in caplog.text
    assert (tmp_path / "gz2_hart16.csv.gz.sha256").exists() and server.requests == []
    bad = tmp_path / "other.csv.gz"
    bad.write_bytes(HTML)
    with pytest.raises(DownloadError, match="placed by hand.*HTML/XML page"):
        fetch(url(server), bad, **FAST)
    assert bad.read_bytes() == HTML  # a user's file is never deleted


def test_unverifiable_download_says_so(server, tmp_path, caplog):
    server.mode, server.body = "short", b"\x00\x01" * 1000  # no length, no content check
    with caplog.at_level(logging.WARNING, logger="astroanom.sources.download"):
        fetch(url(server, "blob.bin"), tmp_path / "blob.bin", **FAST)
    assert "NOT verified complete" in caplog.text


def test_download_hart16_checks_gzip(server, tmp_path, monkeypatch):
    from astroanom.sources import galaxy_zoo

    monkeypatch.setattr(galaxy_zoo, "HART16_URL", url(server))
    server.body = CSV  # a plain CSV where a gzip file is expected
    with pytest.raises(DownloadError, match="not a gzip file"):
        galaxy_zoo.download_hart16(tmp_path / "gz2_hart16.csv.gz", **FAST)
    server.body = GZ
    assert galaxy_zoo.download_hart16(tmp_path / "h.csv.gz", **FAST).read_bytes() == GZ


@pytest.mark.parametrize(
    "data, check, problem",
    [
        (GZ, "gzip", None),
        (GZ[:-8], "gzip", "incomplete or corrupt gzip"),
        (CSV, "text", None),
        (b"\xef\xbb\xbf  <html><body>x", "text", "HTML/XML page"),
        (b"caf\xe9,1\n", "text", "not UTF-8"),
        (b"SIMPLE  =                    T", "fits", None),
        (b"PK\x03\x04garbage", "zip", "incomplete or corrupt zip"),
        (b"", "none", "empty"),
    ],
)
def test_content_problem(tmp_path, data, check, problem):
    from astroanom.sources.download import content_problem

    path = tmp_path / "f.dat"
    path.write_bytes(data)
    got = content_problem(path, check)
    assert (got is None) if problem is None else (problem in got)


# -- item 3: overall deadline --------------------------------------------------------------------
def test_trickling_server_fails_within_the_deadline(server, tmp_path):
    server.mode, server.body = "trickle", b"x" * 60  # 1 byte / 0.5 s: 30 s for the whole file
    dest = tmp_path / "slow.bin"
    t0 = time.monotonic()
    with pytest.raises(DownloadError, match="within the deadline of 2 s") as info:
        fetch(url(server, "slow.bin"), dest, retries=3, backoff=0.0, timeout=1.0, deadline=2.0)
    elapsed = time.monotonic() - t0
    assert elapsed < 8.0  # deadline + one read timeout, with slack for a loaded machine
    assert "re-run resumes" in str(info.value) and not dest.exists()
    assert 1 <= (tmp_path / "slow.bin.part").stat().st_size < 60


# -- item 9: disk errors -------------------------------------------------------------------------
def test_parent_path_that_is_a_file_is_a_clear_disk_error(server, tmp_path):
    blocker = tmp_path / "res"
    blocker.write_text("not a directory")
    with pytest.raises(DownloadError, match="cannot create the directory") as info:
        fetch(url(server), blocker / "gz2" / "h.csv.gz", **FAST)
    msg = str(info.value)
    assert str(blocker) in msg and "not the network" in msg and "offline" not in msg
    assert server.requests == []  # nothing fetched, nothing retried


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_unwritable_directory_is_a_clear_disk_error(server, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(DownloadError, match="cannot write") as info:
            fetch(url(server), ro / "h.csv.gz", **FAST)
    finally:
        ro.chmod(0o755)
    assert str(ro / "h.csv.gz.part") in str(info.value) and "offline" not in str(info.value)
    assert server.requests == []


def test_unwritable_part_path_is_a_clear_disk_error(server, tmp_path):
    """Works as root too: the .part path is a directory, so it cannot be opened for writing."""
    (tmp_path / "h.csv.gz.part").mkdir()
    with pytest.raises(DownloadError, match="cannot write .*h.csv.gz.part: Is a directory"):
        fetch(url(server), tmp_path / "h.csv.gz", **FAST)
    assert server.requests == []


def test_disk_full_while_writing_is_not_retried(server, tmp_path):
    """/dev/full fails every write with ENOSPC: the error names the path, with one request."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    dest = tmp_path / "h.csv.gz"
    (tmp_path / "h.csv.gz.part").symlink_to("/dev/full")
    with pytest.raises(DownloadError, match="No space left on device") as info:
        fetch(url(server), dest, retries=3, backoff=0.0, timeout=5)
    assert "h.csv.gz.part" in str(info.value) and "offline" not in str(info.value)
    assert len(server.requests) == 1
