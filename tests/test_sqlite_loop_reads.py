"""Short reads on the event loop's thread (agentsdb.db.sqlite.loop_reads), on real temp files.

What shows where a read ran: a read on the loop's connection does not wait for another task's
open transaction (and sees only what was committed), while a read on the worker's connection
waits its turn behind it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import agentsdb
from agentsdb import Database, UnsupportedOperationError
from agentsdb.db.sqlite.loop_reads import (
    LONG_QUERY_SKIPS,
    VM_STEP_BUDGET,
    WorkerConnection,
    loop_readable,
    note_statement,
    note_statement_done,
)

# A query that takes far more virtual-machine steps than a loop read may.
LONG_QUERY = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :top) "
    "SELECT count(*) AS total, (SELECT count(*) FROM items) AS items FROM n"
)


@pytest.fixture
async def items_db(db_path: Path) -> AsyncIterator[Database]:
    async with agentsdb.connect(str(db_path)) as database:
        await database.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        await database.execute("INSERT INTO items (id, name) VALUES (1, 'one')")
        yield database


async def hold_transaction(db: Database, started: asyncio.Event, release: asyncio.Event) -> None:
    """Insert row 2 in a transaction and keep it open until ``release``."""
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO items (id, name) VALUES (2, 'two')")
        started.set()
        await release.wait()


async def test_a_short_read_does_not_wait_for_another_tasks_transaction(
    items_db: Database,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(hold_transaction(items_db, started, release))
    await started.wait()
    try:
        # Answered while the transaction is open, with only what was committed before it.
        rows = await asyncio.wait_for(items_db.fetch_all("SELECT id FROM items ORDER BY id"), 5)
        missing = await asyncio.wait_for(
            items_db.fetch_one("SELECT name FROM items WHERE id = :id", {"id": 2}), 5
        )
    finally:
        release.set()
        await writer
    assert rows == [{"id": 1}]
    assert missing is None
    # And a read after the commit sees it.
    rows = await items_db.fetch_all("SELECT id FROM items ORDER BY id")
    assert rows == [{"id": 1}, {"id": 2}]


async def test_the_step_budget_is_per_query_not_per_cached_statement(items_db: Database) -> None:
    # SQLite counts progress-handler steps over every execution of a cached statement; the budget
    # must still be one query's, or every few hundred point reads one would leave the loop.
    started, release = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(hold_transaction(items_db, started, release))
    await started.wait()
    try:
        for _ in range(3 * VM_STEP_BUDGET // 10):
            row = await asyncio.wait_for(
                items_db.fetch_one("SELECT name FROM items WHERE id = :id", {"id": 1}), 5
            )
            assert row == {"name": "one"}
    finally:
        release.set()
        await writer


async def answered_beside_an_open_transaction(db: Database, sql: str, top: int) -> bool:
    """Whether ``sql`` is answered while another task holds a transaction open: on the loop's
    connection it is, on the worker's it waits behind the transaction."""
    started, release = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(hold_transaction(db, started, release))
    await started.wait()
    reader = asyncio.create_task(db.fetch_one(sql, {"top": top}))
    try:
        await asyncio.sleep(0.05)
        answered = reader.done()
    finally:
        release.set()
        await writer
    # The loop's connection saw only what was committed before; the worker's, the new row too.
    assert await reader == {"total": top, "items": 1 if answered else 2}
    await db.execute("DELETE FROM items WHERE id = 2")
    return answered


async def test_a_long_query_is_interrupted_on_the_loop_and_runs_on_the_worker(
    items_db: Database,
) -> None:
    # Over the budget, so it went to the worker, which waits for the open transaction (and then
    # sees its row).
    assert not await answered_beside_an_open_transaction(items_db, LONG_QUERY, VM_STEP_BUDGET * 5)


