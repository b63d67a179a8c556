"""Short write units on the event loop's thread (agentsdb.db.sqlite.loop_writes), on real files.

What shows which thread ran a write: the ``writer_thread()`` SQL function, registered on the
database's connection, returns the id of the thread that runs the statement. The plain path
(``loop_writes=False``) is the oracle: every program gives the same results, errors and rows.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agentsdb.db.base import Atomic, Begin, Commit, Execute, FetchAll, FetchOne, Program
from agentsdb.db.sqlite.database import SQLiteDatabase
from agentsdb.db.sqlite.worker import sqlite_connection
from agentsdb.errors import AgentsDBError, IntegrityError

SCHEMA = "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, thread INTEGER)"
INSERT = "INSERT INTO items (id, name, thread) VALUES (:id, :name, writer_thread())"
# Inserts far more rows than a unit on the loop's thread may take steps for.
BULK_INSERT = """INSERT INTO items (id, name, thread)
WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
SELECT i, 'bulk-' || i, writer_thread() FROM n"""


async def open_db(path: Path, **options: Any) -> SQLiteDatabase:
    db = await SQLiteDatabase.open(str(path), url=str(path), **options)
    # The connection is created on the worker thread; registering a function is safe while
    # nothing else uses it (no statement runs yet).
    sqlite_connection(db._connection).create_function("writer_thread", 0, threading.get_ident)
    return db


@pytest.fixture
async def items(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    db = await open_db(tmp_path / "items.db")
    try:
        await db.execute(SCHEMA)
        yield db
    finally:
        await db.close()


def insert_program(*rows: tuple[int, str]) -> Program[list[Any]]:
    results: list[Any] = yield Atomic(tuple(Execute(INSERT, {"id": i, "name": n}) for i, n in rows))
    return results


async def threads_of(db: SQLiteDatabase) -> dict[int, int]:
    rows = await db.fetch_all("SELECT id, thread FROM items ORDER BY id")
    return {row["id"]: row["thread"] for row in rows}


async def test_an_atomic_unit_on_an_idle_database_commits_on_the_loops_thread(
    items: SQLiteDatabase,
) -> None:
    results = await items.run(insert_program((1, "one"), (2, "two")))
    assert [result.rows_affected for result in results] == [1, 1]
    assert await threads_of(items) == {1: threading.get_ident(), 2: threading.get_ident()}


async def test_a_lone_insert_commits_on_the_loops_thread_and_reports_its_rowid(
    items: SQLiteDatabase,
) -> None:
    result = await items.execute(INSERT, {"id": 7, "name": "seven"})
    assert (result.rows_affected, result.last_insert_id) == (1, 7)
    assert await threads_of(items) == {7: threading.get_ident()}


async def test_a_unit_over_the_step_budget_is_rolled_back_and_run_by_the_worker(
    items: SQLiteDatabase,
) -> None:
    result = await items.execute(BULK_INSERT)
    assert result.rows_affected == 59_001
    threads = set((await threads_of(items)).values())
    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_writes_stay_on_the_worker_at_full_durability(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "full.db", synchronous="FULL")
    try:
        await db.execute(SCHEMA)
        await db.run(insert_program((1, "one")))
        assert threading.get_ident() not in (await threads_of(db)).values()
    finally:
        await db.close()


async def test_a_write_lock_held_elsewhere_hands_the_unit_to_the_worker_without_blocking_the_loop(
    items: SQLiteDatabase, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "items.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.create_task(items.execute(INSERT, {"id": 1, "name": "one"}))
        longest_gap = 0.0
        last = time.monotonic()
        for _ in range(20):
            await asyncio.sleep(0.01)
            longest_gap = max(longest_gap, time.monotonic() - last)
            last = time.monotonic()
        # The loop kept running while the write waited (on the worker, up to the connection's
        # 5 s busy timeout) for the lock.
        assert longest_gap < 1.0
        assert not write.done()
        other.execute("COMMIT")
        await asyncio.wait_for(write, 10)
    finally:
        other.close()
    assert threading.get_ident() not in (await threads_of(items)).values()


async def test_a_write_waits_for_another_tasks_open_transaction_and_stays_out_of_it(
    items: SQLiteDatabase,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def roll_back() -> None:
        async with items.transaction() as tx:
            await tx.execute(INSERT, {"id": 1, "name": "rolled back"})
            started.set()
            await release.wait()
            raise RuntimeError("undo")

    holder = asyncio.create_task(roll_back())
    await started.wait()
    write = asyncio.create_task(items.execute(INSERT, {"id": 2, "name": "kept"}))
    await asyncio.sleep(0.05)
    assert not write.done()
    release.set()
    with pytest.raises(RuntimeError, match="undo"):
        await holder
    await write
    # The other task's rollback did not take this write with it.
    assert sorted(await threads_of(items)) == [2]


async def test_a_write_waits_for_a_call_running_on_the_worker(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "busy.db", loop_reads=False)
    try:
        await db.execute(SCHEMA)
        long_read = asyncio.create_task(
            db.fetch_one(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
                " SELECT count(*) AS total FROM n"
            )
        )
        await asyncio.sleep(0)  # the read is on the worker now
        await db.execute(INSERT, {"id": 1, "name": "one"})
        assert long_read.done()
        assert await long_read == {"total": 3_000_000}
        # It ran on the worker, after the read, not on the loop's thread beside it.
        assert threading.get_ident() not in (await threads_of(db)).values()
    finally:
        await db.close()


async def test_the_worker_gets_the_connections_own_busy_timeout_and_checkpoints_back(
    items: SQLiteDatabase,
) -> None:
    before = (
        await items.fetch_one("PRAGMA busy_timeout"),
        await items.fetch_one("PRAGMA wal_autocheckpoint"),
    )
    await items.execute(INSERT, {"id": 1, "name": "one"})
    after = (
        await items.fetch_one("PRAGMA busy_timeout"),
        await items.fetch_one("PRAGMA wal_autocheckpoint"),
    )
    assert before == after == ({"timeout": 5000}, {"wal_autocheckpoint": 1000})


async def test_a_program_goes_on_on_the_worker_from_its_first_begin(
    items: SQLiteDatabase,
) -> None:
    def program() -> Program[tuple[Any, Any]]:
        first = yield Atomic((Execute(INSERT, {"id": 1, "name": "loop"}),))
        yield Begin()
        yield Execute(INSERT, {"id": 2, "name": "worker"})
        count = yield FetchOne("SELECT count(*) AS n FROM items", None)
        yield Commit()
        return first[0].rows_affected, count

    assert await items.run(program()) == (1, {"n": 2})
    threads = await threads_of(items)
    assert threads[1] == threading.get_ident()
    assert threads[2] != threading.get_ident()


async def test_a_connection_with_a_temp_table_keeps_its_writes_on_the_worker(
    items: SQLiteDatabase,
) -> None:
    await items.execute("CREATE TEMP TABLE scratch (x INTEGER)")
    await items.execute(INSERT, {"id": 1, "name": "one"})
    assert threading.get_ident() not in (await threads_of(items)).values()


async def test_an_error_in_the_programs_own_code_leaves_no_transaction_open(
    items: SQLiteDatabase,
) -> None:
    def program() -> Program[None]:
        yield Atomic((Execute(INSERT, {"id": 1, "name": "one"}),))
        raise LookupError("the program's own bug")

    with pytest.raises(LookupError):
        await items.run(program())
    assert not sqlite_connection(items._connection).in_transaction
    # The unit before the error committed; the next write works.
    await items.execute(INSERT, {"id": 2, "name": "two"})
    assert sorted(await threads_of(items)) == [1, 2]


# --- the plain path as oracle ---------------------------------------------------------------------


def recovering_program() -> Program[list[Any]]:
    """Units that succeed and fail; the program catches the failure and goes on."""
    seen: list[Any] = []
    first = yield Atomic((Execute(INSERT, {"id": 1, "name": "one"}),))
    seen.append(first[0].rows_affected)
    try:
        yield Atomic(
            (
                Execute(INSERT, {"id": 2, "name": "two"}),
                Execute(INSERT, {"id": 3, "name": "one"}),  # a duplicate name
            )
        )
    except IntegrityError as error:
        seen.append((type(error).__name__, str(error), error.constraint))
    rows = yield Atomic((FetchAll("SELECT id, name FROM items ORDER BY id", None),))
    seen.append(rows[0])
    return seen


async def outcome(db: SQLiteDatabase, program: Program[Any]) -> tuple[str, Any]:
    try:
        return "ok", await db.run(program)
    except AgentsDBError as error:
        return type(error).__name__, str(error)


def bad_unit() -> Program[Any]:
    result = yield Atomic((Execute("INSERT INTO no_such_table VALUES (1)", None),))
    return result


def bad_parameter() -> Program[Any]:
    result = yield Atomic((Execute(INSERT, {"id": 1}),))
    return result


@pytest.mark.parametrize("make", [recovering_program, bad_unit, bad_parameter])
async def test_the_loops_writes_give_what_the_worker_gives(tmp_path: Path, make: Any) -> None:
    outcomes = []
    for name, loop_writes in (("loop.db", True), ("plain.db", False)):
        db = await open_db(tmp_path / name, loop_writes=loop_writes)
        try:
            await db.execute(SCHEMA)
            outcomes.append(
                (
                    await outcome(db, make()),
                    await db.fetch_all("SELECT id, name FROM items ORDER BY id"),
                )
            )
        finally:
            await db.close()
    assert outcomes[0] == outcomes[1]
