"""Steps of ``workflow/rules/active.smk``: the single retrain and the incremental loop.

Both build the dataset's ``strategy:`` (:func:`astroanom.active.strategies.strategy_from_config`).
Simulated oracle (the paper's experiments, a dataset with truth): the labelling loop
(:func:`astroanom.active.loop.labelling_loop`) with one round of ``budget`` labels (the single
retrain) and with ``batch`` labels per round (the incremental loop). Human oracle (the
default): one refit of the strategy on the user's label file; with no labels yet the ranking
stays by S and the log says how to start labelling.

Known examples (the dataset's ``known:``, :mod:`astroanom.active.known`) are given to every
path before the first object is shown: the simulated loops pass them as ``known=`` (fitted from
round 0, never shown, not in the budget); the human retrain fits them with the user's labels
(a user's label of a known object wins). Their relevance is the ``known`` column of the
outputs (NaN for the other objects).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from astroanom.ordering import top_order
from astroanom.store.io import read_features, write_parquet, write_text

if TYPE_CHECKING:
    from astroanom.active.strategies import Strategy
    from astroanom.store.users import Combined

log = logging.getLogger("astroanom.active")
#: Objects whose score an intermediate round of ``rounds.parquet`` keeps (its top by score).
KEEP_TOP = 1000


PathLike = str | os.PathLike[str]


def aligned(ids: np.ndarray, *tables: tuple[str, pd.DataFrame]) -> None:
    """Raise ValueError unless every table's ``id`` column equals ``ids`` row for row."""
    want = np.asarray(ids).astype(str)
    for name, table in tables:
        have = table["id"].to_numpy().astype(str)
        if have.shape != want.shape or not np.array_equal(have, want):
            raise ValueError(
                f"the {name} table's ids do not match the feature table's ids row for row; "
                "rerun the workflow from the features step (snakemake --forcerun)"
            )


