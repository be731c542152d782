"""THE labelling loop, used by the experiments, the benchmark and the labeller.

Round 0 ranks by a first score (the detector's S, or a strategy's score without labels); each
round shows the ``batch`` highest-ranked unlabelled objects to an oracle, refits on all labels
so far and re-ranks, until ``budget`` labels. The *viewed order* is the labelled objects in the
order they were shown, then the rest by the final ranking.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from astroanom.active.score import ActiveResult, RelevanceLearner
from astroanom.errors import AstroanomError, ConfigError
from astroanom.evaluate.metrics import rank_order

if TYPE_CHECKING:
    from astroanom.active.strategies import Strategy

#: An oracle maps row indices (k,) to labels U (k,); an optional boolean attribute
#: ``unknown`` (n,) marks objects it cannot judge (no truth): they are never shown to it.
Oracle = Callable[[np.ndarray], np.ndarray]


def _unknown(oracle: Oracle) -> np.ndarray | None:
    mask = getattr(oracle, "unknown", None)
    return None if mask is None or not np.any(mask) else np.asarray(mask, dtype=bool)


@dataclass
class LoopResult:
    """Incremental loop outcome: scores (rounds+1, n) ranking after each round (row 0 = S),
    n_labels (rounds+1,), and the labelled indices and labels in the order they were given."""

    scores: np.ndarray
    n_labels: np.ndarray
    labelled: np.ndarray
    labels: np.ndarray


def next_to_label(
    score: np.ndarray, already: np.ndarray, batch: int, skip: np.ndarray | None = None
) -> np.ndarray:
    """The ``batch`` highest-ranked objects by ``score`` not in ``already`` nor in ``skip``."""
    taken = np.zeros(score.size, dtype=bool) if skip is None else skip.copy()
    taken[already] = True
    order = rank_order(score)
    return order[~taken[order]][:batch]


def labelling_rounds(
    first: np.ndarray,
    refit: Callable[[np.ndarray, np.ndarray], np.ndarray],
    oracle: Callable[[np.ndarray], np.ndarray],
    batch: int,
    budget: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The labelling loop shared by the experiments and the benchmark.

    Starting from the ranking ``first`` (n,), show the ``batch`` highest-ranked unlabelled
    objects to ``oracle``, get the next ranking from ``refit(labelled, labels)``, and repeat
    until ``budget`` labels (or no object is left). Yields (labelled, labels, score) after each
    refit; labelled objects are never shown again.
    """
    labelled = np.empty(0, dtype=np.int64)
    labels = np.empty(0, dtype=np.int64)
    score = np.asarray(first, dtype=np.float64)
    skip = _unknown(oracle)
    while labelled.size < budget:
        new = next_to_label(score, labelled, min(batch, budget - labelled.size), skip)
        if new.size == 0:
            return
        labelled = np.concatenate([labelled, new])
        labels = np.concatenate([labels, np.asarray(oracle(new))])
        score = np.asarray(refit(labelled, labels), dtype=np.float64)
        yield labelled, labels, score


def incremental_loop(
    X: np.ndarray,
    S: np.ndarray,
    oracle: Oracle,
    learner: RelevanceLearner,
    batch: int = 10,
    budget: int = 100,
    alpha: float = 1.0,
) -> LoopResult:
    """Label ``batch`` top-ranked unlabelled objects, retrain, re-rank; repeat up to ``budget``.

    Round 0 ranks by the detector score S; every later round by the retrained S^. An object is
    never labelled twice.
    """
    if batch < 1 or budget < batch:
        raise ConfigError(f"need 1 <= batch <= budget, got batch={batch}, budget={budget}")
    S = np.asarray(S, dtype=np.float64)
    scores, counts = [S], [0]
    last = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), S)

    def refit(lab: np.ndarray, y: np.ndarray) -> np.ndarray:
        return learner.retrain(X, S, lab, y, alpha=alpha).score

    for last in labelling_rounds(S, refit, oracle, batch, budget):
        scores.append(last[2])
        counts.append(last[0].size)
    return LoopResult(np.stack(scores), np.asarray(counts), last[0], last[1])


def single_retrain(
    X: np.ndarray,
    S: np.ndarray,
    oracle: Oracle,
    learner: RelevanceLearner,
    n_labels: int = 100,
    alpha: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, ActiveResult]:
    """Label the top ``n_labels`` by S and retrain once; return (labelled, labels, result)."""
    order = rank_order(S)
    skip = _unknown(oracle)
    if skip is not None:
        order = order[~skip[order]]
    labelled = order[:n_labels]
    labels = oracle(labelled)
    return labelled, labels, learner.retrain(X, S, labelled, labels, alpha=alpha)


@dataclass(frozen=True)
class LabellingRun:
    """Outcome of one labelling loop.

    labelled (budget,) row indices in the order shown; labels (budget,) the oracle's U;
    final (n,) the strategy's ranking score after the last refit; viewed (n,) the viewed order;
    seconds: wall time of all fits and scorings of the strategy.
    """

    labelled: np.ndarray
    labels: np.ndarray
    final: np.ndarray
    viewed: np.ndarray
    seconds: float


def viewing_order(labelled: np.ndarray, final: np.ndarray) -> np.ndarray:
    """The viewed order (n,): ``labelled`` in order, then the rest ranked by ``final`` (n,)."""
    rest = rank_order(final)
    seen = np.zeros(final.size, dtype=bool)
    seen[labelled] = True
    return np.concatenate([np.asarray(labelled, dtype=np.int64), rest[~seen[rest]]])


def labelling_loop(
    X: np.ndarray,
    S: np.ndarray,
    oracle: Oracle,
    strategy: Strategy,
    batch: int,
    budget: int,
) -> LabellingRun:
    """Incremental labelling: rank, label the ``batch`` best unlabelled, refit; up to ``budget``."""
    n = X.shape[0]
    if batch < 1 or budget < 0 or budget > n:
        raise ConfigError(
            f"need batch >= 1 and 0 <= budget <= n objects ({n}); got {batch}, {budget}"
        )
    labelled = np.empty(0, dtype=np.int64)
    labels = np.empty(0, dtype=np.float64)
    t0 = time.perf_counter()
    score = np.asarray(strategy.fit(X, S, labelled, labels).score(), dtype=np.float64)
    _check_score(score, n, strategy)

    def refit(lab: np.ndarray, y: np.ndarray) -> np.ndarray:
        return refit_strategy(strategy, X, S, lab, y)

    last = (labelled, labels, score)
    for last in labelling_rounds(score, refit, oracle, batch, budget):  # noqa: B007
        pass
    labelled, labels, score = last[0], last[1].astype(np.float64), last[2]
    seconds = time.perf_counter() - t0
    return LabellingRun(labelled, labels, score, viewing_order(labelled, score), seconds)


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
