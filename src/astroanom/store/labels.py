"""Human relevance labels on disk: an append-only log and an atomic current-state ``labels.csv``.

One label set belongs to one user and one dataset, e.g. ``labels/<dataset>/<user>.csv``
(outside ``results/`` so cleaning results never deletes anybody's work). Two files:

- ``<user>.csv``      current state, columns ``id,label,user,time``; one row per labelled object.
                      Rewritten atomically after every change; this is what the workflow reads.
- ``<user>.log.csv``  append-only log, columns ``time,user,action,id,label`` with action ``set``,
                      ``delete`` (one object) or ``clear`` (all); replaying it rebuilds the state.

Labels are integers 0..5 (0 boring, 5 most relevant). Every change takes a thread lock and an
``flock`` on the labels folder itself (no lock file is left behind) so concurrent requests (or
two processes) never lose a label. A change that cannot be written completely (a full disk) is
undone in the log too: what the store refused never appears later. A store opened
``read_only`` reads the files and refuses every change (for a folder that is not writable).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import logging
import os
import re
import tempfile
import threading
from collections.abc import Collection, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from astroanom.errors import LabelsError
from astroanom.store.io import atomic_path
from astroanom.store.rundir import LOG_SUFFIX, check_user, labels_path, log_path_for  # noqa: F401

log = logging.getLogger("astroanom.store.labels")

LABEL_COLUMNS = ("id", "label", "user", "time")
LOG_COLUMNS = ("time", "user", "action", "id", "label")
MIN_LABEL, MAX_LABEL = 0, 5
_LABEL_RE = re.compile(r"[ \t]*[0-9]+[ \t]*", re.ASCII)  # ASCII digits only, not '٥' or '５'
ENCODING_HELP = (
    "save it as UTF-8 (in a spreadsheet program: 'CSV UTF-8'; or convert it, e.g. "
    "`iconv -f latin1 -t utf-8 FILE > NEW`) and try again"
)
PathLike = str | os.PathLike[str]
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


class LabelsReadOnlyError(LabelsError):
    """A change asked of a store that is read-only (opened so, or its folder is not writable)."""


def probe_writable(folder: Path) -> None:
    """Raise ``OSError`` unless a file can be created (and removed) in ``folder``."""
    with tempfile.NamedTemporaryFile(prefix=".astroanom-probe-", dir=folder):
        pass


def parse_label(value: object) -> int:
    """Return ``value`` as an integer label 0..5, or raise :class:`LabelsError` saying why.

    Accepts an int or a string of digits ("3"); rejects bools, floats such as 2.5, and None.
    """
    if isinstance(value, bool) or value is None:
        raise LabelsError(f"a label must be an integer from 0 to 5, got {value!r}")
    if (
        isinstance(value, (int, np.integer))
        or isinstance(value, str)
        and _LABEL_RE.fullmatch(value)
    ):
        number = int(value)
    else:
        raise LabelsError(f"a label must be an integer from 0 to 5, got {value!r}")
    if not MIN_LABEL <= number <= MAX_LABEL:
        raise LabelsError(f"a label must be an integer from 0 to 5, got {number}")
    return number


def now_iso() -> str:
    """Current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _as_set(ids: Collection[str] | None) -> AbstractSet[str] | None:
    """``ids`` as a set for membership tests: a set-like container (e.g. the labeller's index
    of millions of ids) as it is, anything else copied into a frozenset."""
    if ids is None or isinstance(ids, AbstractSet):
        return ids
    return frozenset(ids)


