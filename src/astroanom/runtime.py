"""Process set-up shared by the workflow's scripts: a log file and a thread limit."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

from astroanom.procs import end_children_on_signals

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(log_path: str | os.PathLike[str] | None, threads: int = 1) -> None:
    """Send logging (INFO and up) and warnings to ``log_path`` and stderr; cap BLAS/OpenMP
    thread pools at ``threads`` so a job uses the cores Snakemake gave it, no more; make
    SIGINT/SIGTERM/SIGHUP end the job's worker processes too (:mod:`astroanom.procs`)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    for noisy in ("fontTools", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught
    threadpool_limits(limits=max(1, int(threads)))
    os.environ["OMP_NUM_THREADS"] = str(max(1, int(threads)))
    end_children_on_signals()  # SIGINT/SIGTERM to the job also end its worker processes


def _log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: object) -> None:
    """Write an uncaught error to the job's log (user errors as one clear line), then exit."""
    from astroanom.errors import AstroanomError

    logger = logging.getLogger("astroanom")
    if isinstance(exc, AstroanomError):
        logger.error("%s: %s", exc_type.__name__, exc)
    else:
        logger.error("unexpected error", exc_info=(exc_type, exc, tb))  # type: ignore[arg-type]
    logging.shutdown()
