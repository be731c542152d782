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
end ``features of shard 3: 2000/2000 objects done in 19.2 s``. Standard library only.
"""

from __future__ import annotations

import logging
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
        left = seconds * (1 - frac) / frac if frac > 0 else float("nan")
        eta = f", about {left:.0f} s left" if frac > 0 else ""
        return (
            f"{self.what}: {self.count}/{self.total}{self.unit} ({100 * frac:.0f}%), "
            f"{seconds:.1f} s{eta}"
        )

    def _emit(self, text: str) -> None:
        self.lines += 1
        self.log.info("%s", text)