def read_labels(path: PathLike, valid_ids: Collection[str] | None = None) -> pd.DataFrame:
    """Read and validate a current-state label file; return columns id (str), label (int), user, time.

    Raises :class:`LabelsError` naming the file and line for a wrong header, a label that is not
    an integer 0..5, an empty or repeated id, or (when ``valid_ids`` is given) an id that is not in
    the dataset.
    """
    p = Path(path)
    if not p.is_file():
        raise LabelsError(f"{p}: label file not found")
    valid = _as_set(valid_ids)
    rows: list[tuple[str, int, str, str]] = []
    seen: dict[str, int] = {}
    with _decoding(p), p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != LABEL_COLUMNS:
            raise LabelsError(
                f"{p}, line 1: the header must be {','.join(LABEL_COLUMNS)}, got {header!r}"
            )
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(LABEL_COLUMNS):
                raise LabelsError(
                    f"{p}, line {line}: expected 4 fields (id,label,user,time), got {len(row)}"
                )
            oid = row[0]  # exact: an id may begin or end with a space (see docs/labeller.md)
            raw, user, time = (c.strip() for c in row[1:])
            if not oid.strip():
                raise LabelsError(f"{p}, line {line}: empty id")
            if any(c in oid for c in "\r\n\x00"):
                raise LabelsError(
                    f"{p}, line {line}: id {oid!r} holds a line break or NUL character, which an "
                    "id must not"
                )
            try:
                label = parse_label(raw)
            except LabelsError as err:
                raise LabelsError(f"{p}, line {line} (id {_show(oid)}): {err}") from None
            if oid in seen:
                raise LabelsError(
                    f"{p}, line {line}: id {_show(oid)} is labelled again "
                    f"(first on line {seen[oid]})"
                )
            if valid is not None and oid not in valid:
                raise LabelsError(f"{p}, line {line}: id {oid!r} is not an object of this dataset")
            seen[oid] = line
            rows.append((oid, label, user, time))
    frame = pd.DataFrame(rows, columns=list(LABEL_COLUMNS))
    return frame.astype({"id": str, "label": np.int64, "user": str, "time": str})


def _show(oid: str) -> str:
    """An id for a message: as is, or quoted when it has surrounding spaces."""
    return oid if oid == oid.strip() and oid else repr(oid)


@contextlib.contextmanager
def _decoding(path: Path) -> Iterator[None]:
    """Turn a decoding error while reading ``path`` into a :class:`LabelsError` saying what to do."""
    try:
        yield
    except UnicodeDecodeError as err:
        raise LabelsError(
            f"{path}: not UTF-8 text (byte {err.object[err.start : err.start + 1]!r} at offset "
            f"{err.start}; a Latin-1 / Windows-1252 file?): {ENCODING_HELP}"
        ) from None


