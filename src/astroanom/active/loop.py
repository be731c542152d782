"""THE labelling loop: every path that labels objects goes through :func:`labelling_loop`.

Round 0 ranks by the strategy's score without labels (the detector's S for ``paper``, ``none``
and ``gp``); each round shows the ``batch`` highest-ranked unlabelled objects to an oracle,
refits the strategy on all labels so far (:func:`refit_strategy`) and re-ranks, until
``budget`` labels. The single retrain is one round with ``batch = budget``; the incremental
loop and the benchmark use the dataset's ``batch``; the labeller refits through
:func:`refit_strategy` on the labels a person gave. The *viewed order* is the labelled objects
in the order they were shown, then the rest by the final ranking
(:func:`astroanom.ordering.viewing_order`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from astroanom.errors import AstroanomError, ConfigError
from astroanom.ordering import rank_order, viewing_order, without
from astroanom.progress import Progress

if TYPE_CHECKING:
    from astroanom.active.strategies import Strategy

log = logging.getLogger("astroanom.active.loop")

#: An oracle maps row indices (k,) to labels U (k,); an optional boolean attribute
#: ``unknown`` (n,) marks objects it cannot judge (no truth): they are never shown to it.
Oracle = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LoopResult:
    """Outcome of one labelling loop of ``rounds`` rounds over n objects.

    shown (k,) row indices in the order they were shown (k <= budget); labels (k,) float64 the
    oracle's U for them; scores (rounds + 1, n) float64 the ranking score before any label
    (row 0) and after each round's refit; n_labels (rounds + 1,) the labels behind each row of
    ``scores``; seconds: wall time of all fits and scorings of the strategy.
    """

    shown: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    n_labels: np.ndarray
    seconds: float

    @property
    def rounds(self) -> int:
        """Number of rounds (refits) done."""
        return int(self.n_labels.size - 1)

    @property
    def final(self) -> np.ndarray:
        """The ranking score (n,) after the last refit (before any label if none was shown)."""
        return self.scores[-1]

    @property
    def viewed(self) -> np.ndarray:
        """The viewed order (n,): ``shown`` in order, then the rest by :attr:`final`."""
        return viewing_order(self.shown, self.final)

    @property
    def label_round(self) -> np.ndarray:
        """The round (1, 2, ...) in which each of ``shown`` (k,) was labelled."""
        per_round = np.diff(self.n_labels)
        return np.repeat(np.arange(1, per_round.size + 1, dtype=np.int64), per_round)


def next_to_label(
    score: np.ndarray, already: np.ndarray, batch: int, skip: np.ndarray | None = None
) -> np.ndarray:
    """The ``batch`` highest-ranked objects by ``score`` (n,) not in ``already`` (indices) nor
    in ``skip`` (boolean (n,)); ties in input order."""
    taken = np.zeros(score.size, dtype=bool) if skip is None else skip.copy()
    taken[already] = True
    return without(rank_order(score), taken)[:batch]


def _unknown(oracle: Oracle) -> np.ndarray | None:
    mask = getattr(oracle, "unknown", None)
    return None if mask is None or not np.any(mask) else np.asarray(mask, dtype=bool)


def labelling_loop(
    X: np.ndarray,
    S: np.ndarray,
    oracle: Oracle,
    strategy: Strategy,
    batch: int,
    budget: int,
) -> LoopResult:
    """Rank, show the ``batch`` best unlabelled objects to ``oracle``, refit ``strategy`` on
    all labels so far; repeat until ``budget`` labels or no object is left to show.

    ``X`` (n, m) features, ``S`` (n,) detector score on 0..5. Objects the oracle marks
    ``unknown`` are never shown; an object is never shown twice. ``batch = budget`` is the
    single retrain.
    """
    n = X.shape[0]
    if batch < 1 or budget < 0:
        raise ConfigError(f"need batch >= 1 and budget >= 0; got batch={batch}, budget={budget}")
    S = np.asarray(S, dtype=np.float64)
    skip = _unknown(oracle)
    shown = np.empty(0, dtype=np.int64)
    labels = np.empty(0, dtype=np.float64)
    t0 = time.perf_counter()
    scores, counts = [refit_strategy(strategy, X, S, shown, labels)], [0]
    what = f"labelling loop ({getattr(strategy, 'name', type(strategy).__name__)})"
    bar = Progress(what, budget, "labels", logger=log)
    while shown.size < budget:
        new = next_to_label(scores[-1], shown, min(batch, budget - shown.size), skip)
        if new.size == 0:
            log.warning(
                "only %d of the %d objects can be shown (%d without truth); the budget of %d "
                "labels stops at %d",
                n - (0 if skip is None else int(skip.sum())),
                n,
                0 if skip is None else int(skip.sum()),
                budget,
                shown.size,
            )
            break
        shown = np.concatenate([shown, new])
        labels = np.concatenate([labels, np.asarray(oracle(new), dtype=np.float64)])
        scores.append(refit_strategy(strategy, X, S, shown, labels))
        counts.append(shown.size)
        bar.advance(new.size)
    if budget > batch:  # a loop of several rounds (the single retrain is one refit)
        bar.done()
    seconds = time.perf_counter() - t0
    return LoopResult(shown, labels, np.stack(scores), np.asarray(counts, np.int64), seconds)


def refit_strategy(
    strategy: Strategy, X: np.ndarray, S: np.ndarray, labelled: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """One refit of a strategy on all labels so far; its checked ranking score (n,). The
    labeller's Retrain and every round of :func:`labelling_loop` go through here."""
    score = strategy.fit(X, S, labelled, np.asarray(labels, dtype=np.float64)).score()
    score = np.asarray(score, dtype=np.float64)
    _check_score(score, X.shape[0], strategy)
    return score


def _check_score(score: np.ndarray, n: int, strategy: Strategy) -> None:
    name = getattr(strategy, "name", type(strategy).__name__)
    if score.shape != (n,):
        raise AstroanomError(f"strategy {name!r} returned shape {score.shape}; expected ({n},)")
    if not np.isfinite(score).all():
        raise AstroanomError(
            f"strategy {name!r} returned NaN or inf for {int((~np.isfinite(score)).sum())} object(s)"
        )
