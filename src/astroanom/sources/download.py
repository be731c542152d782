"""Resumable, checksummed, atomic file download (stdlib ``urllib`` only).

- Bytes go to ``<dest>.part`` beside the destination; a dropped connection is resumed from the
  bytes already on disk with an HTTP ``Range`` request (a server that ignores ``Range`` gets a
  clean restart), with up to ``retries`` attempts and growing pauses between them.
- When complete the file is checked and only then renamed onto ``dest``: its md5 if one is
  published; otherwise its size against the server's (Content-Length / Content-Range) and a
  content check of its type (a complete gzip stream, a zip central directory, UTF-8 text, a
  FITS header; never an HTML page), after which its sha256 is recorded in ``<dest>.sha256`` and
  compared on later runs. A bad file is deleted, so it never becomes a workflow output.
- ``deadline`` bounds the whole download (all attempts and pauses), so a server that trickles
  bytes cannot stall a run forever; disk errors (unwritable directory, a parent that is a file,
  a full disk) fail at once with the path, and are never retried or blamed on the network.
- Progress is logged every 10 %; an unreachable server gives an error naming the file, its URL
  and the directory to place it in by hand.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import http.client
import logging
import os
import re
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from astroanom.errors import AstroanomError

log = logging.getLogger("astroanom.sources.download")
CHUNK = 1 << 20
USER_AGENT = "astroanom-download/0.1 (+https://github.com/)"


DEFAULT_DEADLINE = 6 * 3600.0  # s for one file, all attempts: 3.4 GB at 0.2 MB/s
CHECKS = ("gzip", "zip", "text", "fits", "none")
_SUFFIX_CHECKS = {
    ".gz": "gzip",
    ".tgz": "gzip",
    ".zip": "zip",
    ".csv": "text",
    ".tsv": "text",
    ".txt": "text",
    ".json": "text",
    ".fits": "fits",
    ".fit": "fits",
}


class DownloadError(AstroanomError, OSError):
    """A download that failed or produced a file with the wrong checksum."""


class _Fatal(DownloadError):
    """A failure that another attempt cannot fix (disk error, wrong content, deadline)."""


def check_for(dest: str | os.PathLike[str]) -> str:
    """The content check :func:`fetch` applies to ``dest`` by its suffix (one of CHECKS)."""
    return _SUFFIX_CHECKS.get(Path(dest).suffix.lower(), "none")


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def content_problem(path: str | os.PathLike[str], check: str) -> str | None:
    """Why the file at ``path`` is not a complete file of type ``check``, or None if it is.

    gzip: the whole stream decompresses with a correct CRC and length; zip: the central
    directory (at the file's end) reads; text: UTF-8; fits: a FITS primary header. Every type
    is refused when it starts like an HTML or XML page (a server's error page), unless its name
    ends in .html, .htm, .xml or .svg.
    """
    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        return "the file is empty"
    markup = p.name.removesuffix(".part").lower().endswith((".html", ".htm", ".xml", ".svg"))
    if _looks_like_html(head) and not markup:
        text = re.sub(rb"\s+", b" ", head[:120]).decode("utf-8", "replace")
        return f"it is an HTML/XML page, not the file (it starts: {text!r})"
    if check == "gzip":
        if head[:2] != b"\x1f\x8b":
            return "not a gzip file (no gzip magic bytes)"
        try:
            with gzip.open(p, "rb") as gz:
                while gz.read(CHUNK):
                    pass
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            return f"incomplete or corrupt gzip data ({exc})"
    elif check == "zip":
        try:
            with zipfile.ZipFile(p) as zf:
                zf.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            return f"incomplete or corrupt zip archive ({exc})"
    elif check == "text":
        try:  # a multi-byte character cut at the end of the 4 KiB sample is fine
            codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < 4096)
        except UnicodeDecodeError as exc:
            return f"not UTF-8 text (byte {exc.start})"
    elif check == "fits":
        if not head.startswith(b"SIMPLE  ="):
            return "not a FITS file (no SIMPLE card)"
    elif check != "none":
        raise ValueError(f"unknown content check {check!r}; use one of {CHECKS}")
    return None


def _disk_error(path: Path, what: str, exc: OSError) -> _Fatal:
    return _Fatal(
        f"cannot {what} {path}: {exc.strerror or exc} (a disk problem, not the network): make "
        f"{path.parent} a writable directory with free space, or choose another location, "
        "then re-run"
    )


def _prepare(dest: Path) -> Path:
    """Create ``dest``'s directory and make sure its ``.part`` file can be written."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(dest.parent, "create the directory", exc) from exc
    part = dest.with_name(dest.name + ".part")
    existed = part.exists()
    try:
        with open(part, "ab"):
            pass
    except OSError as exc:
        raise _disk_error(part, "write", exc) from exc
    if not existed:
        part.unlink()
    return part


class _Deadline:
    """The overall time limit of one :func:`fetch` (None: no limit)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float:
        return float("inf") if self.end is None else self.end - time.monotonic()

    def check(self, dest: Path, url: str, part: Path) -> None:
        if self.left() <= 0:
            have = part.stat().st_size if part.exists() else 0
            raise _Fatal(
                f"could not download {dest.name} from {url} within the deadline of "
                f"{self.seconds:g} s (the server is too slow or stalled); {have} bytes are kept "
                f"in {part} and a re-run resumes from them. Or fetch the file elsewhere and place "
                f"it at {dest}."
            )


def file_digest(path: str | os.PathLike[str], algorithm: str = "md5") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _by_hand(url: str, dest: Path, md5: str | None, why: str) -> DownloadError:
    check = f" (md5 {md5})" if md5 else ""
    return DownloadError(
        f"could not download {dest.name} from {url}: {why}. If this machine is offline, fetch "
        f"the file elsewhere and place it at {dest}{check} - i.e. in the directory "
        f"{dest.parent.resolve()} - then re-run."
    )


def _content_range_total(value: str | None) -> int | None:
    """The total size in a ``Content-Range: bytes a-b/total`` (or ``*/total``) header."""
    m = re.match(r"bytes\s+(?:\d+-\d+|\*)/(\d+)", value or "")
    return int(m.group(1)) if m else None


def _one_attempt(
    url: str, part: Path, timeout: float, deadline: _Deadline, dest: Path
) -> int | None:
    """Fetch (the rest of) ``url`` into ``part``; return the size the server announced (bytes;
    None if it did not say). Raises a network error (retried) or :class:`_Fatal`."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=max(min(timeout, deadline.left()), 0.01))
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            total = _content_range_total(exc.headers.get("Content-Range"))
            if total == have:  # nothing left to fetch: the part file is complete
                return total
            log.warning(
                "%s: the partial file (%d bytes) does not fit the remote file (%s bytes); "
                "starting again",
                dest.name,
                have,
                "unknown" if total is None else total,
            )
            part.unlink()
            return _one_attempt(url, part, timeout, deadline, dest)
        raise
    with resp:
        total: int | None
        if have and resp.status == 206:
            total = _content_range_total(resp.headers.get("Content-Range"))
            start = re.match(r"bytes\s+(\d+)-", resp.headers.get("Content-Range") or "")
            if start is None or int(start.group(1)) != have:
                part.unlink()  # the next attempt starts clean
                raise http.client.HTTPException(
                    f"the server resumed at the wrong offset ({resp.headers.get('Content-Range')})"
                )
            mode, done = "ab", have
        else:
            mode, done = "wb", 0
            length = resp.headers.get("Content-Length")
            total = int(length) if length is not None and length.isdigit() else None
        next_report = 0.1
        t0 = time.perf_counter()
        try:
            fh = open(part, mode)  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise _disk_error(part, "write", exc) from exc
        with fh:
            while True:
                block = resp.read1(CHUNK)
                if not block:
                    break
                try:
                    fh.write(block)
                except OSError as exc:
                    raise _disk_error(part, "write", exc) from exc
                done += len(block)
                deadline.check(dest, url, part)
                if total and done / total >= next_report:
                    rate = (done - (have if mode == "ab" else 0)) / max(
                        time.perf_counter() - t0, 1e-9
                    )
                    log.info(
                        "%s: %3.0f %% (%.1f / %.1f MB, %.1f MB/s)",
                        part.name[:-5],
                        100 * done / total,
                        done / 1e6,
                        total / 1e6,
                        rate / 1e6,
                    )
                    next_report = (int(10 * done / total) + 1) / 10
        if total is not None and done < total:
            raise http.client.IncompleteRead(b"", total - done)
        if total is not None and done > total:
            part.unlink()
            raise http.client.HTTPException(f"got {done} bytes, more than the {total} announced")
    return total


def _sha_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def _record_sha256(path: Path, dest: Path) -> str:
    sha = file_digest(path, "sha256")
    try:
        _sha_path(dest).write_text(f"{sha}  {dest.name}\n", encoding="utf-8")
    except OSError as exc:
        raise _disk_error(_sha_path(dest), "write", exc) from exc
    return sha


def _existing_ok(dest: Path, md5: str | None, check: str) -> bool:
    """Whether an existing ``dest`` can be kept; logs exactly what was verified."""
    if md5 is not None:
        if file_digest(dest) == md5.lower():
            log.info("%s already present; md5 verified", dest)
            return True
        log.warning("%s has the wrong md5; downloading it again", dest)
        dest.unlink()
        return False
    sha_file = _sha_path(dest)
    if sha_file.exists():
        recorded = sha_file.read_text(encoding="utf-8").split()[:1]
        got = file_digest(dest, "sha256")
        if recorded == [got]:
            log.info(
                "%s already present; sha256 matches the one recorded when it was fetched", dest
            )
            return True
        log.warning(
            "%s has changed since it was downloaded (sha256 %s, recorded %s); downloading it again",
            dest,
            got,
            recorded[0] if recorded else "unreadable",
        )
        dest.unlink()
        return False
    why = content_problem(dest, check)
    if why is not None:
        raise DownloadError(
            f"{dest} exists (placed by hand?) but {why}: delete or replace it, then re-run"
        )
    sha = _record_sha256(dest, dest)
    log.warning(
        "%s already present with no checksum to compare it to (none published, none recorded): "
        "content check '%s' passed; recorded sha256 %s for later runs",
        dest,
        check,
        sha,
    )
    return True


def fetch(
    url: str,
    dest: str | os.PathLike[str],
    md5: str | None = None,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 2.0,
    deadline: float | None = DEFAULT_DEADLINE,
    check: str = "auto",
) -> Path:
    """Download ``url`` to ``dest`` (resumable, verified, atomic); return ``dest``.

    ``timeout`` (s) bounds each network wait, ``deadline`` (s) the whole call (checked after
    every read, so it ends at most ``timeout`` later; None: no limit). ``check`` is the content
    check of the file type ("auto": by the suffix of ``dest``, see :func:`check_for`).

    Verification: with ``md5`` the md5; without, the size announced by the server, the content
    check, and a sha256 recorded in ``<dest>.sha256``. An existing ``dest`` is kept when its md5
    (or recorded sha256) matches; one placed by hand without either must pass the content check.
    Raises :class:`DownloadError` after ``retries`` failed attempts, for an HTTP client error
    (4xx), a wrong checksum or content (the bad bytes are deleted), a disk error or the deadline.
    """
    dest = Path(dest)
    kind = check_for(dest) if check == "auto" else check
    if kind not in CHECKS:
        raise ValueError(f"unknown content check {check!r}; use 'auto' or one of {CHECKS}")
    if dest.is_file() and _existing_ok(dest, md5, kind):
        return dest
    part = _prepare(dest)
    limit = _Deadline(deadline)
    last = "unknown error"
    total: int | None = None
    for attempt in range(1, retries + 1):
        try:
            total = _one_attempt(url, part, timeout, limit, dest)
            break
        except DownloadError:
            raise
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                raise _by_hand(url, dest, md5, f"HTTP {exc.code} {exc.reason}") from exc
            last = f"HTTP {exc.code} {exc.reason}"
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
            OSError,
        ) as exc:
            last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        have = part.stat().st_size if part.exists() else 0
        log.warning(
            "%s: attempt %d/%d failed (%s); %d bytes kept for resuming",
            dest.name,
            attempt,
            retries,
            last,
            have,
        )
        limit.check(dest, url, part)
        if attempt == retries:
            raise _by_hand(url, dest, md5, f"{retries} attempts failed, last: {last}")
        time.sleep(max(min(backoff * attempt, limit.left()), 0.0))
        limit.check(dest, url, part)
    if md5 is not None:
        got = file_digest(part)
        if got != md5.lower():
            page = content_problem(part, "none")
            part.unlink()
            raise DownloadError(
                f"{dest.name} from {url} has md5 {got}, expected {md5}"
                + (f" ({page})" if page else "")
                + "; the download was deleted. Re-run to fetch it again; if it keeps failing the "
                "file on the server has changed."
            )
        what = "md5 verified"
    else:
        why = content_problem(part, kind)
        if why is not None:
            part.unlink()
            raise DownloadError(
                f"{dest.name} from {url}: {why}; the download was deleted. The server may be "
                f"returning an error page or a cut-off file: re-run later, or fetch it by hand "
                f"and place it at {dest}."
            )
        checks = []
        if total is not None:
            checks.append(f"size {total} bytes as announced by the server")
        if kind != "none":
            checks.append(f"content check '{kind}' passed")
        sha = _record_sha256(part, dest)
        if kind in ("gzip", "zip") or total is not None:
            what = f"no md5 published: {', '.join(checks)}; recorded sha256 {sha}"
            log.warning("%s: %s", dest.name, what)
        else:
            what = (
                f"no md5 published and NOT verified complete (no size from the server, no "
                f"integrity check for this type; {', '.join(checks) or 'not an HTML page'}); "
                f"recorded sha256 {sha}"
            )
            log.warning("%s: %s", dest.name, what)
    try:
        os.replace(part, dest)
    except OSError as exc:
        raise _disk_error(dest, "move the download onto", exc) from exc
    log.info("downloaded %s (%.1f MB; %s)", dest, dest.stat().st_size / 1e6, what)
    return dest
