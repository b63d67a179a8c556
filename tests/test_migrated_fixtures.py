"""The migrated-database fixtures are what they claim: a copy of the session's migrated template
(a copied SQLite file, a PostgreSQL ``CREATE DATABASE ... TEMPLATE``) is the database a fresh
``migrate()`` makes -- the same schema, the same rows, the same tracking rows -- and a test's
writes to its copy never reach the template. tests/test_sqld_fixture.py proves the same for
the libSQL snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import copy_sqlite_template, migrate
from postgres_server import fresh_postgres_database

import agentsdb
from agentsdb.db.base import Database

#: The backends whose migrated databases are copies made here (libSQL: test_sqld_fixture.py).
COPYING_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)

#: Tracking columns that record when, how fast and by whom a migration ran: they differ between
#: any two runs of ``migrate()``. Every other column must match.
RUN_COLUMNS = {"started_at", "applied_at", "execution_time_ms", "applied_by"}

Contents = dict[str, list[tuple[Any, ...]]]
NewDatabase = Callable[[], AbstractAsyncContextManager[str]]

SQLITE_CATALOG = {
    "schema": "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name",
    "user_version": "SELECT user_version FROM pragma_user_version",
    "tables": (
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%'"
        " ORDER BY name"
    ),
}

POSTGRES_CATALOG = {
    "columns": (
        "SELECT table_name, column_name, ordinal_position, data_type, column_default,"
        " is_nullable, is_identity, identity_generation FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ),
    "indexes": (
        "SELECT tablename, indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() ORDER BY indexname"
    ),
    "constraints": (
        "SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
        " ORDER BY tbl, conname"
    ),
    "triggers": (
        "SELECT tgrelid::regclass::text AS tbl, tgname, pg_get_triggerdef(oid) AS def"
        " FROM pg_trigger WHERE NOT tgisinternal ORDER BY tbl, tgname"
    ),
    "functions": (
        "SELECT proname, pg_get_functiondef(oid) AS def FROM pg_proc"
        " WHERE pronamespace = current_schema()::regnamespace AND prokind IN ('f', 'p')"
        " ORDER BY proname, def"
    ),
    "views": (
        "SELECT viewname, definition FROM pg_views WHERE schemaname = current_schema()"
        " ORDER BY viewname"
    ),
    "sequences": (
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()"
        " ORDER BY sequencename"
    ),
    "types": (
        "SELECT typname, typtype FROM pg_type WHERE typnamespace = current_schema()::regnamespace"
        " ORDER BY typname"
    ),
    "extensions": "SELECT extname, extversion FROM pg_extension ORDER BY extname",
    "tables": (
        "SELECT table_name AS name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY name"
    ),
}


def _tuples(rows: list[dict[str, Any]], leave_out: Collection[str] = ()) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(value for key, value in row.items() if key not in leave_out) for row in rows),
        key=repr,
    )


async def contents(db: Database, catalog: dict[str, str]) -> Contents:
    """The schema as the catalog describes it, and every row of every table (the tracking
    table's without the columns that record a particular run)."""
    found: Contents = {}
    for part, sql in catalog.items():
        found[part] = _tuples(await db.fetch_all(sql))
    for (table,) in found["tables"]:
        rows = await db.fetch_all(f'SELECT * FROM "{table}"')
        found[f"rows of {table}"] = _tuples(rows, RUN_COLUMNS)
    return found


@asynccontextmanager
async def _file(path: Path) -> AsyncIterator[str]:
    yield str(path)


@pytest.fixture
def catalog(backend: str) -> dict[str, str]:
    """The catalog queries that describe a schema on ``backend``."""
    return SQLITE_CATALOG if backend == "sqlite" else POSTGRES_CATALOG


@pytest.fixture
def new_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> NewDatabase:
    """Makes a new, empty database on ``backend`` (dropped afterwards) and gives its URL."""
    if backend == "sqlite":
        paths = iter(tmp_path / f"new-{n}.db" for n in range(1000))

        def new_file() -> AbstractAsyncContextManager[str]:
            return _file(next(paths))

        return new_file
    server_url: str = request.getfixturevalue("postgres_server_url")
    asyncpg: ModuleType = request.getfixturevalue("asyncpg_driver")
    return lambda: fresh_postgres_database(server_url, asyncpg)


@pytest.fixture
def new_copy(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> NewDatabase:
    """Makes a new copy of the session's migrated template on ``backend``, as backend_url
    does for ``migrated_any_db``, and gives its URL."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        paths = iter(tmp_path / f"copy-{n}.db" for n in range(1000))

        def copy_file() -> AbstractAsyncContextManager[str]:
            path = next(paths)
            copy_sqlite_template(template, path)
            return _file(path)

        return copy_file
    server_url: str = request.getfixturevalue("postgres_server_url")
    asyncpg: ModuleType = request.getfixturevalue("asyncpg_driver")
    name: str = request.getfixturevalue("postgres_template")
    return lambda: fresh_postgres_database(server_url, asyncpg, template=name)


async def freshly_migrated_contents(new_database: NewDatabase, catalog: dict[str, str]) -> Contents:
    async with new_database() as url:
        await migrate(url)
        async with agentsdb.connect(url) as fresh:
            return await contents(fresh, catalog)


async def assert_usable_as_migrated(db: Database) -> None:
    migrator = agentsdb.Migrator(db)
    validation = await migrator.validate_migrations()
    assert validation.is_valid, validation.errors
    assert validation.warnings == []
    assert await migrator.migrate() == []
    with pytest.raises(agentsdb.ForeignKeyViolationError):
        await db.execute(
            "INSERT INTO sessions (id, main_agent_id, created_at, updated_at) "
            "VALUES ('s1', 'nobody', 't', 't')"
        )


@COPYING_BACKENDS
async def test_a_copied_template_is_the_database_a_fresh_migrate_makes(
    migrated_any_db: Database, new_database: NewDatabase, catalog: dict[str, str]
) -> None:
    copied = await contents(migrated_any_db, catalog)
    fresh = await freshly_migrated_contents(new_database, catalog)

    assert copied == fresh
    tracking = copied["rows of agentsdb_migrations"]
    assert len(tracking) == len(agentsdb.Migrator(migrated_any_db).migrations) > 10
    await assert_usable_as_migrated(migrated_any_db)


@COPYING_BACKENDS
async def test_writes_to_a_copy_leave_the_template_and_later_copies_as_migrated(
    migrated_any_db: Database,
    new_copy: NewDatabase,
    new_database: NewDatabase,
    catalog: dict[str, str],
) -> None:
    await migrated_any_db.execute(
        "INSERT INTO agents (id, name, model, created_at, updated_at) "
        "VALUES ('a1', 'n', 'm', 't', 't')"
    )
    await migrated_any_db.execute("CREATE TABLE written_by_a_test (id INTEGER PRIMARY KEY)")

    async with new_copy() as url, agentsdb.connect(url) as later:
        assert await contents(later, catalog) == await freshly_migrated_contents(
            new_database, catalog
        )
        await assert_usable_as_migrated(later)
