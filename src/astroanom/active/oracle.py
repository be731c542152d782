"""Simulated labellers and the labelling loops of the paper's experiments.

An oracle turns object indices into integer relevance labels U in 0..5, as a human would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from astroanom.active.score import ActiveResult, RelevanceLearner
from astroanom.errors import ConfigError
from astroanom.evaluate.metrics import rank_order


class ClassOracle:
    """Relevance by class: ``relevance[class_of_object]`` (simulation, paper section 6)."""

    def __init__(self, classes: np.ndarray, relevance: Mapping[int, int]) -> None:
        present = {int(c) for c in np.unique(classes)}
        missing = sorted(present - {int(k) for k in relevance})
        if missing:
            raise ConfigError(
                f"the oracle's relevance map has no entry for class(es) {missing}; "
                f"add them to oracle.relevance (it has {sorted(int(k) for k in relevance)})"
            )
        bad = {k: v for k, v in relevance.items() if not 0 <= int(v) <= 5}
        if bad:
            raise ConfigError(f"oracle relevance must be integers 0..5, got {bad}")
        lut = np.zeros(max(present | {int(k) for k in relevance}) + 1, dtype=np.int64)
        for k, v in relevance.items():
            lut[int(k)] = int(v)
        self._labels = lut[np.asarray(classes, dtype=np.int64)]

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        return self._labels[np.asarray(indices, dtype=np.int64)]


class FractionOracle:
    """Relevance from a vote fraction f in [0, 1]: U = round(5 f) (Galaxy Zoo "odd" votes)."""

    def __init__(self, fractions: np.ndarray) -> None:
        f = np.asarray(fractions, dtype=np.float64)
        if not np.isfinite(f).all() or (f < 0).any() or (f > 1).any():
            raise ConfigError("vote fractions must be finite and within [0, 1]")
        self._labels = np.rint(5.0 * f).astype(np.int64)

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        return self._labels[np.asarray(indices, dtype=np.int64)]


@dataclass
class LoopResult:
    """Incremental loop outcome: scores (rounds+1, n) ranking after each round (row 0 = S),
    n_labels (rounds+1,), and the labelled indices and labels in the order they were given."""

    scores: np.ndarray
    n_labels: np.ndarray
    labelled: np.ndarray
    labels: np.ndarray


def next_to_label(score: np.ndarray, already: np.ndarray, batch: int) -> np.ndarray:
    """The ``batch`` highest-ranked objects by ``score`` that are not in ``already``."""
    taken = np.zeros(score.size, dtype=bool)
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
    while labelled.size < budget:
        new = next_to_label(score, labelled, min(batch, budget - labelled.size))
        if new.size == 0:
            return
        labelled = np.concatenate([labelled, new])
        labels = np.concatenate([labels, np.asarray(oracle(new))])
        score = np.asarray(refit(labelled, labels), dtype=np.float64)
        yield labelled, labels, score


def incremental_loop(
    X: np.ndarray,
    S: np.ndarray,
    oracle: ClassOracle | FractionOracle,
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
    oracle: ClassOracle | FractionOracle,
    learner: RelevanceLearner,
    n_labels: int = 100,
    alpha: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, ActiveResult]:
    """Label the top ``n_labels`` by S and retrain once; return (labelled, labels, result)."""
    labelled = rank_order(S)[:n_labels]
    labels = oracle(labelled)
    return labelled, labels, learner.retrain(X, S, labelled, labels, alpha=alpha)


def class_shares(
    score: np.ndarray, classes: np.ndarray, class_ids: Sequence[int], top: int
) -> dict[int, float]:
    """Fraction of the ``top`` highest-ranked objects that belong to each class in ``class_ids``."""
    ranked = np.asarray(classes)[rank_order(score)[:top]]
    return {int(c): float(np.mean(ranked == c)) for c in class_ids}
