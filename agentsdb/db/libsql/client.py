"""Calls to libsql-client for one LibsqlDatabase: errors translated, batches, leases.

:class:`Remote` is what the database, its transactions and its program performer share: the
client, the URL kind (ws or http) and the credentials masked in messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from agentsdb.db.base import (
    Atomic,
    CommitOrder,
    Execute,
    ExecuteMany,
    ExecuteResult,
    FetchAll,
    FetchOne,
    Params,
    Row,
    Step,
)
from agentsdb.db.libsql import lease as libsql_lease
from agentsdb.db.libsql.driver import (
    Driver,
    DriverArgs,
    DriverClient,
    DriverResultSet,
    DriverRunner,
    DriverTransaction,
    Transport,
    driver_args,
    execute_result,
    rows_of,
    sum_results,
    timed_out,
)
from agentsdb.db.libsql.errors import translate_connection_error, translate_libsql_error
from agentsdb.db.transaction import undo_after
from agentsdb.errors import (
    AgentsDBError,
    ConnectionClosedError,
    DatabaseError,
    UnsupportedOperationError,
)

log = logging.getLogger("agentsdb.db.libsql")

T = TypeVar("T")

_MANY_SAVEPOINT = "agentsdb_execute_many"
#: The most statements an Atomic sends over a WebSocket as one batch (see Remote.batches).
_WS_BATCH_STATEMENTS = 256


class Remote:
    """The client of one LibsqlDatabase; every call translates the driver's errors."""

    def __init__(
        self,
        client: DriverClient,
        driver: Driver,
        url: str,
        transport: Transport,
        secrets: tuple[str, ...],
    ) -> None:
        self.client = client
        self.driver = driver
        self.url = url
        self.transport: Transport = transport
        #: Credentials of the URL and the auth token, masked in every message.
        self.secrets = secrets
        self.closed = False
        self._lease_tables = False

    async def call(self, call: Callable[[], Awaitable[T]], sql: str | None) -> T:
        """Await a driver call, translating its errors into agentsdb errors."""
        if self.closed:
            raise ConnectionClosedError(f"the database {self.url!r} is closed", sql=sql)
        try:
            return await call()
        except self.driver.libsql_error as error:
            code = str(getattr(error, "code", "UNKNOWN"))
            message = str(getattr(error, "explanation", error))
            raise translate_libsql_error(code, message, sql) from error
        except self.driver.connection_errors as error:
            raise translate_connection_error(error, self.url, sql, self.secrets) from error

    async def execute_on(
        self, runner: DriverRunner, sql: str, params: Params | None
    ) -> DriverResultSet:
        args = driver_args(sql, params)
        return await self.call(lambda: runner.execute(sql, args), sql)

    async def batch(
        self, statements: list[tuple[str, DriverArgs]], sql: str | None = None
    ) -> list[DriverResultSet]:
        """Run statements as one atomic batch; ``sql`` names them in errors when they share it."""
        if not statements:
            return []
        if sql is None and len(statements) == 1:
            sql = statements[0][0]
        return await self.call(lambda: self.client.batch(statements), sql)

    def batches(self, atomic: Atomic) -> bool:
        """Whether an Atomic outside a transaction runs as one batch (one round trip).

        Always over HTTP, the only atomic unit there. Over a WebSocket only while it is small: a
        batch is one message, and a server refuses a message over its size limit (the close code
        1009), while a transaction sends each statement as a message of its own.
        """
        if self.transport == "http":
            return True
        statements = sum(
            len(step.params) if isinstance(step, ExecuteMany) else 1 for step in atomic.steps
        )
        return statements <= _WS_BATCH_STATEMENTS

    async def atomic_batch(self, steps: Sequence[Step]) -> list[Any]:
        """Run an Atomic's steps as one batch; each step's result, as a program receives it."""
        statements: list[tuple[str, DriverArgs]] = []
        counts: list[int] = []
        for step in steps:
            if isinstance(step, CommitOrder):
                counts.append(0)  # nothing to send: see the CommitOrder case of _Performer
            elif isinstance(step, ExecuteMany):
                statements.extend((step.sql, driver_args(step.sql, p)) for p in step.params)
                counts.append(len(step.params))
            else:
                statements.append((step.sql, driver_args(step.sql, step.params)))
                counts.append(1)
        shared = {sql for sql, _ in statements}
        results = await self.batch(statements, shared.pop() if len(shared) == 1 else None)
        received: list[Any] = []
        start = 0
        for step, count in zip(steps, counts, strict=True):
            mine = results[start : start + count]
            start += count
            match step:
                case ExecuteMany():
                    received.append(sum_results(mine))
                case Execute():
                    received.append(execute_result(mine[0]))
                case FetchAll():
                    received.append(rows_of(mine[0]))
                case FetchOne():
                    rows = rows_of(mine[0])
                    received.append(rows[0] if rows else None)
                case CommitOrder():
                    received.append(None)
        return received

    async def pipeline_many(
        self, tx: DriverTransaction, sql: str, params: Sequence[Params]
    ) -> ExecuteResult:
        """Inside a transaction: send every row without waiting for the one before, under a
        savepoint so that a failing row undoes the rows of this call and nothing else."""
        all_args = [driver_args(sql, p) for p in params]
        if not all_args:
            return ExecuteResult(0)
        await self.execute_on(tx, f"SAVEPOINT {_MANY_SAVEPOINT}", None)
        try:
            # The client sends a transaction's statements in the order they are started and the
            # server runs one stream's requests in order, so this keeps the rows' order.
            results = await self.call(
                lambda: asyncio.gather(*(tx.execute(sql, args) for args in all_args)), sql
            )
        except BaseException as error:
            undo = partial(self.rollback_to, tx, _MANY_SAVEPOINT)
            await undo_after(error, f"ROLLBACK TO {_MANY_SAVEPOINT}", undo)
            raise
        await self.execute_on(tx, f"RELEASE {_MANY_SAVEPOINT}", None)
        return sum_results(results)

    async def rollback_to(self, tx: DriverTransaction, name: str) -> None:
        """``ROLLBACK TO name`` and ``RELEASE name`` inside ``tx``."""
        await self.execute_on(tx, f"ROLLBACK TO {name}", None)
        await self.execute_on(tx, f"RELEASE {name}", None)

    async def fetch_autocommit(self, sql: str, params: Params | None) -> list[Row]:
        """One statement on its own (a fresh stream over ws); the caller holds ``_exclusive``."""
        return rows_of(await self.execute_on(self.client, sql, params))

    async def _ensure_lease_tables(self) -> None:
        if not self._lease_tables:
            await self.batch([(sql, None) for sql in libsql_lease.CREATE])
            self._lease_tables = True

    async def take_lease(self, name: str, wait: float | None, seconds: float) -> libsql_lease.Lease:
        """Take the lease ``name`` (see agentsdb.db.libsql.lease); the caller holds ``_exclusive``.

        ``wait=None`` waits up to one lease length: the longest a dead holder can block.
        """
        await self._ensure_lease_tables()
        patience = seconds if wait is None else wait
        return await libsql_lease.acquire(
            self.fetch_autocommit, name, seconds=seconds, wait=patience
        )

    async def release_lease(self, lease: libsql_lease.Lease) -> None:
        """Release a lease; on failure it simply expires."""
        sql, params = lease.release()
        try:
            await self.execute_on(self.client, sql, params)
        except AgentsDBError as error:
            log.warning(
                "could not release the lease %r; it expires on its own: %s", lease.name, error
            )

    async def check_lease(self, tx: DriverTransaction, lease: libsql_lease.Lease) -> None:
        """Inside ``tx``: fail unless ``lease`` is still ours and unexpired."""
        sql, params = lease.guard()
        try:
            await self.execute_on(tx, sql, params)
        except AgentsDBError as error:
            lost = libsql_lease.lost(error, lease)
            if lost is None:
                raise
            raise lost from error

    async def begin(self) -> DriverTransaction:
        async def begin() -> DriverTransaction:
            # A plain call: the client queues BEGIN on a new stream and returns at once; a
            # failed BEGIN shows in the transaction's next statement.
            return self.client.transaction()

        return await self.call(begin, "BEGIN")

    async def finish(
        self, tx: DriverTransaction, *, commit: bool, ended_by: BaseException | None = None
    ) -> None:
        """COMMIT or ROLLBACK; ``ended_by`` is the error that made the caller roll back."""
        if commit:
            await self.call(tx.commit, "COMMIT")
            return
        try:
            await self.call(tx.rollback, "ROLLBACK")
        except DatabaseError as error:
            # The server already rolled it back (see libsql_errors.TRANSACTION_TIMEOUT), and
            # said so to this ROLLBACK or to the request before it: what ROLLBACK asked for is
            # done, and the error that ended the block is the one to report.
            gone = timed_out(error) or (
                timed_out(ended_by) and "no transaction is active" in str(error)
            )
            if not gone:
                raise
            log.debug("ROLLBACK of a transaction the server had already rolled back: %s", error)

    def require_interactive(self, what: str) -> None:
        if self.transport != "ws":
            raise UnsupportedOperationError(
                f"{what} needs an interactive transaction, which libSQL offers only over a "
                f"WebSocket; {self.url!r} uses HTTP. Connect with a ws://, wss:// or libsql:// "
                "URL, or run the statements atomically with execute_batch()"
            )


__all__ = ["Remote"]