async def test_fetch_values_reads_on_the_loop_like_fetch_all_and_a_long_query_on_the_worker(
    items_db: Database,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(hold_transaction(items_db, started, release))
    await started.wait()
    short = asyncio.create_task(items_db.fetch_values("SELECT id, name FROM items ORDER BY id"))
    long = asyncio.create_task(items_db.fetch_values(LONG_QUERY, {"top": VM_STEP_BUDGET * 5}))
    try:
        await asyncio.sleep(0.05)
        answered = (short.done(), long.done())
    finally:
        release.set()
        await writer
    # The short read saw only what was committed; the long one waited on the worker, and then
    # saw the new row too.
    assert answered == (True, False)
    assert await short == [(1, "one")]
    assert await long == [(VM_STEP_BUDGET * 5, 2)]


async def test_after_a_query_runs_past_the_budget_its_next_calls_skip_the_loop_for_a_while(
    items_db: Database,
) -> None:
    assert await answered_beside_an_open_transaction(items_db, LONG_QUERY, 10)
    assert not await answered_beside_an_open_transaction(items_db, LONG_QUERY, VM_STEP_BUDGET * 5)

    # The same SQL, now short: straight to the worker for the next calls (their loop attempt
    # would most likely be thrown away), while other SQL still reads on the loop.
    for _ in range(LONG_QUERY_SKIPS):
        assert not await answered_beside_an_open_transaction(items_db, LONG_QUERY, 10)
        assert await answered_beside_an_open_transaction(items_db, f"{LONG_QUERY} ", 10)
    # Then the loop tries it again.
    assert await answered_beside_an_open_transaction(items_db, LONG_QUERY, 10)


async def test_every_write_is_visible_to_the_next_read(items_db: Database) -> None:
    for i in range(3, 103):
        await items_db.execute("INSERT INTO items (id, name) VALUES (:id, 'n')", {"id": i})
        row = await items_db.fetch_one("SELECT max(id) AS top FROM items")
        assert row == {"top": i}
    await items_db.execute("UPDATE items SET name = 'renamed' WHERE id = 50")
    assert await items_db.fetch_one("SELECT name FROM items WHERE id = 50") == {"name": "renamed"}


async def test_a_temp_table_shadowing_a_main_table_is_read_from_the_worker(
    items_db: Database,
) -> None:
    await items_db.execute("CREATE TEMP TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    await items_db.execute("INSERT INTO items (id, name) VALUES (7, 'temp')")
    # Unqualified names resolve to the TEMP table first, as on the worker's own connection.
    assert await items_db.fetch_all("SELECT id, name FROM items") == [{"id": 7, "name": "temp"}]
    assert await items_db.fetch_all("SELECT id FROM main.items") == [{"id": 1}]


async def test_connection_local_functions_and_pragmas_answer_as_on_the_worker(
    items_db: Database,
) -> None:
    await items_db.execute("INSERT INTO items (id, name) VALUES (2, 'two'), (3, 'three')")
    await items_db.execute("UPDATE items SET name = upper(name)")
    assert await items_db.fetch_one("SELECT changes() AS n") == {"n": 3}
    assert await items_db.fetch_one("SELECT 'a' LIKE 'A' AS same") == {"same": 1}
    await items_db.execute("PRAGMA case_sensitive_like = ON")
    assert await items_db.fetch_one("SELECT 'a' LIKE 'A' AS same") == {"same": 0}


async def test_a_read_inside_the_tasks_own_transaction_is_still_refused(
    items_db: Database,
) -> None:
    async with items_db.transaction() as tx:
        await tx.execute("INSERT INTO items (id, name) VALUES (2, 'two')")
        with pytest.raises(UnsupportedOperationError, match="through the transaction object"):
            await items_db.fetch_one("SELECT id FROM items WHERE id = 2")
        assert await tx.fetch_one("SELECT id FROM items WHERE id = 2") == {"id": 2}


async def test_an_attached_database_is_read_from_the_worker(
    items_db: Database, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    await items_db.execute(f"ATTACH DATABASE '{other}' AS other")
    await items_db.execute("CREATE TABLE other.notes (body TEXT)")
    await items_db.execute("INSERT INTO other.notes VALUES ('hi')")
    assert await items_db.fetch_all("SELECT body FROM notes") == [{"body": "hi"}]


async def test_an_in_memory_database_reads_its_own_rows() -> None:
    async with agentsdb.connect(":memory:") as memory:
        await memory.execute("CREATE TABLE t (x INTEGER)")
        await memory.execute("INSERT INTO t VALUES (1)")
        assert await memory.fetch_all("SELECT x FROM t") == [{"x": 1}]


async def test_reads_after_close_raise_connection_closed(db_path: Path) -> None:
    database = await agentsdb.connect(str(db_path))
    await database.fetch_one("SELECT 1 AS one")
    await database.close()
    with pytest.raises(agentsdb.ConnectionClosedError):
        await database.fetch_one("SELECT 1 AS one")


@pytest.mark.parametrize(
    ("sql", "readable"),
    [
        ("SELECT id FROM items WHERE id = :id", True),
        ("  select 1", True),
        ("WITH x AS (SELECT 1) SELECT * FROM x", True),
        ("VALUES (1)", True),
        ("SELECT * FROM temp.items", False),
        ("SELECT name FROM sqlite_temp_master", False),
        ("SELECT changes()", False),
        ("SELECT total_changes()", False),
        ("SELECT last_insert_rowid()", False),
        ("SELECT * FROM pragma_table_info('items')", False),
        ("PRAGMA data_version", False),
        ("INSERT INTO items VALUES (1, 'x') RETURNING id", False),
        ("UPDATE items SET name = 'x' RETURNING id", False),
    ],
)
def test_loop_readable_accepts_only_queries_that_name_nothing_connection_local(
    sql: str, readable: bool
) -> None:
    assert loop_readable(sql) is readable


async def test_a_relative_path_keeps_reading_the_file_it_opened_after_a_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, elsewhere = tmp_path / "first", tmp_path / "elsewhere"
    first.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(first)
    async with agentsdb.connect("relative.db") as database:
        await database.execute("CREATE TABLE t (x INTEGER)")
        await database.execute("INSERT INTO t VALUES (1)")
        monkeypatch.chdir(elsewhere)
        assert await database.fetch_all("SELECT x FROM t") == [{"x": 1}]
    assert not (elsewhere / "relative.db").exists()


def run_noted(conn: sqlite3.Connection, sql: str) -> None:
    """Run ``sql`` on a worker-style connection as the SQLite backend does."""
    note_statement(conn, sql)
    conn.execute(sql)
    note_statement_done(conn, sql)


def test_local_state_is_forgotten_once_the_last_temp_object_or_attachment_is_gone(
    tmp_path: Path,
) -> None:
    conn = sqlite3.connect(tmp_path / "w.db", isolation_level=None, factory=WorkerConnection)
    try:
        run_noted(conn, "CREATE TEMP TABLE a (x)")
        run_noted(conn, "CREATE TEMP TABLE b (x)")
        run_noted(conn, "DROP TABLE temp.a")
        assert conn.has_local_state  # b is still there
        run_noted(conn, f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS other")
        run_noted(conn, "DROP TABLE temp.b")
        assert conn.has_local_state  # other is still attached
        run_noted(conn, "DETACH DATABASE other")
        assert not conn.has_local_state
        run_noted(conn, "CREATE TEMP TABLE c (x)")
        run_noted(conn, "BEGIN")
        run_noted(conn, "DROP TABLE temp.c")
        assert conn.has_local_state  # a rollback could bring c back
        run_noted(conn, "ROLLBACK")
        assert conn.has_local_state  # and it did
        run_noted(conn, "DROP TABLE temp.c")
        assert not conn.has_local_state
    finally:
        conn.close()


def test_a_connection_local_pragma_keeps_reads_on_the_worker_for_good(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "w.db", isolation_level=None, factory=WorkerConnection)
    try:
        run_noted(conn, "PRAGMA case_sensitive_like = ON")
        run_noted(conn, "CREATE TEMP TABLE a (x)")
        run_noted(conn, "DROP TABLE temp.a")
        assert conn.has_local_state
    finally:
        conn.close()
