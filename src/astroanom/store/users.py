"""Several people labelling one dataset: whose label files a retrain reads, how their labels
become one relevance per object, where they disagree, and the record of what a retrain used.

Each user keeps their own file ``labels/<dataset>/<user>.csv`` (:mod:`astroanom.store.labels`;
one file = one user, named by the file). The human-oracle retrain reads every user's file
(``labels.users`` / ``labels.exclude_users`` narrow the set) and gives the learner ONE
relevance per labelled object, by the rule ``labels.combine``:

- ``mean`` (the default): the average of the users' labels. The relevance learner is a
  least-squares regressor, so the mean is what it would learn from everybody's labels pooled;
  a 5 against a 0 becomes 2.5, below the usual "relevant" threshold of 3, and the object is
  listed as disputed rather than pushed up or down by whoever labelled last.
- ``median``: robust to one outlying user once three or more labelled the object;
- ``max`` / ``min``: relevant if anyone (``max``) or everyone (``min``) finds it so;
- ``latest``: the most recent label (its ``time``) wins, for a team correcting each other.

An object is *disputed* when its users' labels differ by ``labels.dispute_spread`` (default 2)
or more. :class:`Combined` holds the relevances, the per-user counts and file fingerprints
(size, mtime, SHA-256) and the disputes; :meth:`Combined.record` is ``labels_used.json``,
which :func:`stale_reasons` compares with the label files now on disk (``astroanom export``
says when the ranking is older than the labels).

Imports only the standard library at module level (the Snakefile asks
:func:`select_label_files` while it is parsed).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PathLike = str | os.PathLike[str]

COMBINE_RULES = ("mean", "median", "max", "min", "latest")
DEFAULT_COMBINE = "mean"
DEFAULT_DISPUTE_SPREAD = 2
#: Disputed objects named in the record and the log (the count covers all of them).
N_DISPUTE_EXAMPLES = 5


def user_of(path: PathLike) -> str:
    """The user a label file belongs to: its name without ``.csv`` (``alice.csv`` -> alice)."""
    return Path(path).name.removesuffix(".csv")


def select_label_files(
    files: Sequence[PathLike],
    include: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> list[Path]:
    """The label files of the users a retrain reads, sorted by user: every one of ``files``
    (:meth:`astroanom.store.rundir.RunDir.label_files`), only the users in ``include`` when it
    is given (``labels.users``), never those in ``exclude`` (``labels.exclude_users``)."""
    keep = None if include is None else set(include)
    drop = set(exclude)
    out = [
        Path(f) for f in files if (keep is None or user_of(f) in keep) and user_of(f) not in drop
    ]
    return sorted(out, key=user_of)


def fingerprint(path: PathLike) -> dict[str, Any]:
    """``{file, size, mtime_ns, sha256}`` of a label file (what a retrain read)."""
    p = Path(path)
    data = p.read_bytes()
    st = p.stat()
    return {
        "file": str(p),
        "size": len(data),
        "mtime_ns": st.st_mtime_ns,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@dataclass
class Combined:
    """One relevance per object from several users' labels.

    ``labels``: ``{id: relevance}`` (float 0..5), ordered by first appearance (the first
    user's label order, then the next user's new ids); ``users``: per user ``{user, file,
    n_labels, size, mtime_ns, sha256}``; ``disputes``: every disputed object as ``{id,
    labels: {user: label}, spread, combined}``, widest spread first."""

    rule: str
    dispute_spread: int
    labels: dict[str, float] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    n_multi: int = 0  # objects labelled by two users or more

    @property
    def user_names(self) -> list[str]:
        return [u["user"] for u in self.users]

    def record(
        self,
        include: Collection[str] | None = None,
        exclude: Collection[str] = (),
        n_examples: int = N_DISPUTE_EXAMPLES,
    ) -> dict[str, Any]:
        """The JSON record of ``labels_used.json``: rule, users with counts and fingerprints,
        objects labelled, disputes (count and the first ``n_examples``)."""
        return {
            "oracle": "human",
            "combine": self.rule,
            "users_included": None if include is None else sorted(include),
            "users_excluded": sorted(exclude),
            "users": self.users,
            "n_labels": int(sum(u["n_labels"] for u in self.users)),
            "n_objects": len(self.labels),
            "n_objects_several_users": self.n_multi,
            "dispute_spread": self.dispute_spread,
            "n_disputed": len(self.disputes),
            "disputed": self.disputes[:n_examples],
        }

    def summary(self) -> str:
        """One line for the log: users and counts, objects, rule, disputes."""
        who = ", ".join(f"{u['user']} ({u['n_labels']})" for u in self.users) or "nobody"
        text = (
            f"labels of {len(self.users)} user(s): {who}; {len(self.labels)} object(s), "
            f"{self.n_multi} labelled by several users, combined by {self.rule}"
        )
        if self.disputes:
            shown = "; ".join(
                f"{d['id']} {d['labels']} -> {d['combined']:g}"
                for d in self.disputes[:N_DISPUTE_EXAMPLES]
            )
            text += (
                f"; {len(self.disputes)} disputed (labels {self.dispute_spread}+ apart), "
                f"e.g. {shown}"
            )
        return text


def _combine_one(rule: str, values: list[tuple[str, int, str]]) -> float:
    """One relevance from ``[(user, label, time), ...]`` (users sorted) by ``rule``."""
    import numpy as np

    labels = np.array([v[1] for v in values], dtype=np.float64)
    if rule == "mean":
        return float(labels.mean())
    if rule == "median":
        return float(np.median(labels))
    if rule == "max":
        return float(labels.max())
    if rule == "min":
        return float(labels.min())
    if rule == "latest":
        import pandas as pd

        times = pd.to_datetime(pd.Series([v[2] for v in values]), utc=True, errors="coerce")
        stamp = times.map(lambda t: t.value if t is not pd.NaT else -(2**62)).to_numpy()
        # the latest time wins; a tie (or two unreadable times) goes to the later user
        best = max(range(len(values)), key=lambda k: (stamp[k], k))
        return float(labels[best])
    raise ValueError(f"labels.combine must be one of {', '.join(COMBINE_RULES)}, got {rule!r}")


def combine_labels(
    files: Sequence[PathLike],
    rule: str = DEFAULT_COMBINE,
    valid_ids: Collection[str] | None = None,
    dispute_spread: int = DEFAULT_DISPUTE_SPREAD,
) -> Combined:
    """Read every label file (validated against ``valid_ids``; errors name file and line) and
    combine the labels per object by ``rule`` (:data:`COMBINE_RULES`)."""
    from astroanom.store.labels import read_labels

    if rule not in COMBINE_RULES:
        raise ValueError(f"labels.combine must be one of {', '.join(COMBINE_RULES)}, got {rule!r}")
    valid = None if valid_ids is None else set(valid_ids)
    per_object: dict[str, list[tuple[str, int, str]]] = {}
    users = []
    for path in sorted((Path(f) for f in files), key=user_of):
        frame = read_labels(path, valid_ids=valid)
        user = user_of(path)
        for oid, label, time in zip(frame["id"], frame["label"], frame["time"], strict=True):
            per_object.setdefault(str(oid), []).append((user, int(label), str(time)))
        users.append({"user": user, "n_labels": len(frame), **fingerprint(path)})
    out = Combined(rule=rule, dispute_spread=int(dispute_spread), users=users)
    for oid, values in per_object.items():
        value = _combine_one(rule, values)
        out.labels[oid] = value
        if len(values) > 1:
            out.n_multi += 1
            given = [v[1] for v in values]
            spread = max(given) - min(given)
            if spread >= dispute_spread:
                out.disputes.append(
                    {
                        "id": oid,
                        "labels": {u: lab for u, lab, _ in values},
                        "spread": spread,
                        "combined": value,
                    }
                )
    out.disputes.sort(key=lambda d: (-d["spread"], d["id"]))
    return out


def simulated_record(budget: int) -> dict[str, Any]:
    """``labels_used.json`` of a simulated-oracle retrain: no user's labels, the truth's."""
    return {"oracle": "simulated", "budget": int(budget), "users": []}


def read_record(path: PathLike) -> dict[str, Any] | None:
    """A ``labels_used.json``, or None if there is none (a run made before it existed)."""
    p = Path(path)
    if not p.is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def stale_reasons(record: Mapping[str, Any] | None, files: Sequence[PathLike]) -> list[str]:
    """Why the ranking is older than the users' labels, comparing what the retrain read
    (``record``, :meth:`Combined.record`) with the label files it would read now (``files``,
    already selected): a user new since the retrain, a file changed (SHA-256), a file gone.
    [] when they agree (or for a simulated oracle). A run without a record is stale once any
    label file exists."""
    if record is None:
        if not files:
            return []
        return [f"no record of the labels the ranking used; {len(files)} label file(s) now"]
    if record.get("oracle") == "simulated":
        return []
    used = {u["user"]: u for u in record.get("users", [])}
    now = {user_of(f): Path(f) for f in files}
    out = []
    for user, path in now.items():
        if user not in used:
            out.append(f"{path}: user {user} labelled after the retrain")
        elif fingerprint(path)["sha256"] != used[user]["sha256"]:
            out.append(f"{path}: changed since the retrain (was {used[user]['n_labels']} labels)")
    out += [f"{used[u]['file']}: gone since the retrain" for u in used if u not in now]
    return out
