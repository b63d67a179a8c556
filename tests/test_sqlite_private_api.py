"""The aiosqlite internals agentsdb uses (agentsdb.db.sqlite.worker) agree with aiosqlite's
public API: the function runs on the thread aiosqlite's own calls run on, with the connection
they use. If an aiosqlite release changes them, these tests fail, before a query does."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import aiosqlite
import pytest

from agentsdb.db.sqlite.worker import run_on_worker, sqlite_connection, worker_thread


async def test_run_on_worker_runs_on_the_thread_aiosqlite_runs_its_own_calls_on(
    tmp_path: Path,
) -> None:
    async with aiosqlite.connect(tmp_path / "a.db") as connection:
        await connection.create_function("thread_id", 0, threading.get_ident)
        async with connection.execute("SELECT thread_id()") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        public_thread = row[0]
        ours = await run_on_worker(connection, threading.get_ident)
        assert ours == public_thread != threading.get_ident()
        assert worker_thread(connection).ident == public_thread


async def test_sqlite_connection_is_the_connection_aiosqlite_runs_statements_on(
    tmp_path: Path,
) -> None:
    async with aiosqlite.connect(tmp_path / "a.db") as connection:
        # A TEMP table exists on one connection only.
        await connection.execute("CREATE TEMP TABLE only_here (x INTEGER)")
        await connection.execute("INSERT INTO only_here VALUES (42)")

        def read() -> list[tuple[int]]:
            conn = sqlite_connection(connection)
            assert isinstance(conn, sqlite3.Connection)
            return conn.execute("SELECT x FROM only_here").fetchall()

        assert await run_on_worker(connection, read) == [(42,)]


async def test_run_on_worker_on_a_closed_connection_raises_the_value_error_agentsdb_translates(
    tmp_path: Path,
) -> None:
    connection = await aiosqlite.connect(tmp_path / "a.db")
    thread = worker_thread(connection)
    await connection.close()
    thread.join(5)
    assert not thread.is_alive()
    with pytest.raises(ValueError, match=r"(?i)closed"):
        await run_on_worker(connection, threading.get_ident)
