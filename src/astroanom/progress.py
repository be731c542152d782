"""Progress of a long step as a few log lines: at every tenth of the work, and after a quiet
spell (10 s, then 20 s, 40 s, ...), never more than ``max_lines`` lines per step (20); a step
done within 2 s writes only its final line.

A workflow job logs to its rule's log file and to stderr (:func:`astroanom.runtime.configure`),
so the lines reach ``results/logs/<run>/<step>.log`` and the terminal; at most 20 per step, so
Snakemake's own log is not flooded. Usage::

    with Progress("features of shard 3", total=len(paths), unit="objects") as bar:
        for path in paths:
            ...
            bar.advance()

prints e.g. ``features of shard 3: 200/2000 objects (10%), 1.9 s, about 17 s left`` and at the
end ``features of shard 3: 2000/2000 objects done in 19.2 s``. :class:`ProgressStream` makes
the same lines from a library's own verbose output (t-SNE iterations, UMAP epochs). Standard
library only.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger("astroanom.progress")

#: Lines at most per step (the last one included); tenths give 10, quiet spells the rest.
MAX_LINES = 20
#: Seconds without a line after which one is written (doubling after each such line).
QUIET_S = 10.0
#: A step quicker than this writes only its final line.
MIN_S = 2.0


class Progress:
    """Bounded progress lines of one step of ``total`` units (``total`` None: unknown).

    A line is written when the work crosses the next tenth (10%, 20%, ...) or when
    ``quiet_s`` seconds passed since the last line (the wait doubles after each such line),
    at most ``max_lines`` lines including the final one (:meth:`done`, also on leaving the
    ``with`` block without an error); none but the final one in the first ``min_s`` seconds
    (a quick step writes one line). ``clock``: seconds, monotonic (for tests)."""

    def __init__(
        self,
        what: str,
        total: int | None,
        unit: str = "",
        logger: logging.Logger | None = None,
        max_lines: int = MAX_LINES,
        quiet_s: float = QUIET_S,
        min_s: float = MIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.unit = what, f" {unit}" if unit else ""
        self.total = None if total is None else max(0, int(total))
        self.log = logger or log
        self.max_lines = max(1, int(max_lines))
        self.quiet_s = float(quiet_s)
        self.min_s = float(min_s)
        self.clock = clock
        self.count = 0
        self.lines = 0
        self._start = self._last = clock()
        self._count0, self._start0 = 0, self._start  # where the time-left estimate starts
        self._wait = self.quiet_s
        self._next_tenth = 1
        self._finished = False
        self._message: str | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.done()

    def advance(self, n: int = 1, message: str | None = None) -> None:
        """``n`` more units done; writes a line when one is due: ``message`` (e.g. an
        epoch's loss) when given, else the count, percentage, time and time left."""
        self.count += int(n)
        self._message = message
        now = self.clock()
        due = False
        if self.total:
            tenth = (10 * self.count) // self.total
            if tenth >= self._next_tenth:
                self._next_tenth = tenth + 1
                due = self.count < self.total  # the end is done()'s line
        if not due and now - self._last >= self._wait:
            due = True
            self._wait *= 2
        quick = now - self._start < self.min_s
        if due and not quick and self.lines < self.max_lines - 1:  # one line kept for done()
            self._emit(f"{self.what}: {message}" if message else self._line(now))
            self._last = now

    def set_total(self, total: int) -> None:
        """Learn the total once counting starts (e.g. UMAP's epochs, known only after its
        neighbour graph): the time left is then estimated from this moment on."""
        self.total = max(0, int(total))
        self._count0, self._start0 = self.count, self.clock()

    def done(self) -> None:
        """The final line (once): units done and the time taken."""
        if self._finished:
            return
        self._finished = True
        seconds = self.clock() - self._start
        of = f"/{self.total}" if self.total is not None else ""
        last = f"{self._message}; " if self._message else ""
        self._emit(f"{self.what}: {last}{self.count}{of}{self.unit} done in {seconds:.1f} s")

    def _line(self, now: float) -> str:
        seconds = now - self._start
        if not self.total:
            return f"{self.what}: {self.count}{self.unit}, {seconds:.1f} s"
        frac = min(self.count / self.total, 1.0)
        rate_frac = (self.count - self._count0) / self.total  # since the total was known
        rate_s = now - self._start0
        left = rate_s * (1 - frac) / rate_frac if rate_frac > 0 else float("nan")
        eta = f", about {left:.0f} s left" if rate_frac > 0 else ""
        return (
            f"{self.what}: {self.count}/{self.total}{self.unit} ({100 * frac:.0f}%), "
            f"{seconds:.1f} s{eta}"
        )

    def _emit(self, text: str) -> None:
        self.lines += 1
        self.log.info("%s", text)


class ProgressStream(io.TextIOBase):
    """A text stream that turns a library's verbose output into :class:`Progress` lines: each
    line (``\\n`` or ``\\r`` ended) matching ``pattern`` advances ``bar`` to the count in the
    pattern's first group (its second group, if any, sets the total); any other line goes to
    the debug log. E.g. scikit-learn's t-SNE printing ``[t-SNE] Iteration 50: ...`` under
    ``contextlib.redirect_stdout``, or a tqdm bar given ``file=``."""

    def __init__(self, bar: Progress, pattern: str) -> None:
        super().__init__()
        self.bar = bar
        self.pattern = re.compile(pattern)
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = re.split(r"[\r\n]", self._pending)
        for line in lines:
            self._line(line)
        return len(text)

    def flush(self) -> None:
        """Nothing is held back but an unfinished line (used when the stream is closed)."""

    def close(self) -> None:
        if self._pending:
            self._line(self._pending)
            self._pending = ""
        super().close()

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        m = self.pattern.search(line)
        if m is None:
            self.bar.log.debug("%s: %s", self.bar.what, line.strip())
            return
        if m.lastindex and m.lastindex >= 2 and self.bar.total is None:
            self.bar.set_total(int(m[2]))
        done = int(m[1])
        if done > self.bar.count:
            self.bar.advance(done - self.bar.count)


def chunks(n: int, parts: int = 20, minimum: int = 1) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges covering ``range(n)`` in order: ``parts`` ranges of equal size
    (the last shorter), each at least ``minimum`` long, so a vectorised step over ``n`` items
    can advance a :class:`Progress` between them. ``chunks(10, 4)`` is
    ``[(0, 3), (3, 6), (6, 9), (9, 10)]``."""
    if n <= 0:
        return []
    size = max(int(minimum), -(-int(n) // max(1, int(parts))))
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]
