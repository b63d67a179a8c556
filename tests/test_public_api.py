"""The public API: ``agentsdb`` and ``agentsdb.aggregate`` export exactly the names they declare,
each the object of the module that defines it; every name the README and docs/ import exists;
and importing agentsdb stays light."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import agentsdb
import agentsdb.aggregate as aggregate
from agentsdb.aggregate import DomainError
from agentsdb.errors import AgentsDBError

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def declared_imports(package: ModuleType, *, type_checking_only: bool) -> dict[str, str]:
    """The names a package's ``__init__.py`` imports with ``from MODULE import NAME``, mapped to
    MODULE: what type checkers and readers see. ``agentsdb`` declares its names under ``if
    TYPE_CHECKING:`` and loads them lazily at run time; ``agentsdb.aggregate`` imports them."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    statements: list[ast.stmt] = tree.body
    if type_checking_only:
        statements = [
            inner
            for node in tree.body
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for inner in node.body
        ]
    return {
        alias.asname or alias.name: node.module
        for node in statements
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agentsdb")
        for alias in node.names
    }


PACKAGES = [
    pytest.param(agentsdb, True, {"__version__"}, id="agentsdb"),
    pytest.param(aggregate, False, set(), id="agentsdb.aggregate"),
]


@pytest.mark.parametrize(("package", "type_checking_only", "computed"), PACKAGES)
def test_all_lists_each_declared_name_once_and_each_is_the_defining_modules_object(
    package: ModuleType, type_checking_only: bool, computed: set[str]
) -> None:
    declared = declared_imports(package, type_checking_only=type_checking_only)
    exported = list(package.__all__)

    assert len(exported) == len(set(exported)), "a name is listed twice in __all__"
    assert set(exported) == set(declared) | computed
    mismatched = {
        name: module
        for name, module in declared.items()
        if getattr(package, name) is not getattr(importlib.import_module(module), name)
    }
    assert mismatched == {}, "these names resolve to another object than their module's"
    star: dict[str, object] = {}
    exec(f"from {package.__name__} import *", star)  # the import users write
    assert set(star) - {"__builtins__"} == set(exported)


def test_every_name_the_readme_and_docs_import_from_agentsdb_exists() -> None:
    imports = re.compile(r"^from (agentsdb[\w.]*) import (?:\(([^)]*)\)|([^\n(]+))", re.MULTILINE)
    attributes = re.compile(r"\bagentsdb\.([A-Za-z]\w*)\(")
    missing: list[str] = []
    checked = 0
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for module, in_parentheses, on_the_line in imports.findall(text):
            names = (in_parentheses or on_the_line).split(",")
            for name in filter(None, (n.strip() for n in names)):
                checked += 1
                if not hasattr(importlib.import_module(module), name):
                    missing.append(f"{document.name}: from {module} import {name}")
        for name in attributes.findall(text):
            checked += 1
            if name not in agentsdb.__all__:
                missing.append(f"{document.name}: agentsdb.{name}")
    assert missing == []
    assert checked > 40


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        agentsdb.Nope  # noqa: B018


def test_importing_agentsdb_does_not_load_models_or_drivers() -> None:
    probe = (
        "import sys, agentsdb; "
        "print(sorted(m for m in sys.modules if m.startswith(('agentsdb.models', "
        "'agentsdb.repositories', 'asyncpg', 'libsql_client'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


def test_version_is_the_installed_distribution_version() -> None:
    from importlib.metadata import version

    assert agentsdb.__version__ == version("agentsdb")


def test_every_exported_error_sits_under_the_library_root() -> None:
    errors = [
        value
        for package in (agentsdb, aggregate)
        for name in package.__all__
        if inspect.isclass(value := getattr(package, name)) and issubclass(value, Exception)
    ]
    assert len(errors) > 50
    assert [error for error in errors if not issubclass(error, AgentsDBError)] == []


#: The AgentStore's errors that break no rule of the aggregate: a lookup and a lost race.
STORE_ERRORS = ("AgentNotFoundError", "RetriesExhaustedError")


def test_the_aggregates_errors_are_domain_errors_but_the_stores_lookup_and_lost_race() -> None:
    errors = {
        name: value
        for name in aggregate.__all__
        if inspect.isclass(value := getattr(aggregate, name)) and issubclass(value, Exception)
    }
    not_domain = sorted(name for name, err in errors.items() if not issubclass(err, DomainError))
    assert not_domain == sorted(STORE_ERRORS)
    assert len(errors) > 20
