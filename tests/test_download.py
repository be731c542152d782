"""Resumable, checksummed, atomic downloads against a real HTTP server on 127.0.0.1."""

import hashlib
import http.server
import re
import socket
import threading

import pytest

from astroanom.sources.download import DownloadError, fetch

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD with Range support; the first ``drop`` requests are cut off mid-file."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        srv = self.server
        srv.ranges.append(self.headers.get("Range"))
        start = 0
        m = re.match(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if m:
            start = int(m.group(1))
            if start >= len(PAYLOAD):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.drop > 0:
            srv.drop -= 1
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # connection dropped mid-file
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.drop, srv.ranges = 0, []
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv):
    return f"http://127.0.0.1:{srv.server_address[1]}/data.bin"


def test_resumes_after_a_dropped_connection(server, tmp_path):
    server.drop = 1
    dest = fetch(_url(server), tmp_path / "data.bin", md5=MD5, retries=3, backoff=0.0, timeout=5)
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges[0] is None
    assert server.ranges[1] == f"bytes={len(PAYLOAD) // 3}-"  # resumed, not restarted
    assert not (tmp_path / "data.bin.part").exists()


def test_wrong_checksum_is_rejected_and_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError, match="md5"):
        fetch(_url(server), tmp_path / "data.bin", md5="0" * 32, retries=1, backoff=0.0, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_existing_verified_file_is_kept(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(PAYLOAD)
    fetch(_url(server), tmp_path / "data.bin", md5=MD5, retries=1, backoff=0.0)
    assert server.ranges == []


def test_sha256_recorded_when_no_md5_is_known(server, tmp_path):
    fetch(_url(server), tmp_path / "data.bin", md5=None, retries=1, backoff=0.0, timeout=5)
    sha = (tmp_path / "data.bin.sha256").read_text().split()[0]
    assert sha == hashlib.sha256(PAYLOAD).hexdigest()


def test_offline_error_names_the_file_and_directory(tmp_path):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dest = tmp_path / "res" / "images_gz2.zip"
    with pytest.raises(DownloadError) as exc:
        fetch(
            f"http://127.0.0.1:{port}/images_gz2.zip",
            dest,
            md5=MD5,
            retries=2,
            backoff=0.0,
            timeout=2,
        )
    msg = str(exc.value)
    assert "images_gz2.zip" in msg and str(dest.parent.resolve()) in msg and MD5 in msg
    assert not dest.exists()
