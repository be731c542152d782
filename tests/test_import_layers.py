"""The import graph of the library, read with ``ast`` (nested and TYPE_CHECKING imports
included): ``active/`` (the labelling loop) and ``evaluate/`` (the metrics) never import each
other; both take their orders from ``astroanom.ordering``, which imports nothing of astroanom."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "astroanom"

#: (importer, imported) edges still to go; each names the one line that removes it.
#: astroanom/active/ranking.py:25 -> ``from astroanom.ordering import rank_order`` (the
#: labeller's file, changed on its own branch).


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(sub: str | None = None) -> list[Path]:
    root = PACKAGE / sub if sub else PACKAGE
    return sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]


def imports(path: Path) -> set[str]:
    """The astroanom modules ``path`` imports anywhere in its text (relative ones resolved)."""
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]  # the package the module is in
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            mod = ".".join([*base, node.module] if node.module else base)
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}  # ``from pkg import module``
    return {m for m in found if m == "astroanom" or m.startswith("astroanom.")}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def edges(importer_pkg: str, imported_pkg: str) -> set[tuple[str, str]]:
    out = set()
    for path in modules(importer_pkg.removeprefix("astroanom.").replace(".", "/")):
        for mod in imports(path):
            if _in(mod, imported_pkg):
                out.add((module_name(path), ".".join(mod.split(".")[:3])))
    return out


def test_the_parser_sees_the_known_edges():
    assert "astroanom.ordering" in imports(PACKAGE / "active" / "loop.py")
    assert "astroanom.ordering" in imports(PACKAGE / "evaluate" / "viewing.py")
    assert ("astroanom.pipeline.active", "astroanom.active.loop") in edges(
        "astroanom.pipeline", "astroanom.active"
    )


@pytest.mark.parametrize(
    ("importer", "imported"),
    [("astroanom.active", "astroanom.evaluate"), ("astroanom.evaluate", "astroanom.active")],
)
def test_active_and_evaluate_do_not_import_each_other(importer, imported):
    found = edges(importer, imported)
    assert not found, f"{importer} imports {imported}: {sorted(found)}; use astroanom.ordering"


def test_ordering_imports_nothing_of_astroanom():
    assert imports(PACKAGE / "ordering.py") == set()


@pytest.mark.parametrize(
    "path",
    [*modules("active"), *modules("evaluate"), PACKAGE / "ordering.py"],
    ids=lambda p: module_name(p),
)
def test_each_module_imports(path):
    importlib.import_module(module_name(path))
