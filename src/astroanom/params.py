"""Typed parameter declarations of plug-ins: each source, extractor, detector and strategy writes
its parameters once, beside its class, as ``PARAMS = Params(name=Param(...), ...)``.

A declaration renders to the JSON-schema fragment of the config schema (see
:mod:`astroanom.schema`, which writes the package's ``schema.yaml`` from every built-in
declaration), fills defaults and checks a plug-in entry (unknown key: an error naming it and the
allowed keys; a value out of range: an error naming the key and the allowed values).

The :func:`declared` class decorator makes a class's constructor take its declared defaults, so
the constructor itself is written without defaults for the values the config owns.

This module imports nothing heavy (no numpy, scikit-learn or OpenCV): plug-in modules import it.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from astroanom.errors import ConfigError


class _Required:
    """Marker of a parameter without a default."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class _Unset:
    """Marker of an optional parameter without a default: passed on only when given."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

#: JSON-schema type names of Python types (a Param's ``type`` may be either).
JSON_TYPES: dict[Any, str] = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
    type(None): "null",
}
_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _type_name(t: Any) -> str:
    if isinstance(t, str):
        if t not in _TYPE_WORDS:
            raise ValueError(f"unknown JSON-schema type {t!r}")
        return t
    if t in JSON_TYPES:
        return JSON_TYPES[t]
    raise ValueError(f"no JSON-schema type for {t!r}")


@dataclass(frozen=True)
class Param:
    """One parameter: its type(s), default, bounds, allowed values and a one-line description.

    ``type`` is a JSON-schema type name or a Python type (or a tuple of either); ``nullable``
    adds null. ``minimum``/``maximum`` are inclusive, ``exclusive_minimum``/``exclusive_maximum``
    strict. ``items`` is the JSON schema of a list's items; ``extra`` holds any further
    JSON-schema keywords (e.g. ``minItems``, ``oneOf``). ``shared`` marks a value the config's
    shared ``active_learning`` section supplies when the entry does not give it.
    """

    type: Any
    default: Any = REQUIRED
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    enum: tuple[Any, ...] | None = None
    nullable: bool = False
    items: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] | None = None
    shared: bool = False

    def __post_init__(self) -> None:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        names = tuple(dict.fromkeys(_type_name(t) for t in types))
        if self.nullable and "null" not in names:
            names = (*names, "null")
        object.__setattr__(self, "type", names)
        if self.enum is not None:
            enum = tuple(self.enum)
            if self.nullable and None not in enum:
                enum = (*enum, None)
            object.__setattr__(self, "enum", enum)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def has_default(self) -> bool:
        return self.default is not REQUIRED and self.default is not UNSET

    def as_shared(self) -> Param:
        """This parameter without a default, supplied by the shared config section."""
        text = f"{self.description} (default: the active_learning section's)".strip()
        return Param(**{**self.__dict__, "default": REQUIRED, "shared": True, "description": text})

    def schema(self, with_default: bool = True) -> dict[str, Any]:
        """The JSON-schema fragment of this parameter (``default`` only if ``with_default``)."""
        out: dict[str, Any] = {"type": self.type[0] if len(self.type) == 1 else list(self.type)}
        for key, value in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("exclusiveMinimum", self.exclusive_minimum),
            ("exclusiveMaximum", self.exclusive_maximum),
        ):
            if value is not None:
                out[key] = value
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.items is not None:
            out["items"] = copy.deepcopy(dict(self.items))
        out.update(copy.deepcopy(dict(self.extra or {})))
        text = self.description
        if self.has_default and with_default:
            out["default"] = copy.deepcopy(self.default)
        elif self.has_default:  # a default the code fills, not the schema: say it
            text = f"{text} (default: {self.default!r})".strip()
        if text:
            out["description"] = text
        return out

    def allowed(self) -> str:
        """The allowed values in words, e.g. "an integer >= 1" or "one of 'a', 'b'"."""
        return allowed_text(self.schema(with_default=False))


def allowed_text(schema: Mapping[str, Any]) -> str:
    """What a JSON-schema fragment allows, in words: "one of 'a', 'b'", "an integer >= 1"."""
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in types) or "a value"
    bounds = [
        f"{op} {schema[key]:g}"
        for op, key in (
            (">=", "minimum"),
            (">", "exclusiveMinimum"),
            ("<=", "maximum"),
            ("<", "exclusiveMaximum"),
        )
        if isinstance(schema.get(key), (int, float))
    ]
    return f"{words} {' and '.join(bounds)}".strip()


class Params(Mapping[str, Param]):
    """A plug-in's declaration: parameter name -> :class:`Param`, in the order written."""

    def __init__(self, **params: Param) -> None:
        for name, p in params.items():
            if not isinstance(p, Param):
                raise TypeError(f"parameter {name!r} must be a Param, got {p!r}")
        self._params = dict(params)

    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"Params({', '.join(self._params)})"

    def default(self, name: str) -> Any:
        """A copy of the default of ``name`` (KeyError for an unknown or required one)."""
        p = self._params[name]
        if not p.has_default:
            raise KeyError(f"parameter {name!r} has no default")
        return copy.deepcopy(p.default)

    def defaults(self) -> dict[str, Any]:
        """Every declared default (copies), in declaration order."""
        return {k: copy.deepcopy(p.default) for k, p in self._params.items() if p.has_default}

    def properties(self, with_defaults: bool = True) -> dict[str, Any]:
        """name -> JSON-schema fragment, for a schema's ``properties``."""
        return {k: p.schema(with_defaults) for k, p in self._params.items()}

    def required_names(self) -> list[str]:
        """Names the config must give (required and not shared)."""
        return [k for k, p in self._params.items() if p.required and not p.shared]

    def schema(
        self, reserved: Mapping[str, Any] | None = None, with_defaults: bool = True
    ) -> dict[str, Any]:
        """A closed object schema: ``reserved`` (framework keys -> schema) plus the parameters."""
        out: dict[str, Any] = {
            "type": "object",
            "properties": {**dict(reserved or {}), **self.properties(with_defaults)},
        }
        if self.required_names():
            out["required"] = self.required_names()
        out["additionalProperties"] = False
        return out

    def fill(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``entry`` with every missing declared default filled in."""
        out = dict(entry)
        for k, v in self.defaults().items():
            out.setdefault(k, v)
        return out

    def check(
        self,
        entry: Mapping[str, Any],
        where: str,
        reserved: Iterable[str] = (),
        fill: bool = False,
    ) -> dict[str, Any]:
        """Check ``entry`` (keys other than ``reserved``) against the declaration.

        Returns the entry (with defaults filled when ``fill``); raises :class:`ConfigError`
        naming the key and the allowed keys or values.
        """
        from jsonschema import Draft202012Validator

        reserved = set(reserved)
        params = {k: v for k, v in entry.items() if k not in reserved}
        unknown = [k for k in params if k not in self._params]
        if unknown:
            raise ConfigError(unknown_keys_message(where, unknown, [*sorted(reserved), *self]))
        missing = [k for k in self.required_names() if k not in params]
        if missing:
            raise ConfigError(f"{where}: missing required key(s) {', '.join(missing)}")
        schema = self.schema(with_defaults=False)
        schema.pop("required", None)
        for err in Draft202012Validator(schema).iter_errors(params):
            key = str(err.path[0]) if err.path else ""
            p = self._params.get(key)
            allowed = p.allowed() if p else err.message
            raise ConfigError(
                f"{where}.{key}: {err.instance!r} is not allowed; allowed: {allowed}"
                if p
                else f"{where}: {err.message}"
            )
        return self.fill(entry) if fill else dict(entry)


def unknown_keys_message(where: str, unknown: Iterable[str], allowed: Iterable[str]) -> str:
    """The one wording of an unknown-key error: the keys, then every allowed key."""
    keys = ", ".join(repr(k) for k in unknown)
    return f"{where}: unknown key(s): {keys}; allowed: {', '.join(allowed)} (check the spelling)"


def declaration(obj: Any) -> Params | None:
    """The :class:`Params` a plug-in class (or factory) declares as ``PARAMS``, if any."""
    decl = getattr(obj, "PARAMS", None)
    return decl if isinstance(decl, Params) else None


C = TypeVar("C", bound=type)


def declared(cls: C) -> C:
    """Class decorator: ``cls(...)`` fills each declared parameter its ``__init__`` takes and the
    caller omits with the declared default, so ``__init__`` is written without those defaults.

    The wrapped ``__init__``'s signature shows the declared defaults (keyword-only), which is
    what :func:`astroanom.plugins.accepts` and ``help()`` read.
    """
    decl = declaration(cls)
    if decl is None:
        raise TypeError(f"{cls.__qualname__} declares no PARAMS = Params(...)")
    init: Callable[..., None] = cls.__init__  # type: ignore[misc]
    sig = inspect.signature(init)
    fillable = [n for n in sig.parameters if n in decl and decl[n].has_default]

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = sig.bind_partial(self, *args, **kwargs).arguments
        for name in fillable:
            if name not in bound:
                kwargs[name] = decl.default(name)
        init(self, *args, **kwargs)

    params = []
    for name, p in sig.parameters.items():
        if name == "self" or p.kind is inspect.Parameter.VAR_POSITIONAL:
            if name == "self":
                params.append(p)
            continue
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        default = decl.default(name) if name in fillable else p.default
        params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, default=default))
    params += [p for p in sig.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD]
    __init__.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[misc]
    return cls
