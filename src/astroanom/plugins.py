"""One loader for every extension point: sources, feature extractors, detectors, strategies.

A name in the config resolves, in order, to

1. a built-in (the tables below; modules are imported only when used),
2. a class registered by an installed package under the entry-point group
   ``astroanom.<kind>s`` (e.g. ``astroanom.detectors``), or
3. a dotted path ``package.module.Class`` (or ``package.module:Class``).

:func:`build` calls the class with the config's parameters and adds ``seed``, ``n_jobs`` and
``workdir`` (or ``random_state``) when its signature accepts them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from astroanom.errors import AstroanomError

KINDS = ("source", "extractor", "detector", "strategy")

#: Built-in implementations: kind -> name -> "module:attribute".
BUILTIN: dict[str, dict[str, str]] = {
    "source": {
        "simulation": "astroanom.sources.simulation:SimulationSource",
        "synthetic_galaxies": "astroanom.sources.synthetic_galaxies:SyntheticGalaxySource",
        "images": "astroanom.sources.folder:ImageFolderSource",
        "galaxy_zoo": "astroanom.sources.galaxy_zoo:GalaxyZooSource",
        "kaggle": "astroanom.sources.galaxy_zoo:KaggleSource",
        "fits_mosaic": "astroanom.sources.fits_mosaic:FitsMosaicSource",
        "table": "astroanom.sources.table:TableSource",
        "light_curves": "astroanom.sources.light_curves:LightCurvesSource",
        "spectra": "astroanom.sources.spectra:SpectraSource",
    },
    "extractor": {
        "values": "astroanom.features.values:ValuesExtractor",
        "ellipse": "astroanom.features.ellipse_extractor:EllipseExtractor",
        "colour": "astroanom.features.colour:ColourExtractor",
        "moments": "astroanom.features.moments:MomentsExtractor",
        "power_spectrum": "astroanom.features.power_spectrum:PowerSpectrumExtractor",
        "wavelets": "astroanom.features.wavelets:WaveletExtractor",
        "histogram": "astroanom.features.histogram:HistogramExtractor",
        "combine": "astroanom.features.combine:CombinedExtractor",
        "columns": "astroanom.features.columns:ColumnsExtractor",
        "light_curve": "astroanom.features.light_curve:LightCurveExtractor",
        "spectrum": "astroanom.features.spectrum:SpectrumExtractor",
        "embeddings": "astroanom.features.embeddings:EmbeddingsExtractor",
        "learned": "astroanom.features.learned:LearnedImageExtractor",
        "morphology": "astroanom.features.morphology:MorphologyExtractor",
    },
    "detector": {
        "lof": "astroanom.detect.detectors:LocalOutlierFactor",
        "iforest": "astroanom.detect.detectors:IsolationForestDetector",
    },
    "strategy": {
        "paper": "astroanom.active.strategies:PaperScore",
        "gp": "astroanom.active.strategies:GaussianProcessEI",
        "coniferest": "astroanom.active.strategies:ConiferestForest",
        "none": "astroanom.active.strategies:NoLearning",
        "random": "astroanom.active.strategies:RandomOrder",
        "ucb": "astroanom.active.strategies:RelevanceUCB",
    },
}

#: Built-ins that need an optional package: (kind, name) -> package (and pip extra).
OPTIONAL: dict[tuple[str, str], str] = {
    ("strategy", "coniferest"): "coniferest",
    ("extractor", "learned"): "torch",
    ("extractor", "morphology"): "statmorph",
}
#: The pip extra of an optional package when it is not named like it.
EXTRA: dict[str, str] = {"torch": "learned", "statmorph": "morphology"}


def install_hint(pkg: str) -> str:
    """How to install optional package ``pkg`` (its astroanom extra)."""
    extra = EXTRA.get(pkg, pkg)
    hint = f"pip install 'astroanom[{extra}]'"
    if pkg == "torch":  # the registry's default wheel pulls several GB of CUDA libraries
        hint += (
            " (without a GPU first: pip install torch --index-url "
            "https://download.pytorch.org/whl/cpu; docs/images.md)"
        )
    return hint


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown extension point {kind!r}; one of {', '.join(KINDS)}")


def entry_points_of(kind: str) -> dict[str, Any]:
    """Implementations registered by installed packages for ``kind`` (name -> entry point)."""
    from importlib.metadata import entry_points

    _check_kind(kind)
    return {ep.name: ep for ep in entry_points(group=f"astroanom.{kind}s")}


def available(kind: str) -> list[str]:
    """Every short name ``kind`` accepts (built-in and registered), sorted."""
    _check_kind(kind)
    return sorted(set(BUILTIN[kind]) | set(entry_points_of(kind)))


def installed(kind: str, name: str) -> bool:
    """False only for a built-in whose optional package cannot be imported."""
    import importlib.util

    pkg = OPTIONAL.get((kind, name))
    return pkg is None or importlib.util.find_spec(pkg) is not None


def import_object(path: str, what: str = "object") -> Any:
    """Import ``package.module.Name`` (or ``package.module:Name``); clear error naming it."""
    module_name, sep, attr = path.replace(":", ".").rpartition(".")
    if not sep or not module_name or not attr:
        raise AstroanomError(f"{what} {path!r} is not a dotted path like 'package.module.Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = ""
        top = module_name.split(".")[0]
        if top in ("pyod", "coniferest", "torch", "statmorph"):
            hint = f"; install the optional extra: {install_hint(top)}"
        raise AstroanomError(f"cannot import {what} {path!r}: {exc}{hint}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise AstroanomError(
            f"cannot import {what} {path!r}: module {module_name!r} has no {attr!r}"
        ) from exc


def resolve(kind: str, name: str) -> Any:
    """The class or factory that ``name`` means for extension point ``kind``."""
    _check_kind(kind)
    if name in BUILTIN[kind]:
        pkg = OPTIONAL.get((kind, name))
        if pkg and not installed(kind, name):
            raise AstroanomError(
                f"{kind} {name!r} needs the optional package {pkg!r}: {install_hint(pkg)}"
            )
        return import_object(BUILTIN[kind][name], what=kind)
    registered = entry_points_of(kind)
    if name in registered:
        try:
            return registered[name].load()
        except Exception as exc:
            raise AstroanomError(
                f"cannot load {kind} {name!r} registered by a package: {exc}"
            ) from exc
    if "." in name or ":" in name:
        return import_object(name, what=kind)
    raise AstroanomError(
        f"unknown {kind} {name!r}; available: {', '.join(available(kind))}, or the dotted path "
        "of a class (package.module.Class)"
    )


def class_constant(kind: str, name: str, attribute: str) -> Any:
    """The constant class attribute ``attribute`` of plug-in ``name`` (None if it sets none).

    A built-in is read from its module's source text, not imported (the built-ins import
    OpenCV; the Snakefile asks while it is parsed); any other plug-in is imported."""
    target = BUILTIN[kind].get(name) if kind in BUILTIN else None
    if target is not None:
        return constant_in_source(target, attribute)
    return getattr(resolve(kind, name), attribute, None)


@functools.lru_cache(maxsize=512)  # the Snakefile asks for every job: parse each module once
def constant_in_source(target: str, attribute: str) -> Any:
    """The literal value class ``module:Class`` assigns to ``attribute`` in its body, read from
    the module's source text (the module is not imported); None if it assigns none."""
    import ast
    import importlib.util

    module, _, cls = target.partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), filename=spec.origin)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for stmt in node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    named = any(isinstance(t, ast.Name) and t.id == attribute for t in targets)
                    if named and isinstance(stmt.value, ast.Constant):
                        return stmt.value.value
    return None


def accepts(factory: Any, keyword: str) -> bool:
    """Whether calling ``factory`` accepts ``keyword`` (explicitly or through ``**kwargs``)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return False
    return keyword in sig.parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()
    )


def call(factory: Any, what: str, params: Mapping[str, Any], **injected: Any) -> Any:
    """``factory(**params)`` plus each ``injected`` keyword the factory accepts (params win)."""
    kwargs = dict(params)
    for key, value in injected.items():
        if key not in kwargs and accepts(factory, key):
            kwargs[key] = value
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise AstroanomError(f"{what}: bad parameters {sorted(params)}: {exc}") from exc


def build(kind: str, name: str, params: Mapping[str, Any] | None = None, **injected: Any) -> Any:
    """Resolve ``name`` and construct it with ``params`` (see :func:`call`)."""
    return call(resolve(kind, name), f"{kind} {name!r}", params or {}, **injected)
