"""The CommitOrder program step on every backend: refused outside a transaction, a plain step
(its result None) inside an Atomic. What it guarantees under concurrent writers is proved on
PostgreSQL in test_commit_order_postgres.py; SQLite and libSQL have one writer at a time.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentsdb.db.base import (
    Atomic,
    Begin,
    Commit,
    CommitOrder,
    Database,
    Execute,
    FetchOne,
    Program,
)
from agentsdb.errors import UnsupportedOperationError


async def test_commit_order_outside_a_transaction_is_refused(any_db: Database) -> None:
    def program() -> Program[None]:
        yield CommitOrder("channel")

    with pytest.raises(UnsupportedOperationError, match="outside a transaction"):
        await any_db.run(program())


async def test_commit_order_inside_an_atomic_returns_none_and_the_unit_commits(
    any_db: Database,
) -> None:
    await any_db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")

    def program() -> Program[list[Any]]:
        results: list[Any] = yield Atomic(
            (CommitOrder("c"), Execute("INSERT INTO t VALUES (1)"), FetchOne("SELECT 1 AS one"))
        )
        return results

    results = await any_db.run(program())
    assert results[0] is None
    assert results[2] == {"one": 1}
    assert await any_db.fetch_all("SELECT id FROM t") == [{"id": 1}]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "libsql-ws"], indirect=True)
async def test_commit_order_after_begin_holds_until_commit(any_db: Database) -> None:
    await any_db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")

    def program() -> Program[None]:
        yield Begin()
        assert (yield CommitOrder("c")) is None
        yield Execute("INSERT INTO t VALUES (2)")
        yield Commit()

    await any_db.run(program())
    assert await any_db.fetch_all("SELECT id FROM t") == [{"id": 2}]
