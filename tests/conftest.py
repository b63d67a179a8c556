"""Shared fixtures: temp-file SQLite databases, fresh for every test; fresh PostgreSQL
databases on the test server (``AGENTSDB_TEST_POSTGRES_URL``); a real libSQL server (sqld,
``AGENTSDB_TEST_SQLD``) started once per session and wiped before each test."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqld_server import SqldServer, SqldUnavailable, find_sqld

import agentsdb
from agentsdb.db.base import Database
from agentsdb.db.url import obscure_password

# tests/test_pytest_plugin.py runs pytest on generated test files.
pytest_plugins = ["pytester"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a new SQLite database file in the test's temp folder."""
    return tmp_path / "test.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An open, empty SQLite database on a temp file."""
    async with agentsdb.connect(str(db_path)) as database:
        yield database


@pytest.fixture
async def migrated_db(db: Database) -> Database:
    """The temp-file database with every built-in migration applied."""
    await agentsdb.Migrator(db).migrate()
    return db


# --- PostgreSQL ----------------------------------------------------------------------------------

POSTGRES_URL_VARIABLE = "AGENTSDB_TEST_POSTGRES_URL"
DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    """True when the run is CI's (``CI=true``): a missing test server then fails the run."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _postgres_unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so the PostgreSQL tests may not be skipped)")
    pytest.skip(f"{reason}; set {POSTGRES_URL_VARIABLE} to a reachable server to run them")


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at database ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


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
    # On a thread of its own, so the probe's event loop never meets the tests' loops.
    with ThreadPoolExecutor(max_workers=1) as executor:
        try:
            executor.submit(asyncio.run, _probe_postgres(asyncpg_driver, url)).result()
        except Exception as error:
            _postgres_unavailable(f"no PostgreSQL server at {shown}: {error}")
    return url


@asynccontextmanager
async def fresh_postgres_database(server_url: str, asyncpg: ModuleType) -> AsyncIterator[str]:
    """Create a new, empty database on the server; yield its URL; drop it afterwards."""
    name = f"agentsdb_test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server_url, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server_url, name)
    finally:
        admin = await asyncpg.connect(server_url, timeout=10)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()


@pytest.fixture
async def postgres_url(postgres_server_url: str, asyncpg_driver: ModuleType) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    async with fresh_postgres_database(postgres_server_url, asyncpg_driver) as url:
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


async def _migrate(url: str) -> None:
    async with agentsdb.connect(url) as database:
        await agentsdb.Migrator(database).migrate()


@pytest.fixture(scope="session")
def sqld_migrated_snapshot(sqld_server: SqldServer) -> list[dict[str, object]]:
    """The built-in migrations' result on sqld, as a snapshot (see SqldServer.snapshot), made
    once per session by a real ``migrate()``; restoring it takes a few ms, migrating ~100 ms."""
    sqld_server.wipe()
    # On a thread of its own, so this event loop never meets the tests' loops.
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, _migrate(sqld_server.http_url)).result()
    snapshot = sqld_server.snapshot()
    sqld_server.wipe()
    return snapshot


# --- the contract fixture: one open, empty database per backend -----------------------------------

BACKENDS = ("sqlite", "postgresql", "libsql-ws", "libsql-http")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend a contract test runs on (each test runs once per backend)."""
    name: str = request.param
    return name


@pytest.fixture
async def backend_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of a new, empty database on ``backend``.

    SQLite: a temp file. PostgreSQL: a fresh database on the test server (see postgres_url).
    libSQL: the session's sqld (see ``sqld``), wiped, over ws:// or http://.
    """
    if backend == "sqlite":
        yield str(tmp_path / "contract.db")
    elif backend == "postgresql":
        server_url = request.getfixturevalue("postgres_server_url")
        asyncpg = request.getfixturevalue("asyncpg_driver")
        async with fresh_postgres_database(server_url, asyncpg) as url:
            yield url
    else:
        server: SqldServer = request.getfixturevalue("sqld")
        yield server.ws_url if backend == "libsql-ws" else server.http_url


@pytest.fixture
async def any_db(backend_url: str) -> AsyncIterator[Database]:
    """An open, empty database on each backend in turn."""
    async with agentsdb.connect(backend_url) as database:
        yield database


# --- the entity contract fixture: a migrated database per backend --------------------------------

#: The backends ``migrated_any_db`` runs on: all of them. Over libsql-http, which has no
#: interactive transactions, the repositories' multi-statement units run as single batches.
ENTITY_BACKENDS = BACKENDS


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Ahead of the fixture's own params: a parametrize mark on `backend` takes precedence.
    if "migrated_any_db" in metafunc.fixturenames:
        metafunc.definition.add_marker(
            pytest.mark.parametrize("backend", ENTITY_BACKENDS, indirect=True)
        )


LIBSQL_BACKENDS = ("libsql-ws", "libsql-http")


@pytest.fixture
async def migrated_any_db(
    backend: str, backend_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """An open database with every built-in migration applied, on each of ENTITY_BACKENDS.

    On libSQL the session's sqld gets a copy of the database one real ``migrate()`` made at the
    start of the session (sqld_migrated_snapshot; tests/test_sqld_fixture.py proves the copy
    is the same database); elsewhere ``migrate()`` runs for the test.
    """
    if backend in LIBSQL_BACKENDS:
        server: SqldServer = request.getfixturevalue("sqld")
        server.restore(request.getfixturevalue("sqld_migrated_snapshot"))
        async with agentsdb.connect(backend_url) as database:
            yield database
        return
    async with agentsdb.connect(backend_url) as database:
        await agentsdb.Migrator(database).migrate()
        yield database
