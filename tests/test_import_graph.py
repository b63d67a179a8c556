"""No import cycle among agentsdb's modules, counting every import the source states: at module
level, under ``if TYPE_CHECKING:`` and inside functions (a lazy import that keeps start-up light
is fine only when it closes no cycle).

An edge ``a -> b`` is an import statement in module ``a`` naming module ``b`` (``from b import
x`` names ``b.x`` instead when that is a module). Importing ``a.b`` also runs the package
``a/__init__.py``, but that is not counted as an edge: a package re-exporting its submodules
would otherwise always form a cycle with them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "agentsdb"


def module_names(root: Path) -> dict[str, Path]:
    """Every module under ``root``, by dotted name (a package by its own name)."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute name of a ``from`` import's module (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    # A package's ``.`` is the package itself; a plain module's is its parent.
    parts = module.split(".")
    base = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(module: str, path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    """The agentsdb modules ``module`` (at ``path``) imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in known:
                    yield submodule
                elif target in known:
                    yield target


def import_graph(root: Path) -> dict[str, set[str]]:
    """Every agentsdb module and the agentsdb modules it imports."""
    known = module_names(root)
    return {name: set(imports_of(name, path, known)) - {name} for name, path in known.items()}


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None when it has none (depth first)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                done.add(path.pop())
            elif following in path:
                return [*path[path.index(following) :], following]
            elif following not in done:
                path.append(following)
                stack.append(iter(sorted(graph.get(following, ()))))
    return None


def test_agentsdb_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 100  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def _write(root: Path, modules: Mapping[str, str]) -> Path:
    package = root / "agentsdb"
    for name, source in modules.items():
        path = package.joinpath(*name.split(".")[1:]).with_suffix(".py")
        if name.count(".") == 0:
            path = package / "__init__.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return package


@pytest.mark.parametrize(
    ("b_source", "expected"),
    [
        ("from agentsdb import a\n", ["agentsdb.a", "agentsdb.b", "agentsdb.a"]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agentsdb.a import X\n",
            ["agentsdb.a", "agentsdb.b", "agentsdb.a"],
        ),
        ("def f():\n    import agentsdb.a\n", ["agentsdb.a", "agentsdb.b", "agentsdb.a"]),
        ("from . import a\n", ["agentsdb.a", "agentsdb.b", "agentsdb.a"]),
        ("import os\n", None),
    ],
    ids=["module level", "under TYPE_CHECKING", "inside a function", "relative", "no cycle"],
)
def test_a_cycle_is_found_wherever_the_import_is(
    tmp_path: Path, b_source: str, expected: list[str] | None
) -> None:
    package = _write(
        tmp_path,
        {"agentsdb": "", "agentsdb.a": "from agentsdb.b import Y\n", "agentsdb.b": b_source},
    )
    assert find_cycle(import_graph(package)) == expected


def test_a_package_importing_its_submodule_is_no_cycle(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "agentsdb": "from agentsdb.sub.part import X\n",
            "agentsdb.sub": "from agentsdb.sub.part import X\n",
            "agentsdb.sub.part": "from agentsdb.other import Y\nX = 1\n",
            "agentsdb.other": "Y = 2\n",
        },
    )
    assert find_cycle(import_graph(package)) is None
