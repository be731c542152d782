"""Every ``from astroanom... import name`` in benchmarks/ resolves (they are not run by CI, so a
moved module would otherwise break them silently)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def _astroanom_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every astroanom import in a script, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "astroanom" or node.module.startswith("astroanom."):
                found += [(node.lineno, node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name, "") for a in node.names if a.name.startswith("astroanom")
            ]
    return found


def test_there_are_benchmarks_to_check() -> None:
    assert len(BENCHMARKS) >= 5
    assert sum(len(_astroanom_imports(p)) for p in BENCHMARKS) >= 20


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_imports_resolve(path: Path) -> None:
    problems = []
    for line, module, name in _astroanom_imports(path):
        try:
            mod = importlib.import_module(module)
        except ImportError as err:
            problems.append(f"{path.name}:{line}: {module}: {err}")
            continue
        if name and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                problems.append(f"{path.name}:{line}: {module} has no {name}")
    assert not problems, "\n".join(problems)
