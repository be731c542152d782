"""Process set-up shared by the workflow's scripts: a log file and a thread limit."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

from astroanom.procs import end_children_on_signals

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Environment variables that size the thread pools of BLAS/OpenMP/numba in child processes
#: (and in this one, for libraries not yet loaded).
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def limit_threads(n: int) -> int:
    """Bound every BLAS/OpenMP pool of this process to ``n`` threads (threadpoolctl) and set
    ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``NUMBA_NUM_THREADS``
    and ``OMP_WAIT_POLICY=PASSIVE`` for libraries loaded later and for child processes (when
    numba is already loaded its pool is bounded with ``numba.set_num_threads`` instead).

    A passive wait policy makes idle OpenMP threads sleep instead of spinning, which on a
    shared machine (more runnable threads than cores) otherwise costs several times the
    run time. Returns the bound used (at least 1).
    """
    n = max(1, int(n))
    numba_loaded = "numba" in sys.modules
    for var in THREAD_ENV_VARS:
        if var == "NUMBA_NUM_THREADS" and numba_loaded:
            continue  # numba refuses a changed value once its threads run; set_num_threads below
        os.environ[var] = str(n)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    threadpool_limits(limits=n)
    if numba_loaded:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    return n


def configure(log_path: str | os.PathLike[str] | None, threads: int = 1) -> None:
    """Send logging (INFO and up) and warnings to ``log_path`` and stderr; cap BLAS/OpenMP
    thread pools at ``threads`` so a job uses the cores Snakemake gave it, no more
    (:func:`limit_threads`); make SIGINT/SIGTERM/SIGHUP end the job's worker processes too
    (:mod:`astroanom.procs`)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    for noisy in ("fontTools", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught
    limit_threads(threads)
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
