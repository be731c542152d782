"""THE labelling loop: every path that labels objects goes through :func:`labelling_loop`.

Round 0 ranks by the strategy's score without labels (the detector's S for ``paper``, ``none``
and ``gp``); each round shows the ``batch`` highest-ranked unlabelled objects to an oracle,
refits the strategy on all labels so far (:func:`refit_strategy`) and re-ranks, until
``budget`` labels. The single retrain is one round with ``batch = budget``; the incremental
loop and the benchmark use the dataset's ``batch``; the labeller refits through
:func:`refit_strategy` on the labels a person gave. The *viewed order* is the labelled objects
in the order they were shown, then the rest by the final ranking
(:func:`astroanom.ordering.viewing_order`).

*Known examples* ("find more like these"): objects the user already knows, with a relevance,
given before the first round. Every strategy is fitted on them from round 0; they are never
shown to the oracle, do not count towards ``budget`` and are left out of the viewed order (a
known object is never "found").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from astroanom.errors import AstroanomError, ConfigError
from astroanom.ordering import top_order, viewing_order, without
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
    (row 0) and after each round's refit; n_labels (rounds + 1,) the oracle's labels behind
    each row of ``scores`` (known examples not counted); seconds: wall time of all fits and
    scorings of the strategy; known (k0,) row indices of the known examples given before round
    0 and known_labels (k0,) their relevance (every fit used them).
    """

    shown: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    n_labels: np.ndarray
    seconds: float
    known: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    known_labels: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

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
        """The viewed order (n - k0,): ``shown`` in order, then the rest by :attr:`final`;
        the known examples are left out (the user had them before looking)."""
        order = viewing_order(self.shown, self.final)
        return without(order, self.known) if self.known.size else order

    def after(self, n_labels: int) -> LoopResult:
        """The loop's state after its first ``n_labels`` labels (a round must end there; see
        ``stops`` of :func:`labelling_loop`): equal to a loop run with ``budget = n_labels``
        (``seconds`` stays the whole loop's)."""
        hit = np.flatnonzero(self.n_labels == n_labels)
        if hit.size == 0:
            raise ConfigError(
                f"no round of this loop ends after {n_labels} labels (rounds end after "
                f"{self.n_labels.tolist()[:20]}); pass stops=[{n_labels}] to labelling_loop"
            )
        r = int(hit[0])
        k = int(self.n_labels[r])
        return LoopResult(
            self.shown[:k],
            self.labels[:k],
            self.scores[: r + 1],
            self.n_labels[: r + 1],
            self.seconds,
            self.known,
            self.known_labels,
        )

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
    return top_order(score, batch, taken)


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
    known: np.ndarray | None = None,
    known_labels: np.ndarray | None = None,
    stops: Sequence[int] = (),
) -> LoopResult:
    """Rank, show the ``batch`` best unlabelled objects to ``oracle``, refit ``strategy`` on
    all labels so far; repeat until ``budget`` labels or no object is left to show.

    ``X`` (n, m) features, ``S`` (n,) detector score on 0..5. Objects the oracle marks
    ``unknown`` are never shown; an object is never shown twice. ``batch = budget`` is the
    single retrain. ``known`` (k0,) row indices with relevance ``known_labels`` (k0,) in 0..5:
    known examples, in every fit from round 0, never shown, not counted in ``budget``.
    ``stops``: label counts (< ``budget``) at which a round ends, the last batch before each
    cut short like a loop to that budget, so :meth:`LoopResult.after` gives the state a loop of
    budget b would end in (one loop to the largest budget evaluates every smaller one).
    """
    n = X.shape[0]
    if batch < 1 or budget < 0:
        raise ConfigError(f"need batch >= 1 and budget >= 0; got batch={batch}, budget={budget}")
    S = np.asarray(S, dtype=np.float64)
    kidx, klab = check_known(known, known_labels, n)
    skip = _unknown(oracle)
    skip = np.zeros(n, dtype=bool) if skip is None else skip.copy()
    skip[kidx] = True
    shown = np.empty(0, dtype=np.int64)
    labels = np.empty(0, dtype=np.float64)
    t0 = time.perf_counter()
    scores, counts = [refit_strategy(strategy, X, S, kidx, klab)], [0]
    what = f"labelling loop ({getattr(strategy, 'name', type(strategy).__name__)})"
    bar = Progress(what, budget, "labels", logger=log)
    cuts = sorted({int(b) for b in stops if 0 < int(b) < budget} | {budget})
    while shown.size < budget:
        limit = next(c for c in cuts if c > shown.size)
        new = next_to_label(scores[-1], shown, min(batch, limit - shown.size), skip)
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
        scores.append(
            refit_strategy(
                strategy, X, S, np.concatenate([kidx, shown]), np.concatenate([klab, labels])
            )
        )
        counts.append(shown.size)
        bar.advance(new.size)
    if budget > batch:  # a loop of several rounds (the single retrain is one refit)
        bar.done()
    seconds = time.perf_counter() - t0
    counts_arr = np.asarray(counts, np.int64)
    return LoopResult(shown, labels, np.stack(scores), counts_arr, seconds, kidx, klab)


def check_known(
    known: np.ndarray | None, known_labels: np.ndarray | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Known examples as (indices (k0,) int64, relevance (k0,) float64); checked: same length,
    indices in 0..n-1 and distinct, relevance finite in 0..5."""
    from astroanom.active.score import U_MAX

    if known is None:
        if known_labels is not None:
            raise ConfigError("known_labels given without known (the objects' row indices)")
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    idx = np.asarray(known, dtype=np.int64).ravel()
    lab = np.asarray(known_labels, dtype=np.float64).ravel() if known_labels is not None else None
    if lab is None or lab.size != idx.size:
        raise ConfigError(
            f"{idx.size} known example(s) need as many relevance values; got "
            f"{'none' if lab is None else lab.size}"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ConfigError(f"known example row index out of range 0..{n - 1}: {idx.tolist()[:10]}")
    if np.unique(idx).size != idx.size:
        raise ConfigError("an object is given twice among the known examples")
    if not (np.isfinite(lab).all() and (lab >= 0).all() and (lab <= U_MAX).all()):
        raise ConfigError(
            f"known examples' relevance must lie in 0..{U_MAX:g}; got {lab.tolist()[:10]}"
        )
    return idx, lab


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
