"""The workflow configuration: reading, strict validation with defaults, and dataset accessors.

One function, :func:`validate`, is used by the Snakefile and by the command line, so both see
the same defaults (the package's ``schema.yaml``, linked as ``config/schema.yaml``, is their
only source; its plug-in part is generated from the plug-ins' declarations by
:mod:`astroanom.schema`) and reject the same mistakes: an unknown key or an out-of-range value
of any plug-in (source, extractor and each ``combine`` part, detector, strategy) is an error
naming the key and what is allowed. Validation reads the schema file and imports no plug-in
module, except a third-party plug-in's (entry point or dotted path), whose ``PARAMS`` are checked
when it declares them.

A *run* is one directory below ``results/`` that a dataset produces: ``<name>`` for most
datasets, ``<name>/seed<N>`` for each seed of a dataset with ``replicate: true``.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astroanom.errors import ConfigError

log = logging.getLogger("astroanom.config")

SCHEMA_NAME = "schema.yaml"
#: Old simulation preset names -> their new, descriptive names (still accepted, with a warning).
PRESET_ALIASES = {"paper": "table1-class3-reassigned"}
_RUN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*?)(?:/seed(?P<seed>\d+))?$")


def schema_path() -> Path:
    """The config schema shipped with the package (``astroanom/schema.yaml``)."""
    path = Path(__file__).with_name(SCHEMA_NAME)
    if not path.is_file():
        raise ConfigError(
            f"the astroanom package has no {SCHEMA_NAME} ({path}): reinstall it "
            "(pip install astroanom, or pip install -e . in a checkout)"
        )
    return path


def _parse_yaml(text: str) -> Any:
    """YAML text through libyaml's safe loader when PyYAML has it (the same data, ~7x faster:
    every snakemake invocation reads the schema); a syntax error is raised by the pure-Python
    loader, whose messages are the more explicit."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 (a safe loader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """One YAML config file as a mapping; errors name the file (and line for syntax errors)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} not found")
    try:
        data = _parse_yaml(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {p} is not UTF-8 text: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config file {p}{where}: YAML syntax error: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {p}: the top level must be a mapping of keys")
    return data


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of mappings as Snakemake merges config files (later files win)."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load(paths: Sequence[str | Path]) -> dict[str, Any]:
    """Read, merge and validate config files in order (as ``snakemake --configfile a b``)."""
    cfg: dict[str, Any] = {}
    for p in paths:
        cfg = merge(cfg, load_yaml(p))
    return validate(cfg)


def _validator(schema: Mapping[str, Any]):
    """A Draft 2020-12 validator that fills in ``default`` values of ``properties``."""
    from jsonschema import Draft202012Validator, validators

    base = Draft202012Validator.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from base(validator, props, instance, schema)

    cls = validators.extend(Draft202012Validator, {"properties": properties})
    return cls(schema)


def _where(path: Iterable[Any]) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else str(p) for p in path]
    return ".".join(parts).replace(".[", "[") if parts else "(top level)"


def _message(e: Any) -> str:
    """One jsonschema error as "<key>: <problem>; allowed: <what is allowed>"."""
    from astroanom.params import allowed_text, unknown_keys_message

    where = _where(e.path)
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        allowed = list(e.schema.get("properties", {}))
        unknown = [k for k in e.instance if k not in allowed]
        return unknown_keys_message(where, unknown, allowed)
    if e.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"):
        return f"{where}: {e.instance!r} is not allowed; allowed: {allowed_text(e.schema)}"
    return f"{where}: {e.message}"


