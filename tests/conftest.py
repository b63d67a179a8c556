"""Shared fixtures: temp-file SQLite databases, fresh for every test; fresh PostgreSQL
databases on the test server (``AGENTSDB_TEST_POSTGRES_URL``); a real libSQL server (sqld,
``AGENTSDB_TEST_SQLD``) started once per session and wiped before each test.

A migrated database costs no migration per test: the built-in migrations run once per session
on each backend, and every test gets a copy (SQLite: the template's file; PostgreSQL: ``CREATE
DATABASE ... TEMPLATE``; libSQL: a snapshot restored into the wiped sqld).
tests/test_migrated_fixtures.py proves each copy is the database ``migrate()`` makes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn, TypeVar

import pytest
from postgres_server import (
    DatabaseDropper,
    drop_database,
    fresh_postgres_database,
    make_template,
)
from sqld_server import SqldServer, SqldUnavailable, find_sqld

import agentsdb
from agentsdb.db.base import Database
from agentsdb.db.url import obscure_password
from agentsdb.events import EventStore

# tests/test_pytest_plugin.py runs pytest on generated test files.
pytest_plugins = ["pytester"]


_T = TypeVar("_T")


def run_on_own_loop(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine on a thread of its own, so its event loop never meets the tests' loops
    (session fixtures are set up while a test's loop may be running)."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


async def migrate(url: str) -> None:
    """Apply every built-in migration to the database at ``url``."""
    async with agentsdb.connect(url) as database:
        await agentsdb.Migrator(database).migrate()


# --- SQLite ---------------------------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a new SQLite database file in the test's temp folder."""
    return tmp_path / "test.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An open, empty SQLite database on a temp file."""
    async with agentsdb.connect(str(db_path)) as database:
        yield database


