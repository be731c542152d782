"""Steps of ``workflow/rules/evaluate.smk``: metrics against the truth, made only where a
dataset has truth (for a simulated oracle's run, :func:`first_n_step` and :func:`classes_step`
run in its active-learning job, rule ``active_simulated`` of ``workflow/rules/active.smk``).

class truth (the simulation): per-class RWS and recall before/after, per-round class shares
of the incremental loop, per-class curves; aggregated over seeds.
any truth: anomalies found in the first N viewed and recall / RWS curves for random order, the
detector (S), the single retrain (S^) and the incremental loop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from astroanom.evaluate.metrics import rws_curve
from astroanom.evaluate.tables import class_curves, class_metrics, round_metrics, summarise
from astroanom.pipeline.active import aligned, labels_per_round, round_columns
from astroanom.store.io import write_csv, write_parquet

log = logging.getLogger("astroanom.evaluate")
PathLike = str | os.PathLike[str]


def _truth(truth: PathLike, active: pd.DataFrame) -> pd.DataFrame:
    t = pd.read_parquet(truth)
    aligned(active["id"].to_numpy(), ("truth", t))
    return t


def classes_step(
    truth: PathLike,
    active: PathLike,
    rounds: PathLike,
    metrics_csv: PathLike,
    rounds_csv: PathLike,
    curves: PathLike,
    class_ids: Sequence[int],
    ns: Sequence[int],
    top: int,
    curve_max_n: int,
) -> None:
    """Per-class RWS/recall before and after (CSV), per-round shares (CSV), curves (Parquet)."""
    act = pd.read_parquet(active)
    rnd = pd.read_parquet(rounds)
    t = _truth(truth, act)
    aligned(act["id"].to_numpy(), ("rounds", rnd))
    known = t["known"].to_numpy(dtype=bool)
    names: list[str] | None = None
    if not pd.api.types.is_numeric_dtype(t["value"]):  # category truth: text labels, coded 0..k-1
        names = sorted(set(t.loc[known, "value"].astype(str)) | {str(c) for c in class_ids})
        codes = np.searchsorted(names, t["value"].astype(str).to_numpy())
        classes = np.where(known, codes, -1).astype(np.int64)
        class_ids = [names.index(str(c)) for c in class_ids]  # absent ones count 0
    else:
        classes = np.where(known, t["value"], -1).astype(np.int64)
    stages = {"before": act["S"].to_numpy(), "after": act["score"].to_numpy()}
    beyond = [int(n) for n in ns if n > len(act)]
    if beyond:
        log.warning(
            "metrics.rws_table_n %s exceed the %d ranked objects: those rows of metrics.csv "
            "have rws and recall NaN (set metrics.rws_table_n to N <= %d)",
            beyond,
            len(act),
            len(act),
        )
    cols = round_columns(rnd)
    tables = [
        class_metrics(classes, stages, class_ids, ns),
        round_metrics(classes, rnd[cols].to_numpy().T, labels_per_round(rnd), class_ids, top),
        class_curves(classes, stages, class_ids, min(curve_max_n, len(act))),
    ]
    if names is not None:  # write the labels, not their codes
        for tab in tables:
            tab["class"] = [names[int(c)] for c in tab["class"]]
    write_csv(tables[0], metrics_csv)
    write_csv(tables[1], rounds_csv)
    write_parquet(tables[2], curves)


def aggregate_step(
    seeds: Sequence[int],
    metrics: Sequence[PathLike],
    rounds: Sequence[PathLike],
    curves: Sequence[PathLike],
    out_metrics_by_seed: PathLike,
    out_metrics: PathLike,
    out_rounds: PathLike,
    out_curves: PathLike,
) -> None:
    """Stack per-seed tables (adding ``seed``) and summarise metrics as mean/sd/min/max."""

    def stack(paths: Sequence[PathLike], reader) -> pd.DataFrame:
        parts = [reader(p).assign(seed=int(s)) for s, p in zip(seeds, paths, strict=True)]
        t = pd.concat(parts, ignore_index=True)
        return t[["seed", *[c for c in t.columns if c != "seed"]]]

    m = stack(metrics, pd.read_csv)
    write_csv(m, out_metrics_by_seed)
    write_csv(summarise(m, ["stage", "class", "N"], ["rws", "recall"]), out_metrics)
    write_csv(stack(rounds, pd.read_csv), out_rounds)
    write_parquet(stack(curves, pd.read_parquet), out_curves)


def first_n_step(
    truth: PathLike,
    active: PathLike,
    rounds: PathLike | None,
    curves_out: PathLike,
    first_n_out: PathLike,
    truth_spec: Mapping[str, Any],
    detector_name: str,
    seed: int,
    max_n: int = 1000,
    first_n: Sequence[int] = (100, 200),
) -> None:
    """Wanted objects (:func:`astroanom.sources.truth.wanted`) in the first N three ways
    (:mod:`astroanom.evaluate.viewing`: the full ranking, the viewer's order, unlabelled only)
    for random order, the detector (S), the single retrain (S^) and, when given, the
    incremental loop; recall and RWS against N for each ranking and viewed order. Objects
    without a truth value count as not wanted (their number is in the table)."""
    from astroanom.evaluate.viewing import experiment_orders, first_n_table
    from astroanom.sources.truth import wanted

    act = pd.read_parquet(active)
    t = _truth(truth, act)
    want = wanted(t, truth_spec)
    if "known" in act.columns:  # a known example (given before round 0) is never "found"
        want = want & act["known"].isna().to_numpy()
    rnd = None
    if rounds is not None:
        rnd = pd.read_parquet(rounds)
        aligned(act["id"].to_numpy(), ("rounds", rnd))
    methods, viewed = experiment_orders(
        act["S"].to_numpy(),
        act["score"].to_numpy(),
        act["label"].notna().to_numpy(),
        rnd,
        seed,
        detector_name,
    )
    ns = np.arange(1, min(max_n, len(act)) + 1)
    curves = []
    for method, order in {**{k: m[0] for k, m in methods.items()}, **viewed}.items():
        hits = want[order]
        curves.append(
            pd.DataFrame(
                {
                    "method": method,
                    "N": ns,
                    "recall": np.cumsum(hits)[: ns.size],
                    "rws": rws_curve(hits, ns),
                }
            )
        )
    write_parquet(pd.concat(curves, ignore_index=True), curves_out)
    table = first_n_table(want, methods, first_n)
    table["n_truth_unknown"] = int((~t["known"].to_numpy(dtype=bool)).sum())
    write_csv(table, first_n_out)
    head = table[table.first_n == first_n[0]].set_index("method")
    log.info(
        "wanted objects in the first %d (ranked / viewed / unlabelled-only): %s",
        first_n[0],
        {m: (r.found_ranked, r.found_viewed, r.found_unlabelled) for m, r in head.iterrows()},
    )
