"""Trainable extractors: what the workflow needs to know to train a model once per run and
embed every feature shard with it (docs/architecture.md, "Trainable extractors").

An extractor class is *trainable* when it sets ``trainable = True`` and has

- ``fit(objects, model_path, seed, n_jobs) -> dict``: train on the objects (a manifest table),
  write the model file ``model_path`` (atomically), return a JSON-able record of the training;
- a ``model`` parameter: the model file ``extract`` embeds with (None: not trained yet).

A *part* is one trainable extractor of a dataset's ``features``: the extractor itself (part
name: its kind's last dotted component, e.g. ``learned``) or one of a ``combine`` extractor's
parts (named by its prefix). A part whose config gives ``model:`` is not trained: that file is
used. Standard library only (the Snakefile imports this while it is parsed).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

#: Keys of a ``features`` mapping / part entry that are not the extractor's parameters.
FRAMEWORK_KEYS = ("kind", "shard_size", "name")


def is_trainable(kind: str) -> bool:
    """Whether extractor ``kind`` (a built-in name, registered name or dotted path) declares
    ``trainable = True`` (built-ins are read without importing them)."""
    from astroanom import plugins

    return plugins.class_constant("extractor", kind, "trainable") is True


def part_name(entry: Mapping[str, Any]) -> str:
    """The name of an extractor entry: its ``name`` or its kind's last dotted component
    (the prefix a combine extractor gives its features)."""
    return str(entry.get("name", entry["kind"])).replace(":", ".").rsplit(".", 1)[-1]


def _entries(features: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if features["kind"] == "combine":
        return list(features.get("extractors") or [])
    return [features]


def parts(features: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """name -> entry of every trainable extractor of a ``features`` mapping (in order)."""
    return {part_name(e): e for e in _entries(features) if is_trainable(str(e["kind"]))}


def to_train(features: Mapping[str, Any]) -> list[str]:
    """Names of the trainable parts without a given ``model``: the ones a run trains."""
    return [name for name, e in parts(features).items() if e.get("model") is None]


def part_entry(features: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The entry of trainable part ``name`` (KeyError naming the parts if there is none)."""
    found = parts(features)
    if name not in found:
        raise KeyError(f"no trainable extractor {name!r} in features (have: {sorted(found)})")
    return dict(found[name])


def model_files(features: Mapping[str, Any], trained: Callable[[str], str]) -> list[str]:
    """The model files the feature shards read: ``trained(name)`` of each part trained in the
    run, the given ``model`` of the others."""
    return [e.get("model") or trained(name) for name, e in parts(features).items()]


def with_models(features: Mapping[str, Any], trained: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``features`` with ``model`` set to ``trained(name)`` in every trainable part
    that gives none (what the feature shards build their extractor from)."""
    out = copy.deepcopy(dict(features))
    for entry in _entries(out):
        if is_trainable(str(entry["kind"])) and entry.get("model") is None:
            entry["model"] = trained(part_name(entry))  # type: ignore[index]
    return out