def checkpointed(path: Path) -> Path:
    """``path`` with its write-ahead log folded into the main file and removed, so the file
    alone is the whole database (copying it without its ``-wal`` then loses nothing)."""
    with sqlite3.connect(path) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    connection.close()  # the last connection to close deletes the -wal and -shm files
    leftovers = [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    if busy or leftovers:
        raise RuntimeError(f"{path} is still in use: checkpoint busy={busy}, {leftovers} remain")
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session by a real ``migrate()``, checkpointed: a copy
    of the file is a migrated database (see copy_sqlite_template)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    run_on_own_loop(migrate(str(path)))
    return checkpointed(path)


def copy_sqlite_template(template: Path, target: Path) -> None:
    """Put a copy of the migrated template at ``target`` (with its 0600 mode, as agentsdb
    creates files). Copying takes well under a millisecond; migrating a file ~100 ms."""
    if target.exists():  # copying over an open database would corrupt it
        raise RuntimeError(f"{target} already exists (does the test ask for db and migrated_db?)")
    shutil.copy(template, target)


@pytest.fixture
async def migrated_db(db_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """An open SQLite database on ``db_path`` with every built-in migration applied (a copy
    of the session's migrated template). Not together with ``db``, which opens the same path."""
    copy_sqlite_template(sqlite_template, db_path)
    async with agentsdb.connect(str(db_path)) as database:
        yield database


# --- PostgreSQL -----------------------------------------------------------------------------------

POSTGRES_URL_VARIABLE = "AGENTSDB_TEST_POSTGRES_URL"
DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    """True when the run is CI's (``CI=true``): a missing test server then fails the run."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _postgres_unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so the PostgreSQL tests may not be skipped)")
    pytest.skip(f"{reason}; set {POSTGRES_URL_VARIABLE} to a reachable server to run them")


async def _probe_postgres(asyncpg: ModuleType, url: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    await connection.close()


@pytest.fixture(scope="session")
def asyncpg_driver() -> ModuleType:
    """The asyncpg module. Skips the test when it is not installed, unless CI=true."""
    if importlib.util.find_spec("asyncpg") is None:
        _postgres_unavailable("asyncpg is not installed (pip install -e '.[test]')")
    return importlib.import_module("asyncpg")


@pytest.fixture(scope="session")
def postgres_server_url(asyncpg_driver: ModuleType) -> str:
    """The test server's URL (an account that may create databases).

    Skips the test when the server does not answer, unless CI=true, where that fails it.
    Checked once per run.
    """
    url = os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_TEST_POSTGRES_URL
    shown = obscure_password(url)
    try:
        run_on_own_loop(_probe_postgres(asyncpg_driver, url))
    except Exception as error:
        _postgres_unavailable(f"no PostgreSQL server at {shown}: {error}")
    return url


@pytest.fixture(scope="session")
def postgres_dropper(
    postgres_server_url: str, asyncpg_driver: ModuleType
) -> Iterator[DatabaseDropper]:
    """The session's DatabaseDropper; every drop has finished when the session ends."""
    dropper = DatabaseDropper(postgres_server_url, asyncpg_driver)
    try:
        yield dropper
    finally:
        dropper.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str, asyncpg_driver: ModuleType) -> Iterator[str]:
    """The name of a database migrated once per session by a real ``migrate()``, which no one
    may connect to, for ``CREATE DATABASE ... TEMPLATE`` (see tests/postgres_server.py). Its
    name is unique per session, since several test runs share the server; it is dropped at
    the end."""
    name = f"agentsdb_template_{uuid.uuid4().hex[:16]}"
    try:
        run_on_own_loop(make_template(postgres_server_url, asyncpg_driver, name, migrate))
        yield name
    finally:
        run_on_own_loop(drop_database(postgres_server_url, asyncpg_driver, name))


@pytest.fixture
async def postgres_url(
    postgres_server_url: str, asyncpg_driver: ModuleType, postgres_dropper: DatabaseDropper
) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    async with fresh_postgres_database(
        postgres_server_url, asyncpg_driver, dropper=postgres_dropper
    ) as url:
        yield url


@pytest.fixture
async def postgres_db(postgres_url: str) -> AsyncIterator[Database]:
    """An open connection to a new, empty PostgreSQL database."""
    async with agentsdb.connect(postgres_url) as database:
        yield database


# --- libSQL: a real sqld --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqld_server() -> Iterator[SqldServer]:
    """A real libSQL server (sqld) on a free loopback port, for the whole session.

    Its binary comes from ``AGENTSDB_TEST_SQLD`` (else ``sqld`` on the PATH; see
    tests/sqld_server.py). Skips the test when there is none or it does not start, unless
    CI=true, where that fails it.
    """
    try:
        if importlib.util.find_spec("libsql_client") is None:
            raise SqldUnavailable("libsql-client is not installed (pip install -e '.[test]')")
        server = SqldServer(find_sqld())
        server.start()
    except SqldUnavailable as error:
        if in_ci():
            pytest.fail(f"{error} (CI=true, so the libSQL tests may not be skipped)")
        pytest.skip(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqld(sqld_server: SqldServer) -> SqldServer:
    """The session's sqld with an empty database (wiped before the test)."""
    sqld_server.wipe()
    return sqld_server


@pytest.fixture(scope="session")
def sqld_migrated_snapshot(sqld_server: SqldServer) -> list[dict[str, object]]:
    """The built-in migrations' result on sqld, as a snapshot (see SqldServer.snapshot), made
    once per session by a real ``migrate()``; restoring it takes a few ms, migrating ~100 ms."""
    sqld_server.wipe()
    run_on_own_loop(migrate(sqld_server.http_url))
    snapshot = sqld_server.snapshot()
    sqld_server.wipe()
    return snapshot


# --- the contract fixtures: one database per backend, empty or migrated ---------------------------

BACKENDS = ("sqlite", "postgresql", "libsql-ws", "libsql-http")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend a contract test runs on (each test runs once per backend)."""
    name: str = request.param
    return name


def wants_migrated(request: pytest.FixtureRequest) -> bool:
    """True when the test asks for ``migrated_any_db``: its ``backend_url`` is then a copy of
    the backend's migrated template instead of an empty database."""
    return "migrated_any_db" in request.fixturenames


@pytest.fixture
async def backend_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of the test's database on ``backend``: new and empty, or migrated when the
    test uses ``migrated_any_db`` (then a copy of the session's migrated template).

    SQLite: a temp file. PostgreSQL: a new database on the test server, dropped afterwards.
    libSQL: the session's sqld (see ``sqld``), wiped or restored, over ws:// or http://.
    """
    migrated = wants_migrated(request)
    if backend == "sqlite":
        path = tmp_path / "contract.db"
        if migrated:
            copy_sqlite_template(request.getfixturevalue("sqlite_template"), path)
        yield str(path)
    elif backend == "postgresql":
        server_url = request.getfixturevalue("postgres_server_url")
        asyncpg = request.getfixturevalue("asyncpg_driver")
        template = request.getfixturevalue("postgres_template") if migrated else None
        dropper = request.getfixturevalue("postgres_dropper")
        async with fresh_postgres_database(
            server_url, asyncpg, template=template, dropper=dropper
        ) as url:
            yield url
    else:
        server: SqldServer = request.getfixturevalue("sqld")
        if migrated:
            server.restore(request.getfixturevalue("sqld_migrated_snapshot"))
        yield server.ws_url if backend == "libsql-ws" else server.http_url


@pytest.fixture
async def any_db(backend_url: str) -> AsyncIterator[Database]:
    """An open, empty database on each backend in turn."""
    async with agentsdb.connect(backend_url) as database:
        yield database


@pytest.fixture
async def migrated_any_db(backend_url: str) -> AsyncIterator[Database]:
    """An open database with every built-in migration applied, on each backend in turn: a copy
    of the database one real ``migrate()`` made at the start of the session (see backend_url;
    tests/test_migrated_fixtures.py and tests/test_sqld_fixture.py prove the copies are that
    database), so no test pays for migrating."""
    async with agentsdb.connect(backend_url) as database:
        yield database


@pytest.fixture
def store(migrated_any_db: Database) -> EventStore:
    """An event store on the test's backend (``migrated_any_db``)."""
    return EventStore(migrated_any_db)


WriteWithoutForeignKeys = Callable[[Database, str], Awaitable[None]]


@pytest.fixture
def write_without_foreign_keys(backend: str, backend_url: str) -> WriteWithoutForeignKeys:
    """Runs one write on the test's database with its foreign-key checks off, to plant a row
    the schema would refuse (an orphan a legacy system left behind).

    SQLite: a connection of its own with ``PRAGMA foreign_keys = OFF``. PostgreSQL: a
    transaction with ``SET LOCAL session_replication_role = replica`` (the test server's
    account is a superuser). A libSQL server keeps foreign keys on whatever it is told
    (``PRAGMA foreign_keys = OFF`` does not stay off there), so a test that plants an orphan
    runs on the other two.
    """

    async def sqlite_write(db: Database, sql: str) -> None:
        with closing(sqlite3.connect(backend_url)) as connection:
            connection.execute("PRAGMA foreign_keys = OFF")
            connection.execute(sql)
            connection.commit()

    async def postgres_write(db: Database, sql: str) -> None:
        async with db.transaction() as tx:
            await tx.execute("SET LOCAL session_replication_role = replica")
            await tx.execute(sql)

    writes = {"sqlite": sqlite_write, "postgresql": postgres_write}
    if backend not in writes:
        raise RuntimeError(f"{backend} cannot turn its foreign keys off; run on {list(writes)}")
    return writes[backend]
