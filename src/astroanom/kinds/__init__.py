"""Object kinds: what an object *is* (an image, a curve, a light curve, a spectrum, a table row)
and everything that follows from it, written once per kind.

Each kind is one module (``image``, ``curve``, ``light_curve``, ``spectrum``, ``table``) holding
an :class:`~astroanom.kinds.base.ObjectKind`: its manifest columns, its loader (one object's data
for display), its default feature extractor, its labeller view, its export thumbnail and how it
is drawn in the top-objects figure. Sources declare the kind of their objects with a class
attribute ``object_kind = "<name>"``; ``dataset.json`` records it and every reader asks
:func:`get` for the kind's behaviour — nothing is guessed from column names.

Light to import: this module and the kind modules import numpy, pandas, OpenCV or matplotlib
only inside the functions that draw or load, so :func:`default_features` can run while the
Snakefile is parsed. A new kind: a module with a ``KIND`` object, registered in :data:`BUILTIN`
(or by an installed package under the entry-point group ``astroanom.kinds``, or given as the
dotted path ``package.module:KIND``).
"""

from __future__ import annotations

import copy
import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from astroanom.errors import AstroanomError, ConfigError

if TYPE_CHECKING:
    from astroanom.kinds.base import ObjectKind

#: Built-in object kinds: name -> module holding its ``KIND``.
BUILTIN: dict[str, str] = {
    "image": "astroanom.kinds.image",
    "curve": "astroanom.kinds.curve",
    "light_curve": "astroanom.kinds.light_curve",
    "spectrum": "astroanom.kinds.spectrum",
    "table": "astroanom.kinds.table",
}
#: How the objects of a plug-in source that declares no kind are shown: as rows of features.
FALLBACK = "table"
ENTRY_POINT_GROUP = "astroanom.kinds"


class UnknownKindError(AstroanomError, KeyError):
    """An object kind that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown object kind"


def _registered() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """Every object kind name (built-in and registered by installed packages), sorted."""
    return sorted(set(BUILTIN) | set(_registered()))


@cache
def get(name: str) -> ObjectKind:
    """The object kind ``name`` (built-in, registered, or a dotted path ``pkg.module:KIND``).

    Raises :class:`UnknownKindError` naming the known kinds.
    """
    if not isinstance(name, str) or not name:
        raise UnknownKindError(f"an object kind must be a name, got {name!r}; known: {_known()}")
    if name in BUILTIN:
        return importlib.import_module(BUILTIN[name]).KIND
    registered = _registered()
    if name in registered:
        return registered[name].load()
    if "." in name or ":" in name:
        from astroanom.plugins import import_object

        return import_object(name, what="object kind")
    raise UnknownKindError(f"unknown object kind {name!r}; known: {_known()}")


def _known() -> str:
    return ", ".join(names()) + " (or a plug-in's dotted path)"


# -- the kind a source declares ------------------------------------------------------------------


def _declared_in_source_file(target: str) -> str | None:
    """``object_kind`` of class ``module:Class`` read from the module's source text (the module
    is not imported: the built-in sources import OpenCV); None if the class body sets none."""
    from astroanom.plugins import constant_in_source

    found = constant_in_source(target, "object_kind")
    return found if isinstance(found, str) else None


def declared_kind(source: str) -> str | None:
    """The object kind the source ``source`` (a config's ``source.kind``) declares on its class
    (``object_kind``), or None if it declares none. Built-in sources are read without importing
    them; a plug-in's class is imported."""
    from astroanom import plugins

    target = plugins.BUILTIN["source"].get(source)
    if target is not None:
        found = _declared_in_source_file(target)
        if found is not None:
            return found
    return kind_of_source(plugins.resolve("source", source))


def kind_of_source(source: Any) -> str | None:
    """``object_kind`` of a source class or instance (None if it declares none); a declared
    kind that is not registered is an error naming the source."""
    kind = getattr(source, "object_kind", None)
    if kind is None:
        return None
    get(kind)  # a clear error now rather than when the objects are drawn
    return str(kind)


def default_features(source: str) -> dict[str, Any]:
    """The feature extractor (``features:`` mapping) used when a dataset with source kind
    ``source`` gives none: its object kind's default. A source declaring no object kind needs
    ``features:`` (:class:`ConfigError`)."""
    kind = declared_kind(source)
    if kind is None:
        raise ConfigError(
            f"source {source!r} declares no object kind (class attribute object_kind, one of "
            f"{', '.join(names())}), so there is no default extractor: give features: {{kind: ...}}"
        )
    return copy.deepcopy(dict(get(kind).default_features))


def fill_default_features(cfg: dict[str, Any]) -> None:
    """Give every dataset of ``cfg`` without ``features:`` its source kind's default (in place;
    datasets without a source are left for the schema to report). Errors name the dataset."""
    for name, entry in (cfg.get("datasets") or {}).items():
        if not isinstance(entry, dict) or "features" in entry:
            continue
        source = entry.get("source")
        if not isinstance(source, dict) or not isinstance(source.get("kind"), str):
            continue
        try:
            entry["features"] = default_features(source["kind"])
        except AstroanomError as err:
            raise ConfigError(f"datasets.{name}.features: {err}") from None