def read_inputs(
    features: PathLike, scores: PathLike
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features (table, float32 (n, m)) and S (n,) of a run, checked row for row."""
    df, X = read_features(features)
    sc = pd.read_parquet(scores)
    aligned(df["id"].to_numpy(), ("scores", sc))
    return df, X, sc["S"].to_numpy(dtype=np.float64)


def _oracle(
    features_ids: np.ndarray,
    truth: PathLike,
    truth_spec: Mapping[str, Any],
    oracle: Mapping[str, Any],
):
    from astroanom.active.oracle import make_oracle

    t = pd.read_parquet(truth)
    aligned(features_ids, ("truth", t))
    return make_oracle(t, truth_spec, oracle)


def _write_active(
    ids: np.ndarray,
    S: np.ndarray,
    labelled: np.ndarray,
    labels: np.ndarray,
    U: np.ndarray,
    d: np.ndarray,
    score: np.ndarray,
    out: PathLike,
    known: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    label_col = np.full(S.size, np.nan)
    label_col[labelled] = labels
    frame = pd.DataFrame({"id": ids, "S": S, "U": U, "d": d, "score": score, "label": label_col})
    frame["known"] = _known_column(S.size, known)
    write_parquet(frame, out)


def _known_column(n: int, known: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Relevance (n,) of the known examples, NaN for every other object."""
    col = np.full(n, np.nan)
    if known is not None:
        col[known[0]] = known[1]
    return col


def known_examples(
    spec: Mapping[str, Any] | None, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (k0,) and relevance (k0,) of a dataset's ``known:`` entry among ``ids`` (n,); an id
    that is not an object of the run is an error naming it."""
    from astroanom.active.known import known_rows, read_known

    known = read_known(spec)
    if not known:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    rows, rel = known_rows(known, ids)
    log.info("%d known example(s) given before the first object is shown", rows.size)
    return rows, rel


def human_labels(path: PathLike | None, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (k,) and labels (k,) of one user's label file, validated against ``ids`` (n,)."""
    if path is None or not Path(path).is_file():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    rows, labels, _ = team_labels([path], ids)
    return rows, labels


def team_labels(
    files: Sequence[PathLike],
    ids: np.ndarray,
    labels_cfg: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, Combined]:
    """Rows (k,) and one relevance each (k,) from every user's label file in ``files``,
    combined by ``labels_cfg["combine"]`` (:mod:`astroanom.store.users`), and the
    :class:`~astroanom.store.users.Combined` record (users, counts, disputes)."""
    from astroanom.store.labels import label_arrays
    from astroanom.store.users import DEFAULT_COMBINE, DEFAULT_DISPUTE_SPREAD, combine_labels

    cfg = labels_cfg or {}
    keys = np.asarray(ids).astype(str)
    index = {k: i for i, k in enumerate(keys)}
    combined = combine_labels(
        [f for f in files if Path(f).is_file()],
        rule=cfg.get("combine", DEFAULT_COMBINE),
        valid_ids=index.keys(),
        dispute_spread=int(cfg.get("dispute_spread", DEFAULT_DISPUTE_SPREAD)),
    )
    rows, labels = label_arrays(combined.labels, index)
    return rows, labels, combined


def _strategy(
    strategy: Mapping[str, Any], shared: Mapping[str, Any], seed: int, threads: int
) -> Strategy:
    from astroanom.active.strategies import strategy_from_config

    return strategy_from_config(strategy, seed=seed, n_jobs=threads, shared=shared)


def _paper_terms(strategy: Strategy, n: int) -> tuple[np.ndarray, np.ndarray]:
    """U and d (n,) of the strategy's last refit where it has them (the paper's), else NaN."""
    res = getattr(strategy, "result", None)
    if res is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    return res.U, res.d


def retrain_step(
    features: PathLike,
    scores: PathLike,
    active: PathLike,
    oracle: Mapping[str, Any],
    strategy: Mapping[str, Any],
    shared: Mapping[str, Any],
    seed: int,
    threads: int = 1,
    truth: PathLike | None = None,
    truth_spec: Mapping[str, Any] | None = None,
    label_files: Sequence[PathLike] = (),
    dataset: str = "",
    labels_cfg: Mapping[str, Any] | None = None,
    labels_used: PathLike | None = None,
    known: Mapping[str, Any] | None = None,
    state: PathLike | None = None,
) -> None:
    """The single retrain; writes id, S, U, d, score (the strategy's ranking score), label,
    and, to ``state``, the refitted relevance model as the bundle keeps it
    (:func:`astroanom.bundle.relevance_part`).

    Simulated oracle: one round of the labelling loop with ``batch = oracle.budget`` (the top
    ``budget`` of the strategy's label-free ranking, S for the paper's score). Human oracle:
    every user's labels in ``label_files`` (the selected ``labels/<dataset>/<user>.csv``),
    one relevance per object by ``labels_cfg["combine"]`` (the config's ``labels``
    section; :mod:`astroanom.store.users`). Both refit the dataset's ``strategy``; U and d are
    NaN for a strategy without them. ``shared``: the ``active_learning`` section.
    ``labels_used``: JSON record of whose labels were used (users, counts, file hashes,
    disputes), written when given.
    ``known``: the dataset's known examples (see the module docstring).
    """
    df, X, S = read_inputs(features, scores)
    ids = df["id"].to_numpy()
    kidx, klab = known_examples(known, ids)
    t0 = time.perf_counter()
    if oracle["mode"] == "simulated":
        from astroanom.active.loop import labelling_loop

        strat = _strategy(strategy, shared, seed, threads)
        orc = _oracle(ids, truth, truth_spec, oracle)
        budget = int(oracle["budget"])
        run = labelling_loop(
            X, S, orc, strat, batch=budget, budget=budget, known=kidx, known_labels=klab
        )
        fit = with_known(kidx, klab, run.shown, run.labels)
        _write_state(state, strategy, strat if fit[0].size else None, ids, X, fit)
        _write_active(
            ids,
            S,
            run.shown,
            run.labels,
            *_paper_terms(strat, S.size),
            run.final,
            active,
            known=(kidx, klab),
        )
        if labels_used is not None:
            from astroanom.store.users import simulated_record

            _write_record(simulated_record(budget), labels_used)
        log.info(
            "retrained %s on %d simulated labels in %.3f s",
            strategy["name"],
            run.shown.size,
            time.perf_counter() - t0,
        )
        return
    cfg = labels_cfg or {}
    labelled, labels, combined = team_labels(label_files, ids, cfg)
    record = combined.record(cfg.get("users"), cfg.get("exclude_users", ()))
    if labelled.size == 0 and kidx.size == 0:
        log.warning(
            "no labels in %s yet: the ranking stays by S. Start labelling with "
            "`astroanom label %s`, then rerun snakemake",
            _where(label_files, dataset),
            dataset or "<dataset>",
        )
        nan = np.full(S.size, np.nan)
        _write_state(state, strategy, None, ids, X, None)
        _write_active(ids, S, labelled, labels, nan, nan.copy(), S.copy(), active)
        if labels_used is not None:
            _write_record(record, labels_used)
        return
    from astroanom.active.loop import refit_strategy

    log.info("%s", combined.summary())
    fit_rows, fit_labels = with_known(kidx, klab, labelled, labels)
    strat = _strategy(strategy, shared, seed, threads)
    score = refit_strategy(strat, X, S, fit_rows, fit_labels)
    _write_state(state, strategy, strat, ids, X, (fit_rows, fit_labels))
    _write_active(
        ids,
        S,
        labelled,
        labels,
        *_paper_terms(strat, S.size),
        score,
        active,
        known=(kidx, klab),
    )
    if labels_used is not None:
        _write_record(record, labels_used)
    log.info(
        "retrained %s on %d labels (%d object(s)) of %s and %d known example(s) in %.3f s",
        strategy["name"],
        record["n_labels"],
        labelled.size,
        ", ".join(combined.user_names) or "nobody",
        fit_rows.size - labelled.size,
        time.perf_counter() - t0,
    )


def _where(files: Sequence[PathLike], dataset: str) -> str:
    """Where the labels were looked for, for the no-labels message."""
    if files:
        return ", ".join(map(str, files))
    return f"labels/{dataset or '<dataset>'}/"


def _write_record(record: Mapping[str, Any], path: PathLike) -> None:
    import json

    write_text(json.dumps(record, indent=2) + "\n", path)


def with_known(
    kidx: np.ndarray, klab: np.ndarray, labelled: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Known examples (k0,) and a person's labels (k,) as one labelled set; where an object is
    both, the person's label wins (rows and labels, known ones first)."""
    keep = ~np.isin(kidx, labelled)
    rows = np.concatenate([kidx[keep], np.asarray(labelled, dtype=np.int64)])
    return rows, np.concatenate([klab[keep], np.asarray(labels, dtype=np.float64)])


def _write_state(
    state: PathLike | None,
    strategy: Mapping[str, Any],
    fitted: Strategy | None,
    ids: np.ndarray,
    X: np.ndarray,
    run: Any,
) -> None:
    """The relevance part of the bundle (``run``: a LoopResult, (labelled, labels) or None)."""
    if state is None:
        return
    from astroanom.bundle import RELEVANCE, relevance_part, write_part

    if run is None:
        labelled, labels = np.empty(0, np.int64), np.empty(0)
    elif isinstance(run, tuple):
        labelled, labels = run
    else:
        labelled, labels = run.shown, run.labels
    entry, members = relevance_part(strategy, fitted, ids, X, labelled, labels)
    if entry["format"] == "unsupported":
        log.warning("the bundle cannot keep this strategy: %s", entry["reason"])
    write_part(state, RELEVANCE, entry, members)


def incremental_step(
    features: PathLike,
    scores: PathLike,
    truth: PathLike,
    rounds: PathLike,
    oracle: Mapping[str, Any],
    truth_spec: Mapping[str, Any],
    strategy: Mapping[str, Any],
    shared: Mapping[str, Any],
    seed: int,
    threads: int = 1,
    known: Mapping[str, Any] | None = None,
    keep_top: int = KEEP_TOP,
) -> None:
    """The labelling loop with the simulated oracle, ``oracle.batch`` labels per round up to
    ``oracle.budget``, refitting the dataset's ``strategy``; writes per-object scores before
    any label and after each round (``round00``..; the rounds in between only for their top
    ``keep_top`` and the labelled objects, see :func:`compact_rounds`), ``label_round`` (round
    an object was labelled in, -1 if never), ``label`` and ``known`` (the known examples'
    relevance: fitted from round 0, never shown)."""
    from astroanom.active.loop import labelling_loop

    df, X, S = read_inputs(features, scores)
    ids = df["id"].to_numpy()
    kidx, klab = known_examples(known, ids)
    orc = _oracle(ids, truth, truth_spec, oracle)
    strat = _strategy(strategy, shared, seed, threads)
    run = labelling_loop(
        X,
        S,
        orc,
        strat,
        int(oracle["batch"]),
        int(oracle["budget"]),
        known=kidx,
        known_labels=klab,
    )
    log.info(
        "%s: %d rounds, %d labels in %.2f s",
        strategy["name"],
        run.rounds,
        run.shown.size,
        run.seconds,
    )
    when = np.full(X.shape[0], -1, dtype=np.int64)
    when[run.shown] = run.label_round
    cols = compact_rounds(list(run.scores[: run.rounds + 1]), when >= 0, keep_top)
    out = pd.DataFrame({"id": ids, **cols})
    out["label_round"] = when
    out["label"] = np.nan
    out.loc[run.shown, "label"] = run.labels
    out["known"] = _known_column(X.shape[0], (kidx, klab))
    write_parquet(out, rounds)


def compact_rounds(
    scores: Sequence[np.ndarray], keep: np.ndarray, keep_top: int = KEEP_TOP
) -> dict[str, np.ndarray]:
    """``roundNN`` columns of ``rounds.parquet`` from the loop's scores (one (n,) array per
    round): round 0 and the last round whole (the viewed orders and Fig. 5 rank every object by
    them); each round between only for its ``keep_top`` highest scores and the rows in ``keep``
    (boolean (n,), the labelled objects: their order within a round needs the previous round's
    score), NaN elsewhere. Every reader ranks NaN last (:func:`astroanom.ordering.rank_order`),
    so a round's top ``keep_top`` (Fig. 7's top N, N <= ``keep_top``) is the same as with every
    score; the file shrinks from rounds x n floats to about 2 n (OGLE-III, 400k objects,
    51 rounds: 171 MB -> a few MB)."""
    last = len(scores) - 1
    keep = np.asarray(keep, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for r, score in enumerate(scores):
        score = np.asarray(score, dtype=np.float64)
        if 0 < r < last and score.size > keep_top:
            kept = keep.copy()
            kept[top_order(score, keep_top)] = True
            score = np.where(kept, score, np.nan)
        out[f"round{r:02d}"] = score
    return out


def round_columns(frame: pd.DataFrame) -> list[str]:
    """The ``roundNN`` score columns of an incremental-loop table, in order."""
    return sorted(c for c in frame.columns if c.startswith("round") and c[5:].isdigit())


def labels_per_round(frame: pd.DataFrame) -> np.ndarray:
    """Number of labels used for the ranking of each ``roundNN`` column (round 0: none)."""
    lr = frame["label_round"].to_numpy()
    return np.array(
        [int(np.count_nonzero((lr >= 1) & (lr <= r))) for r in range(len(round_columns(frame)))]
    )
