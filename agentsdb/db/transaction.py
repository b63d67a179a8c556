"""The transaction object every backend hands out, with savepoints for nested transactions.

A backend begins the transaction its own way (SQLite's ``BEGIN IMMEDIATE`` under its lock, a
pooled PostgreSQL connection, a libSQL stream) and then passes a :class:`TransactionConnection`
to :func:`transaction_scope`, which yields a :class:`SavepointTransaction`, commits when the
block ends and rolls back when it raises. The rules are the same on every backend:

* statements of one transaction run one at a time, so tasks sharing it never interleave on its
  connection;
* ``tx.transaction()`` opens a savepoint; when its block raises, the savepoint's changes are
  undone alone and the enclosing transaction stays open;
* a transaction or savepoint whose block has ended refuses further statements;
* when undoing fails too, the error that ended the block is raised, with a note naming the
  failed undo (never the other way round).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Protocol

from agentsdb.db.base import ExecuteResult, Params, Row, Transaction
from agentsdb.errors import AgentsDBError, UnsupportedOperationError


class TransactionConnection(Protocol):
    """What a backend supplies for one open transaction; every method raises agentsdb errors."""

    async def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        """Run one statement inside the transaction."""
        ...

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping inside the transaction."""
        ...

    async def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        """The query's first row, or None."""
        ...

    async def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        """Every row of the query."""
        ...

    async def savepoint(self, name: str) -> None:
        """``SAVEPOINT name``."""
        ...

    async def release(self, name: str) -> None:
        """``RELEASE name``: keep the savepoint's changes."""
        ...

    async def rollback_to(self, name: str) -> None:
        """``ROLLBACK TO name`` and ``RELEASE name``: undo the savepoint's changes."""
        ...

    async def commit(self) -> None:
        """Commit the transaction."""
        ...

    async def rollback(self, ended_by: BaseException | None) -> None:
        """Roll back whatever is still open; ``ended_by`` is the error that ended the block."""
        ...


async def undo_after(error: BaseException, what: str, undo: Callable[[], Awaitable[None]]) -> None:
    """Run ``undo`` after ``error``; if it fails too, note that on ``error`` (raised next)."""
    try:
        await undo()
    except AgentsDBError as undo_error:
        error.add_note(f"agentsdb: {what} after this error also failed: {undo_error}")


class SavepointTransaction:
    """An open transaction; nested ``transaction()`` calls are savepoints."""

    def __init__(
        self, connection: TransactionConnection, lock: asyncio.Lock, depth: int = 0
    ) -> None:
        self._connection = connection
        self._lock = lock
        self._depth = depth
        #: True once the block that opened this transaction or savepoint has ended.
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise UnsupportedOperationError("this transaction has already ended")

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement inside the transaction."""
        self._check_open()
        async with self._lock:
            return await self._connection.execute(sql, params)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping inside the transaction."""
        self._check_open()
        async with self._lock:
            return await self._connection.execute_many(sql, params)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        self._check_open()
        async with self._lock:
            return await self._connection.fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        self._check_open()
        async with self._lock:
            return await self._connection.fetch_all(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A savepoint: its changes are undone alone when its block raises."""
        self._check_open()
        name = f"agentsdb_sp_{self._depth + 1}"
        connection = self._connection
        async with self._lock:
            await connection.savepoint(name)
        inner = SavepointTransaction(connection, self._lock, self._depth + 1)
        try:
            yield inner
        except BaseException as error:
            async with self._lock:
                undo = partial(connection.rollback_to, name)
                await undo_after(error, f"ROLLBACK TO {name}", undo)
            raise
        else:
            async with self._lock:
                await connection.release(name)
        finally:
            inner.closed = True


@asynccontextmanager
async def transaction_scope(connection: TransactionConnection) -> AsyncIterator[Transaction]:
    """The transaction begun on ``connection``: committed when the block ends, rolled back when
    it raises or when COMMIT itself fails (a deferred constraint can leave it open)."""
    tx = SavepointTransaction(connection, asyncio.Lock())
    try:
        yield tx
    except BaseException as error:
        await undo_after(error, "ROLLBACK", partial(connection.rollback, error))
        raise
    else:
        try:
            await connection.commit()
        except BaseException as error:
            await undo_after(error, "ROLLBACK", partial(connection.rollback, error))
            raise
    finally:
        tx.closed = True


__all__ = ["SavepointTransaction", "TransactionConnection", "transaction_scope", "undo_after"]
