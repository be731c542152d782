"""Resumable, checksummed, atomic file download (stdlib ``urllib`` only).

- Bytes go to ``<dest>.part`` beside the destination; a dropped connection is resumed from the
  bytes already on disk with an HTTP ``Range`` request (a server that ignores ``Range`` gets a
  clean restart), with up to ``retries`` attempts and growing pauses between them.
- When complete the file is checked (md5 if one is known, else its sha256 is recorded in
  ``<dest>.sha256``) and only then renamed onto ``dest``; a wrong checksum deletes the partial
  file, so a bad download never becomes a workflow output.
- Progress is logged every 10 %; an unreachable server gives an error naming the file, its URL
  and the directory to place it in by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from astroanom.errors import AstroanomError

log = logging.getLogger("astroanom.sources.download")
CHUNK = 1 << 20
USER_AGENT = "astroanom-download/0.1 (+https://github.com/)"


class DownloadError(AstroanomError, OSError):
    """A download that failed or produced a file with the wrong checksum."""


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


def _one_attempt(url: str, part: Path, timeout: float) -> bool:
    """Fetch (the rest of) ``url`` into ``part``; True when the file is complete."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part file is complete
            return True
        raise
    with resp:
        if have and resp.status == 206:
            mode, done = "ab", have
        else:
            mode, done = "wb", 0
        length = resp.headers.get("Content-Length")
        total = done + int(length) if length is not None else None
        next_report = 0.1
        t0 = time.perf_counter()
        with open(part, mode) as fh:
            while True:
                block = resp.read(CHUNK)
                if not block:
                    break
                fh.write(block)
                done += len(block)
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
    return True


def fetch(
    url: str,
    dest: str | os.PathLike[str],
    md5: str | None = None,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 2.0,
) -> Path:
    """Download ``url`` to ``dest`` (resumable, verified, atomic); return ``dest``.

    An existing ``dest`` with the right md5 (or any existing ``dest`` when no md5 is given) is
    kept. Raises :class:`DownloadError` after ``retries`` failed attempts, for an HTTP client
    error (4xx) or for a checksum mismatch (the bad bytes are deleted).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        if md5 is None or file_digest(dest) == md5.lower():
            log.info("%s already present and verified", dest)
            return dest
        log.warning("%s has the wrong md5; downloading it again", dest)
        dest.unlink()
    part = dest.with_name(dest.name + ".part")
    last = "unknown error"
    for attempt in range(1, retries + 1):
        try:
            _one_attempt(url, part, timeout)
            break
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
        if attempt == retries:
            raise _by_hand(url, dest, md5, f"{retries} attempts failed, last: {last}")
        time.sleep(backoff * attempt)
    if md5 is not None:
        got = file_digest(part)
        if got != md5.lower():
            part.unlink()
            raise DownloadError(
                f"{dest.name} from {url} has md5 {got}, expected {md5}; the download was deleted. "
                "Re-run to fetch it again; if it keeps failing the file on the server has changed."
            )
    else:
        sha = file_digest(part, "sha256")
        (dest.with_name(dest.name + ".sha256")).write_text(
            f"{sha}  {dest.name}\n", encoding="utf-8"
        )
        log.info("%s: no md5 known; recorded sha256 %s", dest.name, sha)
    os.replace(part, dest)
    log.info("downloaded %s (%.1f MB)", dest, dest.stat().st_size / 1e6)
    return dest
