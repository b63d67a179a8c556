"""Statements on one leased PostgreSQL connection: placeholders bound, errors translated.

:class:`Session` is both the backend's primitive program operations
(:class:`~agentsdb.db.program.Operations`) and an open transaction's statements
(:class:`~agentsdb.db.transaction.TransactionConnection`). Transactions are ``BEGIN`` /
``COMMIT`` / ``ROLLBACK`` statements rather than asyncpg's ``Transaction`` object so that
COMMIT's reply can be checked (see the package documentation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from agentsdb.db.base import ExecuteResult, Params, Row
from agentsdb.db.placeholders import translate as translate_sql
from agentsdb.db.postgres.errors import (
    failed_before_sending,
    is_connection_lost,
    is_driver_error,
    leaves_connection_unusable,
    translate,
    translate_lost,
)
from agentsdb.db.postgres.options import lock_timeout_ms
from agentsdb.db.postgres.pool import DriverRecord, Lease
from agentsdb.db.program import ExpandedAtomics
from agentsdb.errors import (
    AgentsDBError,
    ConfigurationError,
    ConnectionLostError,
    DatabaseBusyError,
    DatabaseError,
    UnsupportedOperationError,
)

T = TypeVar("T")

_COUNTED_COMMANDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
_ABORTED_COMMIT = (
    "the transaction was rolled back, not committed: a statement in it had failed, and "
    "PostgreSQL ignores the rest of a transaction after an error. Nothing of it was kept. To "
    "carry on after an expected error, run the statement in a nested transaction (a "
    "savepoint): async with tx.transaction() as inner: ..."
)


def _rows_affected(status: str) -> int:
    # "INSERT 0 5", "UPDATE 3", "DELETE 0", "MERGE 2"; other commands report no row count.
    command, _, rest = status.partition(" ")
    if command not in _COUNTED_COMMANDS:
        return 0
    count = rest.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0


def _returning_result(records: Sequence[DriverRecord]) -> ExecuteResult:
    last_id: int | None = None
    if records:
        first_column = next(iter(records[-1].items()), None)
        value = first_column[1] if first_column is not None else None
        if isinstance(value, int) and not isinstance(value, bool):
            last_id = value
    return ExecuteResult(len(records), last_id)


_TRY_NAMED_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext(:name)) AS locked"
# A transaction that takes a named lock (the migration lock) has the server check every second
# that its client is still there. Otherwise PostgreSQL notices a vanished client only when it
# next reads from the socket, so a migrator killed during a long statement would keep the lock
# until that statement ended. PostgreSQL 14+ (older servers skip it, as does a connection whose
# server_settings give the setting a value of their own).
_CLIENT_CHECK = (
    "SELECT set_config('client_connection_check_interval', '1000', true) "
    "WHERE current_setting('client_connection_check_interval', true) = '0'"
)
# CommitOrder: an advisory lock held to the end of the transaction. PostgreSQL releases a
# transaction's locks only after its commit is visible to new snapshots, so the next writer on
# the channel takes its key (an identity value) after every lower key of the channel is visible
# or rolled back. The two-key form keeps these locks apart from the single-key named locks above.
_COMMIT_ORDER_LOCK = "SELECT pg_advisory_xact_lock(1634166116, hashtext($1))"
_NAMED_LOCK_POLL_SECONDS = 0.05
_NAMED_LOCK_DEFAULT_WAIT = 60.0


def is_read(sql: str) -> bool:
    try:
        return translate_sql(sql).read_only
    except ConfigurationError:
        return False


def may_run_again(error: ConnectionLostError, *, read: bool, lease: Lease) -> bool:
    """Whether a statement outside a transaction whose connection was lost may run once more.

    Only when that cannot run it twice: asyncpg found the connection ended before it sent the
    statement, or the statement is a read-only query (``fetch_one``/``fetch_all``, see
    ``TranslatedSQL.read_only``) that failed on a connection the pool had kept idle, which the
    server had ended while it waited.
    """
    cause = error.__cause__
    if cause is not None and failed_before_sending(cause):
        return True
    return read and lease.reused


class Session(ExpandedAtomics):
    """Statements on one leased connection: placeholders bound, errors translated."""

    __slots__ = ("_connection", "_lease")

    def __init__(self, lease: Lease) -> None:
        self._lease = lease
        self._connection = lease.connection

    @property
    def in_transaction(self) -> bool:
        return self._connection.is_in_transaction()

    async def _guard(self, pending: Awaitable[T], sql: str | None) -> T:
        in_transaction = self._connection.is_in_transaction()
        try:
            return await pending
        except Exception as error:
            if not is_driver_error(error):
                raise
            if is_connection_lost(error) or self._connection.is_closed():
                self._lease.broken = True
                write = sql is not None and not is_read(sql)
                raise translate_lost(
                    error, sql, in_transaction=in_transaction, write=write
                ) from error
            if leaves_connection_unusable(error):
                self._lease.broken = True
            raise translate(error, sql) from error
        except BaseException:
            # Cancelled mid-statement: asyncpg is still cancelling it on the server.
            self._lease.broken = True
            raise

    def _bind(self, sql: str, params: Params | None) -> tuple[str, list[Any], bool]:
        statement = translate_sql(sql)
        if statement.touches_session:
            self._lease.needs_reset = True
        return statement.sql, statement.bind(params), statement.returning

    async def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        text, args, returning = self._bind(sql, params)
        if returning:
            return _returning_result(await self._guard(self._connection.fetch(text, *args), sql))
        status = await self._guard(self._connection.execute(text, *args), sql)
        return ExecuteResult(_rows_affected(status))

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        statement = translate_sql(sql)
        if statement.touches_session:
            self._lease.needs_reset = True
        rows = [statement.bind(one) for one in params]
        if not rows:
            return ExecuteResult(0)
        if statement.returning:
            records = await self._guard(self._connection.fetchmany(statement.sql, rows), sql)
            return _returning_result(records)
        await self._guard(self._connection.executemany(statement.sql, rows), sql)
        return ExecuteResult(len(rows))

    async def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        text, args, _ = self._bind(sql, params)
        records = await self._guard(self._connection.fetch(text, *args), sql)
        return [dict(record.items()) for record in records]

    async def fetch_values(self, sql: str, params: Params | None) -> list[tuple[Any, ...]]:
        text, args, _ = self._bind(sql, params)
        records = await self._guard(self._connection.fetch(text, *args), sql)
        return [tuple(record.values()) for record in records]

    async def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        text, args, _ = self._bind(sql, params)
        record = await self._guard(self._connection.fetchrow(text, *args), sql)
        return None if record is None else dict(record.items())

    async def command(self, sql: str) -> str:
        """Run transaction control SQL written by this module; returns the command status."""
        return await self._guard(self._connection.execute(sql), sql)

    async def begin(self, lock_timeout: float | None, lock_name: str | None = None) -> None:
        if self.in_transaction:
            raise DatabaseError("cannot start a transaction within a transaction", sql="BEGIN")
        commands = ["BEGIN"]
        if lock_timeout is not None:
            commands.append(f"SET LOCAL lock_timeout = {lock_timeout_ms(lock_timeout)}")
        if lock_name is not None:
            commands.append(_CLIENT_CHECK)
        await self.command("; ".join(commands))
        if lock_name is not None:
            await self._take_named_lock(lock_name, lock_timeout)

    async def _take_named_lock(self, name: str, wait: float | None) -> None:
        """Poll a transaction-scoped advisory lock for up to ``wait`` seconds.

        Polling ``pg_try_advisory_xact_lock`` rather than blocking in ``pg_advisory_lock``: a
        blocked waiter deadlocks with ``CREATE INDEX CONCURRENTLY`` in the holder's session. The
        lock ends with the transaction, so every path (commit, rollback, lost connection)
        releases it.
        """
        wait = _NAMED_LOCK_DEFAULT_WAIT if wait is None else wait
        deadline = time.monotonic() + wait
        while True:
            row = await self.fetch_one(_TRY_NAMED_LOCK, {"name": name})
            if row is not None and row["locked"]:
                return
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"the lock {name!r} is held by another transaction; waited {wait:g} s",
                    sql=_TRY_NAMED_LOCK,
                )
            await asyncio.sleep(_NAMED_LOCK_POLL_SECONDS)

    async def order_commits(self, channel: str) -> None:
        """Take the channel's commit-order lock until the transaction ends (see CommitOrder).

        Sent as the module's own statement: a transaction-scoped lock leaves no session state
        behind, so the connection needs no reset before the pool hands it out again.
        """
        if not self.in_transaction:
            raise UnsupportedOperationError("CommitOrder needs an open transaction")
        await self._guard(self._connection.execute(_COMMIT_ORDER_LOCK, channel), _COMMIT_ORDER_LOCK)

    async def commit(self) -> None:
        if not self.in_transaction:
            raise DatabaseError("cannot commit: no transaction is active", sql="COMMIT")
        if await self.command("COMMIT") == "ROLLBACK":
            raise DatabaseError(_ABORTED_COMMIT, sql="COMMIT")

    async def rollback(self, ended_by: BaseException | None = None) -> None:
        """Roll back whatever is open; when that fails the connection is dropped (the pool
        closes it, and the server rolls back what was left)."""
        if self._connection.is_closed():
            # The server ended the session, and with it the transaction.
            self._lease.broken = True
            return
        if self.in_transaction:
            await self._undo("ROLLBACK")

    async def savepoint(self, name: str) -> None:
        await self.command(f"SAVEPOINT {name}")

    async def release(self, name: str) -> None:
        await self.command(f"RELEASE SAVEPOINT {name}")

    async def rollback_to(self, name: str) -> None:
        if self._connection.is_closed():
            self._lease.broken = True
            return
        await self._undo(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")

    async def _undo(self, sql: str) -> None:
        try:
            await self.command(sql)
        except AgentsDBError:
            self._lease.broken = True
            raise


__all__ = ["Session", "is_read", "may_run_again"]
