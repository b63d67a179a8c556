"""Two connection-layer capabilities the ops commands rely on: ``check_integrity()`` on every
backend, and ``connect(url, create=False)``, which never creates a database."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import agentsdb
from agentsdb import ConfigurationError, DatabaseFileError, UnsupportedBackendError
from agentsdb.db.base import Database
from agentsdb.errors import UnsupportedOperationError


@pytest.mark.parametrize("backend", ["sqlite", "libsql-ws", "libsql-http"], indirect=True)
async def test_check_integrity_finds_nothing_wrong_in_a_sound_database(any_db: Database) -> None:
    await any_db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    await any_db.execute("CREATE INDEX t_body ON t (body)")
    await any_db.execute("INSERT INTO t (id, body) VALUES (1, 'one'), (2, 'two')")
    assert await any_db.check_integrity() == []
    assert await any_db.check_integrity(quick=True) == []


async def test_check_integrity_on_postgresql_says_what_to_use_instead(
    postgres_db: Database,
) -> None:
    with pytest.raises(UnsupportedOperationError, match=r"not supported on PostgreSQL.*pg_amcheck"):
        await postgres_db.check_integrity()


async def test_check_integrity_reports_an_index_that_disagrees_with_its_table(
    db_path: Path,
) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE INDEX t_body ON t (body)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(n, f"row {n}") for n in range(50)])
        # Rewrite the table without its index noticing: the index now points at stale values.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX t_body ON t (id)' WHERE name = 't_body'"
        )
    async with agentsdb.connect(str(db_path)) as db:
        full = await db.check_integrity()
        quick = await db.check_integrity(quick=True)
    assert full
    assert any("t_body" in problem for problem in full)
    # quick_check skips comparing indexes with their tables.
    assert quick == []


async def test_connect_with_create_false_refuses_a_missing_file_and_creates_nothing(
    tmp_path: Path,
) -> None:
    for url in ("missing.db", f"sqlite:///{tmp_path}/missing.db", f"file:{tmp_path}/missing.db"):
        with pytest.raises(
            DatabaseFileError, match="does not exist; nothing was created"
        ) as raised:
            await agentsdb.connect(url if "/" in url else str(tmp_path / url), create=False)
        assert raised.value.path == str(tmp_path / "missing.db")
    assert os.listdir(tmp_path) == []


async def test_connect_with_create_false_opens_an_existing_file(db_path: Path) -> None:
    sqlite3.connect(db_path).close()
    async with agentsdb.connect(str(db_path), create=False) as db:
        await db.execute("CREATE TABLE t (a)")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


async def test_connect_with_create_false_leaves_in_memory_databases_alone() -> None:
    async with agentsdb.connect(":memory:", create=False) as db:
        assert await db.fetch_one("SELECT 1 AS one") == {"one": 1}


async def test_connect_with_create_false_opens_an_existing_server_database(
    any_db: Database, backend_url: str
) -> None:
    async with agentsdb.connect(backend_url, create=False) as db:
        assert await db.fetch_one("SELECT 1 AS one") == {"one": 1}


async def test_connect_create_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="create must be True or False"):
        await agentsdb.connect(str(tmp_path / "x.db"), create="no")
    assert os.listdir(tmp_path) == []


async def test_a_sqlite_url_without_a_path_is_refused() -> None:
    with pytest.raises(UnsupportedBackendError, match="the sqlite URL names no file"):
        await agentsdb.connect("sqlite:///")