def _log_entries(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of an append-only log with their line numbers (header checked)."""
    with _decoding(path), path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:  # empty: a crash while the log was being created
            return []
        if tuple(reader.fieldnames) != LOG_COLUMNS:
            raise LabelsError(f"{path}, line 1: the header must be {','.join(LOG_COLUMNS)}")
        return [(reader.line_num, row) for row in reader]


def _log_entries_after(path: Path, offset: int) -> list[tuple[int, dict[str, str]]]:
    """The complete rows of a log after byte ``offset`` (0, or the start of a row; the header is
    checked and skipped at 0); an unfinished last line is not a row yet. Line numbers are
    counted from ``offset``."""
    with _decoding(path), path.open("rb") as fh:
        fh.seek(offset)
        data = fh.read()
    cut = data.rfind(b"\n") + 1
    text = data[:cut].decode("utf-8-sig" if offset == 0 else "utf-8")
    if offset == 0:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if reader.fieldnames is None:
            return []
        if tuple(reader.fieldnames) != LOG_COLUMNS:
            raise LabelsError(f"{path}, line 1: the header must be {','.join(LOG_COLUMNS)}")
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""), fieldnames=LOG_COLUMNS)
    return [(reader.line_num, row) for row in reader]


def _complete_end(path: Path) -> int:
    """Byte offset just after the last complete line of ``path`` (its size if it ends cleanly)."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            back = min(size, 1 << 16)
            fh.seek(size - back)
            tail = fh.read(back)
    except FileNotFoundError:
        return 0
    return size if tail.endswith(b"\n") or not tail else size - back + tail.rfind(b"\n") + 1


def _apply(
    state: dict[str, tuple[int, str, str]], path: Path, line: int, row: dict[str, str]
) -> None:
    """Apply one log row to ``state`` (a ``set`` moves the id to the end, as the store does)."""
    action = row["action"]
    if action == "set":
        if row["id"] is None or row["label"] is None:
            raise LabelsError(f"{path}, line {line}: a 'set' needs 5 fields")
        try:
            value = (parse_label(row["label"]), row["user"], row["time"])
        except LabelsError as err:
            raise LabelsError(f"{path}, line {line}: {err}") from None
        state.pop(row["id"], None)
        state[row["id"]] = value
    elif action == "delete":
        state.pop(row["id"], None)
    elif action == "clear":
        state.clear()
    else:
        raise LabelsError(f"{path}, line {line}: unknown action {action!r}")


def replay_log(path: PathLike) -> dict[str, tuple[int, str, str]]:
    """Rebuild the current state ``{id: (label, user, time)}`` from an append-only log."""
    p = Path(path)
    state: dict[str, tuple[int, str, str]] = {}
    for line, row in _log_entries(p):
        _apply(state, p, line, row)
    return state


def drop_unfinished_log_line(path: PathLike) -> str | None:
    """Cut an unterminated last line (a write interrupted by a crash) off the log at ``path``.

    Every complete log record ends with a newline, and a change is acknowledged only after its
    record is complete, so such a fragment is a change nobody was told about. Returns the
    fragment removed (decoded leniently, for the message), or None if the log ended cleanly.
    """
    p = Path(path)
    with p.open("rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return None
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return None
        back = min(size, 1 << 16)
        fh.seek(size - back)
        tail = fh.read(back)
        cut = size - back + tail.rfind(b"\n") + 1  # 0 when there is no newline at all
        fh.seek(cut)
        fragment = fh.read()
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
    return fragment.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class LabelRecord:
    """One current label."""

    id: str
    label: int
    user: str
    time: str


class LabelStore:
    """The label set of one user for one dataset, safe to share between request threads.

    ``valid_ids`` (the dataset's ids as strings) restricts what may be labelled. An existing
    ``labels.csv`` is loaded (validated); if only the log exists, the state is replayed from it.
    On opening, the log and the CSV are made consistent again after a crash (:meth:`_recover`).
    """

    def __init__(
        self,
        path: PathLike,
        user: str,
        valid_ids: Collection[str] | None = None,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        if self.path.name.lower().endswith(LOG_SUFFIX + ".csv"):
            raise LabelsError(
                f"{self.path}: a name ending in '{LOG_SUFFIX}.csv' is reserved for label logs; "
                "choose another label file name"
            )
        self.log_path = log_path_for(self.path)
        self.user = check_user(user)
        self.read_only = read_only
        self.valid_ids = _as_set(valid_ids)
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, str, str]] = {}
        self._stamp: tuple[int, int] | None = None
        self._log_seen = 0  # log size (bytes) when this store last made log and CSV agree
        if read_only:
            with self._locked():
                self._reload()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            probe_writable(self.path.parent)
        except OSError as err:
            if err.errno not in _NOT_WRITABLE:
                raise
            raise LabelsError(
                f"{self.path.parent}: the labels folder is not writable ({err.strerror}), so "
                f"{self.path.name} cannot take labels. Browse without labelling with "
                "`astroanom label ... --read-only`, or set labels.path in the config (or give "
                "--user) to a label file in a writable folder"
            ) from None
        with self._locked():
            self._recover()
            self._reload()
            if not self.path.exists():
                self._write_state()
            self._log_seen = self._log_size()

    # -- internals ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The thread lock and an exclusive ``flock`` on the labels folder (shared by every
        store of the folder; a folder lock leaves no lock file behind). A read-only store of a
        folder that does not exist has nothing to lock."""
        with self._lock:
            try:
                fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:
                if not self.read_only:
                    raise
                yield
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _recover(self) -> None:
        """Make the log and the CSV agree after a crash (called under the lock on opening).

        1. An unterminated last log line (killed while appending) is cut off: that change was
           never acknowledged.
        2. If the CSV equals the log replayed without its last entry, the process stopped
           between appending to the log and rewriting the CSV: the CSV is rewritten from the
           log (the change is completed).
        3. Any other difference means the CSV was edited outside the store: the CSV wins and
           the differences are appended to the log (``set``/``delete``), so replaying the log
           gives the CSV again.
        Each repair is logged as a warning. A missing CSV is rebuilt from the log by _reload.
        """
        if not self.log_path.exists():
            return
        self._cut_unfinished_log_line("a write interrupted by a crash")
        if not self.path.exists():
            return
        frame = read_labels(self.path, self.valid_ids)
        csv_state = {r.id: (int(r.label), r.user, r.time) for r in frame.itertuples(index=False)}
        self._settle({}, _log_entries(self.log_path), csv_state)

    def _settle(
        self,
        base: dict[str, tuple[int, str, str]],
        entries: list[tuple[int, dict[str, str]]],
        csv_state: dict[str, tuple[int, str, str]],
    ) -> None:
        """Make the CSV (``csv_state``) agree with the log, whose state before ``entries`` was
        ``base``; rules 2 and 3 of :meth:`_recover`. Leaves ``self._state`` = the agreed state."""
        before = dict(base)
        for line, row in entries[:-1]:
            _apply(before, self.log_path, line, row)
        replayed = dict(before)
        if entries:
            _apply(replayed, self.log_path, *entries[-1])
        self._state = csv_state
        if csv_state == replayed:
            return
        if entries and csv_state == before:
            self._state = replayed
            self._write_state()
            log.warning(
                "%s lacked the last change in %s (%s of id %r; a crash between the two writes): "
                "repaired the CSV from the log",
                self.path,
                self.log_path,
                entries[-1][1]["action"],
                entries[-1][1]["id"],
            )
            return
        changed = [k for k, v in csv_state.items() if replayed.get(k) != v]
        removed = [k for k in replayed if k not in csv_state]
        for key in removed:
            self._append_log("delete", key)
        for key in changed:
            label, user, time = csv_state[key]
            self._append_log("set", key, label, time, user=user)
        log.warning(
            "%s differs from its log %s (edited by hand?): kept the CSV and recorded %d set and "
            "%d delete entries in the log",
            self.path,
            self.log_path,
            len(changed),
            len(removed),
        )

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _sync(self) -> None:
        """Under the lock: load the current state, and if other processes appended to the log
        since this store last did, check that the CSV holds their changes (a writer killed
        between its log append and its CSV rewrite leaves the CSV one change behind)."""
        old = self._state
        self._reload()
        if self.read_only or self._log_size() == self._log_seen:
            return
        entries = _log_entries_after(self.log_path, self._log_seen)
        self._settle(old, entries, self._state)
        self._log_seen = _complete_end(self.log_path)

    def _reload(self) -> None:
        """Load the current state from disk unless it is what this store last wrote."""
        stamp = self._file_stamp()
        if stamp is not None and stamp == self._stamp:
            return
        if stamp is not None:
            frame = read_labels(self.path, self.valid_ids)
            self._state = {
                r.id: (int(r.label), r.user, r.time) for r in frame.itertuples(index=False)
            }
        elif self.log_path.exists():
            self._state = replay_log(self.log_path)
            log.warning(
                "%s missing: rebuilt %d labels from %s", self.path, len(self._state), self.log_path
            )
        else:
            self._state = {}
        self._stamp = stamp

    def _cut_unfinished_log_line(self, cause: str) -> None:
        """Remove a last log line without its line break, with a warning naming ``cause``."""
        fragment = drop_unfinished_log_line(self.log_path)
        if fragment is not None:
            log.warning(
                "%s: removed an unfinished last line %r (%s; that change was never acknowledged)",
                self.log_path,
                fragment[:200],
                cause,
            )

    def _append_log(
        self, action: str, oid: str = "", label: int | str = "", time: str = "", user: str = ""
    ) -> None:
        if self.log_path.exists():
            self._cut_unfinished_log_line("a writer died while appending")
        new = not self.log_path.exists() or self.log_path.stat().st_size == 0
        with self.log_path.open("a", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(LOG_COLUMNS)
            writer.writerow((time or now_iso(), user or self.user, action, oid, label))
            fh.flush()
            os.fsync(fh.fileno())
            self._log_seen = os.fstat(fh.fileno()).st_size  # callers hold the lock, in sync

    def _commit(
        self,
        state: dict[str, tuple[int, str, str]],
        action: str,
        oid: str = "",
        label: int | str = "",
        time: str = "",
    ) -> None:
        """Under the lock: log ``action`` and write ``state`` as the CSV, all or nothing. If
        either write fails (e.g. ``ENOSPC``), the log is cut back to where it was and the state
        kept, so the refused change is never replayed or repaired in later."""
        if self.read_only:
            raise LabelsReadOnlyError(
                f"{self.path}: this labeller is read-only (the labels folder is not writable, "
                "or --read-only was given): labels cannot be changed"
            )
        start = self._log_size()
        try:
            self._append_log(action, oid, label, time)
            self._write_state(state)
        except BaseException:
            self._cut_log(start)
            raise
        self._state = state

    def _cut_log(self, size: int) -> None:
        """Truncate the log back to ``size`` bytes (undo a refused append), durably."""
        try:
            with self.log_path.open("rb+") as fh:
                if fh.seek(0, os.SEEK_END) > size:
                    fh.truncate(size)
                    fh.flush()
                    os.fsync(fh.fileno())
        except FileNotFoundError:
            pass
        except OSError as err:  # pragma: no cover - truncation needs no space
            log.error("%s: cannot undo a refused change (%s)", self.log_path, err)
        self._log_seen = size

    def _write_state(self, state: dict[str, tuple[int, str, str]] | None = None) -> None:
        with atomic_path(self.path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(LABEL_COLUMNS)
            for oid, (label, user, time) in (self._state if state is None else state).items():
                writer.writerow((oid, label, user, time))
        self._stamp = self._file_stamp()

    def _check_id(self, oid: object) -> str:
        if not isinstance(oid, (str, int)) or isinstance(oid, bool):
            raise LabelsError(f"an id must be a string, got {oid!r}")
        key = str(oid)
        if not key.strip() or any(c in key for c in "\r\n\x00"):
            raise LabelsError(
                f"id {key!r} cannot be labelled: an id must be non-empty and hold no line break "
                "or NUL character"
            )
        if self.valid_ids is not None and key not in self.valid_ids:
            raise LabelsError(f"unknown id {key!r}: not an object of this dataset")
        return key

    # -- public API ---------------------------------------------------------------------------
    def set(self, oid: object, label: object) -> LabelRecord:
        """Label object ``oid`` (validated) with ``label`` (0..5); replaces an earlier label."""
        key = self._check_id(oid)
        value = parse_label(label)
        with self._locked():
            self._sync()
            time = now_iso()
            state = {k: v for k, v in self._state.items() if k != key}
            state[key] = (value, self.user, time)
            self._commit(state, "set", key, value, time)
        return LabelRecord(key, value, self.user, time)

    def delete(self, oid: object) -> bool:
        """Remove the label of ``oid``; return whether there was one."""
        key = self._check_id(oid)
        with self._locked():
            self._sync()
            if key not in self._state:
                return False
            self._commit({k: v for k, v in self._state.items() if k != key}, "delete", key)
        return True

    def clear(self) -> int:
        """Remove every label of this user (the log keeps them); return how many there were."""
        with self._locked():
            self._sync()
            n = len(self._state)
            self._commit({}, "clear")
        return n

    def current(self) -> dict[str, int]:
        """``{id: label}`` in the order the labels were last given."""
        with self._locked():
            self._sync()
            return {k: v[0] for k, v in self._state.items()}

    def records(self) -> list[LabelRecord]:
        """All current labels as records, in the order they were last given."""
        with self._locked():
            self._sync()
            return [LabelRecord(k, *v) for k, v in self._state.items()]

    def __len__(self) -> int:
        return len(self.current())


def label_arrays(labels: dict[str, int], id_index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (k,) and labels (k,) for the learner from ``{id: label}``; ids must be known."""
    missing = [k for k in labels if k not in id_index]
    if missing:
        raise LabelsError(
            f"{len(missing)} labelled id(s) are not in the dataset, e.g. {missing[:5]}"
        )
    idx = np.fromiter((id_index[k] for k in labels), dtype=np.int64, count=len(labels))
    lab = np.fromiter(labels.values(), dtype=np.float64, count=len(labels))
    return idx, lab
