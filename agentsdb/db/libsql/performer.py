"""A program on a LibsqlDatabase (see :mod:`agentsdb.db.program`), and its transactions'
statements (see :mod:`agentsdb.db.transaction`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from agentsdb.db.base import Atomic, ExecuteResult, Operation, Params, Row, Step
from agentsdb.db.libsql import lease as libsql_lease
from agentsdb.db.libsql.client import Remote
from agentsdb.db.libsql.driver import (
    DriverRunner,
    DriverTransaction,
    driver_args,
    execute_result,
    rows_of,
    sum_results,
)
from agentsdb.db.program import dispatch
from agentsdb.errors import AgentsDBError, DatabaseError

log = logging.getLogger("agentsdb.db.libsql")

#: Takes the lease of a name for a transaction, waiting up to the given seconds (None: default).
LeaseTaker = Callable[[str, float | None], Awaitable[libsql_lease.Lease]]


class LibsqlPerformer:
    """Runs a program's operations: outside a transaction on the client (a small Atomic as one
    batch), inside one on its stream; ``Begin(lock_name=...)`` takes a lease row first."""

    def __init__(self, remote: Remote, take_lease: LeaseTaker) -> None:
        self._remote = remote
        self._take_lease = take_lease
        self._tx: DriverTransaction | None = None
        self._lease: libsql_lease.Lease | None = None

    @property
    def in_transaction(self) -> bool:
        return self._tx is not None

    def native_atomic(self, atomic: Atomic) -> bool:
        return self._remote.batches(atomic)

    async def perform(self, op: Operation) -> Any:
        return await dispatch(self, op)

    def _runner(self) -> DriverRunner:
        return self._tx if self._tx is not None else self._remote.client

    async def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        return execute_result(await self._remote.execute_on(self._runner(), sql, params))

    async def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        return rows_of(await self._remote.execute_on(self._runner(), sql, params))

    async def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        rows = rows_of(await self._remote.execute_on(self._runner(), sql, params))
        return rows[0] if rows else None

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        if self._tx is not None:
            return await self._remote.pipeline_many(self._tx, sql, params)
        statements = [(sql, driver_args(sql, p)) for p in params]
        return sum_results(await self._remote.batch(statements, sql))

    async def order_commits(self, channel: str) -> None:
        # A libSQL server runs one write transaction at a time (SQLite underneath), so rows
        # already commit in the order they were inserted.
        return None

    async def atomic(self, steps: tuple[Step, ...]) -> list[Any]:
        # Only outside a transaction (the driver expands the others): one batch.
        return await self._remote.atomic_batch(steps)

    async def begin(self, lock_timeout: float | None, lock_name: str | None) -> None:
        remote = self._remote
        remote.require_interactive("a program that yields Begin")
        if self._tx is not None:
            raise DatabaseError("cannot start a transaction within a transaction", sql="BEGIN")
        if lock_name is not None:
            self._lease = await self._take_lease(lock_name, lock_timeout)
        try:
            self._tx = await remote.begin()
            if self._lease is not None:
                # The first statement, a write: it also takes the write lock at once.
                await remote.check_lease(self._tx, self._lease)
        except BaseException:
            await self.abort()
            raise

    async def commit(self) -> None:
        if self._tx is None:
            raise DatabaseError("cannot commit - no transaction is active", sql="COMMIT")
        if self._lease is not None:
            try:
                await self._remote.check_lease(self._tx, self._lease)
            except BaseException:
                await self.abort()
                raise
        committing, self._tx = self._tx, None
        try:
            await self._remote.finish(committing, commit=True)
        finally:
            await self._release()

    async def rollback(self) -> None:
        tx, self._tx = self._tx, None
        try:
            if tx is not None:
                await self._remote.finish(tx, commit=False)
        finally:
            await self._release()

    async def abort(self) -> None:
        tx, self._tx = self._tx, None
        try:
            if tx is not None:
                await self._remote.finish(tx, commit=False)
        except AgentsDBError as error:
            # The client closes the stream even when ROLLBACK fails, and the server rolls back
            # a transaction whose stream closes; the program's own error is the one to report.
            log.debug("rollback after a failed program: %s", error)
        finally:
            await self._release()

    async def _release(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            await self._remote.release_lease(lease)


class TransactionStatements:
    """An interactive transaction's statements, on its stream."""

    __slots__ = ("_ended", "_remote", "_tx")

    def __init__(self, remote: Remote, tx: DriverTransaction) -> None:
        self._remote = remote
        self._tx = tx
        self._ended = False

    async def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        return execute_result(await self._remote.execute_on(self._tx, sql, params))

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        # A failure undoes all of this call's rows and nothing else (a savepoint).
        return await self._remote.pipeline_many(self._tx, sql, params)

    async def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        rows = rows_of(await self._remote.execute_on(self._tx, sql, params))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        return rows_of(await self._remote.execute_on(self._tx, sql, params))

    async def savepoint(self, name: str) -> None:
        await self._remote.execute_on(self._tx, f"SAVEPOINT {name}", None)

    async def release(self, name: str) -> None:
        await self._remote.execute_on(self._tx, f"RELEASE {name}", None)

    async def rollback_to(self, name: str) -> None:
        await self._remote.rollback_to(self._tx, name)

    async def commit(self) -> None:
        # The client ends the stream whether COMMIT succeeds or not: nothing is left to roll back.
        self._ended = True
        await self._remote.finish(self._tx, commit=True)

    async def rollback(self, ended_by: BaseException | None) -> None:
        if not self._ended:
            self._ended = True
            await self._remote.finish(self._tx, commit=False, ended_by=ended_by)


__all__ = ["LibsqlPerformer", "TransactionStatements"]
