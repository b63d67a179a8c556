"""pytest plugin: a fresh, migrated agentsdb database for every test.

Loaded by pytest through the ``pytest11`` entry point whenever agentsdb is installed beside
pytest (``pip install agentsdb[pytest]`` adds pytest and pytest-asyncio). The template database
is migrated once per test session; each test gets a copy of it, so no test runs a migration.

Fixtures:

* ``agentsdb_url`` -- the URL of a fresh migrated database, deleted after the test.
* ``agentsdb_db`` -- an open :class:`~agentsdb.Database` on it (async; needs pytest-asyncio).
* ``agentsdb_migration_sets`` -- the sets the template is migrated with (session scope):
  agentsdb's own plus the folders named by ``--agentsdb-set NAME=DIR`` or the
  ``agentsdb_migration_sets`` ini setting; override it to return your own.

The database is a SQLite file in a temporary folder, unless ``--agentsdb-url URL`` or
``$AGENTSDB_TEST_URL`` names a PostgreSQL server (``postgresql://user@host/postgres``), on which
a template database and one database per test are created (the account needs CREATEDB).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from agentsdb.db.base import Database
    from agentsdb.db.scratch import ScratchDatabases
    from agentsdb.migration_set import MigrationSet

URL_ENVIRONMENT_VARIABLE = "AGENTSDB_TEST_URL"
_T = TypeVar("_T")

_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(function: _F) -> _F:
    """pytest-asyncio's fixture decorator, so the fixture works in its strict mode too; without
    it, the async fixture is left to whichever async plugin is installed (pytest names the
    problem when there is none)."""
    try:
        decorate: Any = importlib.import_module("pytest_asyncio").fixture
    except ImportError:
        decorate = pytest.fixture
    return cast(_F, decorate(function))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("agentsdb", "agentsdb test databases")
    group.addoption(
        "--agentsdb-url",
        metavar="URL",
        default=None,
        help=f"a PostgreSQL server URL to create test databases on (default: "
        f"${URL_ENVIRONMENT_VARIABLE}, else SQLite files in a temporary folder)",
    )
    group.addoption(
        "--agentsdb-set",
        metavar="NAME=DIR",
        action="append",
        default=[],
        help="also migrate the test databases with the application set NAME from folder DIR "
        "(repeatable)",
    )
    parser.addini(
        "agentsdb_migration_sets",
        type="linelist",
        default=[],
        help="application migration sets for the test databases, one NAME=DIR a line "
        "(DIR relative to the ini file's folder)",
    )


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to the end on a thread of its own, so its event loop never meets the
    test's (a fixture may be set up while pytest-asyncio's loop is running)."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _named_sets(config: pytest.Config) -> list[tuple[str, Path]]:
    named: list[tuple[str, Path]] = []
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    entries = [(text, base) for text in config.getini("agentsdb_migration_sets")]
    entries += [(text, Path.cwd()) for text in config.getoption("agentsdb_set")]
    for text, folder in entries:
        name, equals, directory = str(text).strip().partition("=")
        if not equals or not name or not directory:
            raise pytest.UsageError(f"agentsdb migration set {str(text)[:60]!r} is not NAME=DIR")
        named.append((name.strip(), folder / directory.strip()))
    return named


@pytest.fixture(scope="session")
def agentsdb_migration_sets(pytestconfig: pytest.Config) -> list[MigrationSet]:
    """The sets every test database is migrated with: agentsdb's own, then the application
    sets named on the command line or in the ini file. Override it to choose them in code."""
    from agentsdb.migration_set import MigrationSet
    from agentsdb.migrations import builtin_set, load_migrations

    sets = [builtin_set()]
    sets.extend(
        MigrationSet(name, load_migrations(path)) for name, path in _named_sets(pytestconfig)
    )
    return sets


async def _migrate_template(scratch: ScratchDatabases, sets: list[MigrationSet]) -> None:
    from agentsdb.db import connect
    from agentsdb.migrator import Migrator

    await scratch.create_template()
    async with connect(scratch.template_url) as db:
        await Migrator(db, sets=sets).migrate()


@pytest.fixture(scope="session")
def agentsdb_template(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    agentsdb_migration_sets: list[MigrationSet],
) -> Iterator[ScratchDatabases]:
    """The template database, migrated once per session; its copies are the test databases."""
    from agentsdb.db.scratch import scratch_databases
    from agentsdb.errors import AgentsDBError

    url = pytestconfig.getoption("agentsdb_url") or os.environ.get(URL_ENVIRONMENT_VARIABLE)
    try:
        scratch = scratch_databases(url or None, tmp_path_factory.mktemp("agentsdb"))
        _run(_migrate_template(scratch, agentsdb_migration_sets))
    except AgentsDBError as error:
        raise pytest.UsageError(f"agentsdb test database: {error}") from error
    yield scratch
    _run(scratch.drop(scratch.template_url))


@pytest.fixture
def agentsdb_url(agentsdb_template: ScratchDatabases) -> Iterator[str]:
    """The URL of a new database holding the migrated schema, deleted after the test."""
    url = _run(agentsdb_template.copy())
    yield url
    _run(agentsdb_template.drop(url))


@_async_fixture
async def agentsdb_db(agentsdb_url: str) -> AsyncIterator[Database]:
    """An open connection to a new migrated database, closed and deleted after the test
    (an async fixture: it needs pytest-asyncio, which ``agentsdb[pytest]`` installs)."""
    from agentsdb.db import connect

    async with connect(agentsdb_url) as db:
        yield db
