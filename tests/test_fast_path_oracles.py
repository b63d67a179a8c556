"""Each fast path answers as the plain path it replaces (see benchmarks/bench_fast_paths.py for
what each is worth).

* SQLite reads on the event loop's thread against the same reads on the worker thread only
  (``loop_reads=False``).
* agentsdb's PostgreSQL pool against asyncpg's own ``Pool`` (tests/asyncpg_pool.py): a
  connection handed out again answers as a fresh one, whatever the statements before it did to
  its session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from asyncpg_pool import AsyncpgPool

from agentsdb.db.postgres.database import PostgresDatabase
from agentsdb.db.sqlite.database import SQLiteDatabase
from agentsdb.errors import AgentsDBError

ROWS = [
    {"id": 1, "name": "one", "body": b"\x00\x01", "score": 1.5},
    {"id": 2, "name": "twö", "body": None, "score": None},
    {"id": 3, "name": "", "body": b"", "score": -0.0},
    {"id": 4, "name": "four", "body": b"\xff" * 100, "score": 1e308},
]
QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    ("SELECT * FROM items WHERE id = :id", {"id": 2}),
    ("SELECT * FROM items WHERE id = :id", {"id": 99}),
    ("SELECT * FROM items ORDER BY id", None),
    ("SELECT count(*) AS n, sum(length(body)) AS size, max(score) AS top FROM items", None),
    ("SELECT name FROM items WHERE body IS NULL OR score < 0 ORDER BY name", None),
    (
        "WITH t AS (SELECT id FROM items WHERE id > :after) SELECT max(id) AS last FROM t",
        {"after": 1},
    ),
    (
        "SELECT :blob AS b, :text AS t, :real AS r, :none AS z",
        {
            "blob": b"\x00x",
            "text": "é\U0001f600",
            "real": 2.25,
            "none": None,
        },
    ),
    ("VALUES (1, 'a'), (2, 'b')", None),
]
BAD_QUERIES = [
    "SELECT * FROM no_such_table",
    "SELECT no_such_column FROM items",
    "SELECT * FROM items WHERE id = :id",  # a parameter missing
]


async def outcome(read: Any) -> tuple[str, Any]:
    try:
        return "rows", await read
    except AgentsDBError as error:
        return type(error).__name__, str(error)


@pytest.fixture
async def sqlite_pair(tmp_path: Path) -> AsyncIterator[tuple[SQLiteDatabase, SQLiteDatabase]]:
    path = str(tmp_path / "oracle.db")
    loop = await SQLiteDatabase.open(path, url=path)
    plain = await SQLiteDatabase.open(path, url=path, loop_reads=False)
    try:
        await loop.execute(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, body BLOB, score REAL)"
        )
        await loop.execute_many("INSERT INTO items VALUES (:id, :name, :body, :score)", ROWS)
        yield loop, plain
    finally:
        await loop.close()
        await plain.close()


async def test_reads_on_the_loop_thread_return_what_the_worker_thread_returns(
    sqlite_pair: tuple[SQLiteDatabase, SQLiteDatabase],
) -> None:
    loop, plain = sqlite_pair
    for sql, params in QUERIES:
        assert await loop.fetch_all(sql, params) == await plain.fetch_all(sql, params), sql
        assert await loop.fetch_one(sql, params) == await plain.fetch_one(sql, params), sql
    for sql in BAD_QUERIES:
        fast = await outcome(loop.fetch_all(sql))
        slow = await outcome(plain.fetch_all(sql))
        assert fast == slow
        assert fast[0] != "rows"


async def test_the_loop_database_did_read_on_the_loop_thread_and_the_plain_one_did_not(
    sqlite_pair: tuple[SQLiteDatabase, SQLiteDatabase],
) -> None:
    # A read on the loop's thread does not wait for another task's open transaction on the
    # same database object; a read on the worker waits its turn behind it.
    for db, waits in ((sqlite_pair[0], False), (sqlite_pair[1], True)):
        started, release = asyncio.Event(), asyncio.Event()

        async def hold(
            db: SQLiteDatabase = db,
            started: asyncio.Event = started,
            release: asyncio.Event = release,
        ) -> None:
            async with db.transaction() as tx:
                await tx.execute("UPDATE items SET name = 'held' WHERE id = 1")
                started.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await started.wait()
        read = asyncio.ensure_future(db.fetch_one("SELECT name FROM items WHERE id = 1"))
        done, _ = await asyncio.wait({read}, timeout=0.5)
        assert (read not in done) is waits
        release.set()
        await holder
        assert await read == {"name": "one" if not waits else "held"}
        await db.execute("UPDATE items SET name = 'one' WHERE id = 1")


SESSION_STEPS: list[tuple[str, str]] = [
    ("fetch", "SHOW statement_timeout"),
    ("execute", "SET statement_timeout = 1234"),
    ("fetch", "SHOW statement_timeout"),
    ("fetch", "SELECT set_config('search_path', 'nowhere', false) AS path"),
    ("fetch", "SHOW search_path"),
    ("fetch", "SELECT pg_advisory_lock(4242) IS NULL AS locked"),
    (
        "fetch",
        "SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    ),
    ("execute", "PREPARE agentsdb_oracle AS SELECT 1"),
    (
        "fetch",
        "SELECT count(*) AS prepared FROM pg_prepared_statements WHERE name = 'agentsdb_oracle'",
    ),
    ("fetch", """SELECT '{"a": [1, 2]}'::jsonb AS doc, 'x'::text AS t"""),
]


async def session_answers(db: PostgresDatabase) -> list[Any]:
    answers: list[Any] = []
    for kind, sql in SESSION_STEPS:
        if kind == "execute":
            answers.append((await db.execute(sql)).rows_affected)
        else:
            answers.append(await db.fetch_one(sql))
    async with db.transaction() as tx:
        await tx.execute("SET LOCAL statement_timeout = 777")
        answers.append(await tx.fetch_one("SHOW statement_timeout"))
    answers.append(await db.fetch_one("SHOW statement_timeout"))
    return answers


async def test_a_reused_pool_connection_answers_as_asyncpgs_pool_after_session_changes(
    postgres_url: str, asyncpg_driver: ModuleType
) -> None:
    # One connection each, so every statement meets the connection the one before it used.
    ours = await PostgresDatabase.open(postgres_url, url=postgres_url, options={"max_size": 1})
    try:
        fast = await session_answers(ours)
    finally:
        await ours.close()
    plain_pool = await AsyncpgPool.create(asyncpg_driver, postgres_url, max_size=1)
    plain = PostgresDatabase(plain_pool, postgres_url)  # type: ignore[arg-type]  # same interface
    try:
        slow = await session_answers(plain)
    finally:
        await plain.close()
    assert fast == slow
    # What the oracle says a fresh connection answers.
    assert fast[2] == {"statement_timeout": "0"}
    assert fast[6] == {"held": 0}
    assert fast[9] == {"doc": {"a": [1, 2]}, "t": "x"}