def validate(cfg: dict[str, Any], schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check ``cfg`` against the schema, fill in defaults (in place) and return it.

    Raises :class:`ConfigError` naming the key of every problem (unknown keys included).
    """
    if schema is None:
        schema = load_yaml(schema_path())
    from astroanom.kinds import fill_default_features

    fill_default_features(cfg)  # features: absent -> the source's object kind's default
    errors = sorted(_validator(schema).iter_errors(cfg), key=lambda e: list(map(str, e.path)))
    if errors:
        lines = [f"  {_message(e)}" for e in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise ConfigError("invalid configuration:\n" + "\n".join(lines) + more)
    _check_plugins(cfg)
    _check_references(cfg)
    return cfg


#: Keys of each kind of plug-in entry that are not the plug-in's parameters.
_RESERVED = {
    "source": ("kind",),
    "extractor": ("kind", "shard_size"),
    "part": ("kind", "name"),
    "detector": ("name", "params", "lower_is_weirder", "score_method", "label"),
    "strategy": ("name", "params", "optional", "label"),
}


def _plugin_entries(cfg: Mapping[str, Any]) -> Iterable[tuple[str, str, str, dict[str, Any]]]:
    """(where, plug-in kind, entry kind, entry) of every plug-in entry of a schema-valid config."""
    for name, entry in cfg.get("datasets", {}).items():
        where = f"datasets.{name}"
        yield f"{where}.source", "source", "source", entry["source"]
        yield f"{where}.features", "extractor", "extractor", entry["features"]
        for k, part in enumerate(entry["features"].get("extractors") or []):
            yield f"{where}.features.extractors[{k}]", "extractor", "part", part
        yield f"{where}.detector", "detector", "detector", entry["detector"]
        yield f"{where}.strategy", "strategy", "strategy", entry["strategy"]
    bench = cfg.get("benchmark") or {}
    for label, entry in (bench.get("detectors") or {}).items():
        yield f"benchmark.detectors.{label}", "detector", "detector", entry
    for label, entry in (bench.get("strategies") or {}).items():
        yield f"benchmark.strategies.{label}", "strategy", "strategy", entry


def _check_plugins(cfg: Mapping[str, Any]) -> None:
    """Every plug-in name is known; a third-party plug-in that declares ``PARAMS`` gets its
    entry checked (and, for sources and extractors, its defaults filled) here. Built-ins were
    checked by the schema and are not imported; a third-party plug-in that cannot be imported
    here (it may be installed only where the jobs run) is passed through with a warning."""
    from astroanom import plugins
    from astroanom.errors import AstroanomError
    from astroanom.params import declaration

    for where, kind, role, entry in _plugin_entries(cfg):
        key = "name" if kind in ("detector", "strategy") else "kind"
        name = str(entry[key])
        if name in plugins.BUILTIN[kind]:
            continue
        if name not in plugins.available(kind) and "." not in name and ":" not in name:
            raise ConfigError(
                f"{where}.{key}: unknown {kind} {name!r}; known: "
                f"{', '.join(plugins.available(kind))} (or a plug-in's dotted path)"
            )
        try:
            factory = plugins.resolve(kind, name)
        except AstroanomError as exc:  # e.g. installed only in the jobs' environment
            if not entry.get("optional"):
                log.warning("%s.%s: %s; its parameters are not checked here", where, key, exc)
            continue
        decl = declaration(factory)
        if decl is None:
            continue  # a plug-in that declares nothing: its parameters are passed as given
        decl.check(entry, where, reserved=_RESERVED[role])
        if isinstance(entry.get("params"), Mapping):
            decl.check(entry["params"], f"{where}.params")
        if role in ("source", "extractor", "part"):
            for k, v in decl.fill(entry).items():
                entry.setdefault(k, v)


def _check_references(cfg: Mapping[str, Any]) -> None:
    """Cross-field checks a JSON schema cannot express, each naming the key."""

    names = set(cfg.get("datasets", {}))
    for name, entry in cfg.get("datasets", {}).items():
        where = f"datasets.{name}"
        src = entry["source"]
        if src["kind"] == "simulation":
            presets = cfg.get("simulation_presets", {})
            new = PRESET_ALIASES.get(src["preset"])
            if src["preset"] not in presets and new in presets:
                log.warning(
                    "%s.source.preset: %r is deprecated (it is not Table 1 as printed); "
                    "use %r, its new name",
                    where,
                    src["preset"],
                    new,
                )
                src["preset"] = new
            if src["preset"] not in presets:
                raise ConfigError(
                    f"{where}.source.preset: unknown preset {src['preset']!r}; known: "
                    f"{', '.join(sorted(presets)) or 'none (add simulation_presets)'}"
                )
            if entry["features"]["kind"] != "values":
                raise ConfigError(
                    f"{where}.features.kind: the simulated curves are the features; use "
                    "features: {kind: values}"
                )
        truth, oracle = entry.get("truth"), entry["oracle"]
        if oracle["mode"] == "simulated":
            if truth is None:
                raise ConfigError(
                    f"{where}.oracle.mode: 'simulated' labels from the truth, and this dataset "
                    "has none; add a truth section, or use mode: human (the default) and label "
                    f"yourself with `astroanom label {name}`"
                )
            if truth["kind"] == "class" and not oracle.get("relevance"):
                raise ConfigError(f"{where}.oracle.relevance: class truth needs class -> U")
            if oracle["batch"] > oracle["budget"]:
                raise ConfigError(f"{where}.oracle: batch must not exceed budget")
        exp = entry["experiment"]
        if exp == "simulation" and not (
            src["kind"] == "simulation"
            and truth
            and truth["kind"] == "class"
            and oracle["mode"] == "simulated"
        ):
            raise ConfigError(
                f"{where}.experiment: 'simulation' needs source kind simulation, class truth "
                "and a simulated oracle"
            )
        if exp == "galaxies" and not (truth and truth["kind"] == "fraction"):
            raise ConfigError(f"{where}.experiment: 'galaxies' needs fraction truth")
    bench = cfg.get("benchmark")
    if bench:
        tasks = bench.get("tasks") or {}
        if not tasks and not bench.get("datasets"):
            raise ConfigError("benchmark: give `datasets` (each with its own truth) or `tasks`")
        for tname, task in tasks.items():
            for name in task["datasets"]:
                if name not in names:
                    raise ConfigError(
                        f"benchmark.tasks.{tname}.datasets: {name!r} is not a dataset of this "
                        f"config (datasets: {', '.join(sorted(names)) or 'none'})"
                    )
                kind = (cfg["datasets"][name].get("truth") or {}).get("kind")
                if kind not in ("class", "category"):
                    raise ConfigError(
                        f"benchmark.tasks.{tname}: 'wanted' needs class or category truth; "
                        f"{name!r} has {kind or 'no'} truth"
                    )
        for name in [d for t in tasks.values() for d in t["datasets"]] or bench["datasets"]:
            if name not in names:
                raise ConfigError(
                    f"benchmark.datasets: {name!r} is not a dataset of this config "
                    f"(datasets: {', '.join(sorted(names)) or 'none'})"
                )
            entry = cfg["datasets"][name]
            if "truth" not in entry:
                raise ConfigError(f"benchmark.datasets: {name!r} has no truth to score against")
            if entry["replicate"]:
                missing = sorted(set(bench["seeds"]) - {r.seed for r in runs(cfg, name)})
                if missing:
                    raise ConfigError(
                        f"benchmark.seeds {missing} are not in seeds, so {name!r} (replicate: "
                        "true) has no run for them"
                    )


# --------------------------------------------------------------------------------------------
# Datasets and runs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One output directory of a dataset: ``results/<path>`` with the seed it uses."""

    name: str
    seed: int
    replicated: bool

    @property
    def path(self) -> str:
        return f"{self.name}/seed{self.seed}" if self.replicated else self.name


def dataset(cfg: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The validated entry of dataset ``name``; a clear error for an unknown name."""
    ds = cfg.get("datasets", {})
    if name not in ds:
        known = ", ".join(sorted(ds)) or "none"
        raise ConfigError(f"unknown dataset {name!r}; this config has: {known}")
    return ds[name]


def runs(cfg: Mapping[str, Any], name: str) -> list[Run]:
    """The runs of one dataset: one per seed if it replicates, else one with the first seed."""
    entry = dataset(cfg, name)
    seeds = [int(s) for s in (entry.get("seeds") or cfg["seeds"])]
    if entry["replicate"]:
        return [Run(name, s, True) for s in seeds]
    return [Run(name, seeds[0], False)]


def all_runs(cfg: Mapping[str, Any]) -> list[Run]:
    return [r for name in cfg.get("datasets", {}) for r in runs(cfg, name)]


@functools.lru_cache(maxsize=64)
def _seed_param(kind: str) -> str | None:
    """What source ``kind`` declares as ``seed_param`` (read without importing a built-in)."""
    from astroanom import plugins

    value = plugins.class_constant("source", kind, "seed_param")
    return value if isinstance(value, str) else None


def source_uses_seed(entry: Mapping[str, Any]) -> bool:
    """Whether a dataset entry's objects and features can differ between seeds.

    A source class says how its ``manifest(workdir, seed)`` uses the seed through the class
    constant ``seed_param``: ``""`` never (e.g. light curves), a parameter name only to draw a
    seeded subsample of that size (``n_max`` of a table, ``n_objects`` of an image folder), so
    the seed matters only when that parameter is set; a source that declares nothing (the
    simulation, the synthetic galaxies, a plug-in) is taken to use it. A trainable feature
    extractor is trained per seed, so it makes the features seed-dependent too."""
    from astroanom.features import trainable

    src = entry["source"]
    param = _seed_param(str(src["kind"]))
    if param is None or (param and src.get(param) is not None):
        return True
    return bool(trainable.parts(entry["features"]))


def source_run(cfg: Mapping[str, Any], path: str) -> Run:
    """The run whose source manifest and feature shards run ``path`` uses: its own, or — for a
    replicated dataset whose objects and features do not depend on the seed
    (:func:`source_uses_seed`) — the dataset's first run's, so each source is parsed and its
    features extracted once per dataset, not once per seed (the later seeds' runs gather, scale
    and detect from those shards)."""
    run = parse_run(cfg, path)
    if not run.replicated or source_uses_seed(dataset(cfg, run.name)):
        return run
    return runs(cfg, run.name)[0]


def parse_run(cfg: Mapping[str, Any], path: str) -> Run:
    """The run of a directory below ``results/`` (``name`` or ``name/seedN``)."""
    m = _RUN.match(path)
    if not m:
        raise ConfigError(f"{path!r} is not a dataset run directory (name or name/seedN)")
    name = m["name"]
    for r in runs(cfg, name):
        if r.path == path:
            return r
    raise ConfigError(
        f"{path!r} is not a run of dataset {name!r}; its runs are "
        f"{', '.join(r.path for r in runs(cfg, name))}"
    )
