"""The workflow configuration: reading, strict validation with defaults, and dataset accessors.

One function, :func:`validate`, is used by the Snakefile and by the command line, so both see
the same defaults (``config/schema.yaml`` is their only source) and reject the same mistakes.

A *run* is one directory below ``results/`` that a dataset produces: ``<name>`` for most
datasets, ``<name>/seed<N>`` for each seed of a dataset with ``replicate: true``.
"""

from __future__ import annotations

import copy
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
    """``config/schema.yaml`` of the checkout this package runs from (or of the working dir)."""
    here = Path(__file__).resolve().parents[2] / "config" / SCHEMA_NAME
    for cand in (here, Path.cwd() / "config" / SCHEMA_NAME):
        if cand.is_file():
            return cand
    raise ConfigError(
        f"cannot find config/{SCHEMA_NAME}: run from the astroanom checkout (the directory "
        "holding workflow/ and config/)"
    )


def load_yaml(path: str | Path) -> dict[str, Any]:
    """One YAML config file as a mapping; errors name the file (and line for syntax errors)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
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
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


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
        lines = []
        for e in errors[:10]:
            msg = e.message
            if e.validator == "additionalProperties":
                msg = f"unknown key(s): {msg.split('(')[-1].rstrip(')')}; check the spelling"
            lines.append(f"  {_where(e.path)}: {msg}")
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise ConfigError("invalid configuration:\n" + "\n".join(lines) + more)
    _check_references(cfg)
    return cfg


def _check_references(cfg: Mapping[str, Any]) -> None:
    """Cross-field checks a JSON schema cannot express, each naming the key."""
    from astroanom import plugins

    names = set(cfg.get("datasets", {}))
    for name, entry in cfg.get("datasets", {}).items():
        where = f"datasets.{name}"
        for key, kind in (("source", "source"), ("features", "extractor")):
            k = entry[key]["kind"]
            if k not in plugins.available(kind) and "." not in k and ":" not in k:
                raise ConfigError(
                    f"{where}.{key}.kind: unknown {kind} {k!r}; known: "
                    f"{', '.join(plugins.available(kind))} (or a plug-in's dotted path)"
                )
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
        for name in bench["datasets"]:
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
