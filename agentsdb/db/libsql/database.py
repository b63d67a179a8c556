"""The remote libSQL backend (sqld, Turso), on libsql-client 0.3.1.

URLs and what each can do:

- ``libsql://host`` — the client's default: Hrana over a TLS WebSocket (``wss://``).
- ``ws://host`` and ``wss://host`` — Hrana over a WebSocket: statements, batches and
  interactive transactions (``transaction()`` and programs that begin one).
- ``http://host`` and ``https://host`` — Hrana over HTTP: statements and batches only. There is
  no interactive transaction over HTTP; ``transaction()`` and a program that yields ``Begin``
  raise :class:`~agentsdb.errors.UnsupportedOperationError` naming a ws URL instead. A
  program's ``Atomic`` runs as one batch on both transports (over ws, one of more than
  ``_WS_BATCH_STATEMENTS`` statements runs as a transaction instead).

A program's ``Begin(lock_name=...)`` (the migration lock) takes a lease row of that name for the
transaction: see :mod:`agentsdb.db.libsql.lease`; ``lease_seconds`` sets its length.

:meth:`LibsqlDatabase.execute_batch` runs a list of statements atomically on every URL kind
(libsql-client's ``batch()``: the server runs ``BEGIN``, the statements and ``COMMIT`` in one
request and rolls back when any statement fails), which is how work that must be atomic runs
over HTTP.

The dialect is ``"sqlite"``: a libSQL server runs SQLite. ``file:`` URLs never come here; they stay
on the aiosqlite backend (libsql-client's ``file:`` support runs SQLite inline on the event
loop). Like the SQLite backend, a ``LibsqlDatabase`` runs one operation at a time: a libSQL
transaction begins with a deferred ``BEGIN`` (the client sends it), so two transactions of the
same process interleaving their reads and writes would make one fail at once with
``SQLITE_BUSY``; serializing them avoids that. Open another database object for parallel work.

libsql-client is loaded only when a database opens (:mod:`agentsdb.db.libsql.driver`); its
calls go through :class:`~agentsdb.db.libsql.client.Remote`, programs through
:mod:`agentsdb.db.libsql.performer`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from agentsdb.db.base import (
    BatchWriter,
    ExecuteResult,
    Params,
    Program,
    Row,
    Transaction,
)
from agentsdb.db.group_commit import GroupCommit, GroupCommits
from agentsdb.db.libsql import keys_off as libsql_keys_off
from agentsdb.db.libsql import lease as libsql_lease
from agentsdb.db.libsql.client import Remote
from agentsdb.db.libsql.driver import (
    driver_args,
    execute_result,
    load_driver,
    rows_of,
    sum_results,
    transport_of,
    values_of,
)
from agentsdb.db.libsql.performer import LibsqlPerformer, TransactionStatements
from agentsdb.db.migration_runner import MigrationRunner
from agentsdb.db.program import run_program
from agentsdb.db.sqlite.capabilities import SQLiteCapabilities
from agentsdb.db.sqlite.integrity import check_sql, problems_of
from agentsdb.db.task_lock import TaskLock
from agentsdb.db.transaction import transaction_scope
from agentsdb.db.url import credentials_of, obscure_password
from agentsdb.errors import ConfigurationError

log = logging.getLogger("agentsdb.db.libsql")

T = TypeVar("T")


class LibsqlDatabase(SQLiteCapabilities):
    """A remote libSQL database behind the :class:`~agentsdb.db.base.Database` API.

    Open it with :func:`agentsdb.connect` (``auth_token=`` for Turso).
    """

    dialect = "sqlite"

    def __init__(self, remote: Remote) -> None:
        self._remote = remote
        self._lock = TaskLock()
        self._group_commits = GroupCommits(self)
        #: Seconds a lease (``Begin(lock_name=...)``, the migration lock) lasts: the longest a
        #: transaction under it may run before its COMMIT is refused, and the longest a
        #: holder that died blocks the others.
        self.lease_seconds = libsql_lease.DEFAULT_LEASE_SECONDS

    @classmethod
    async def open(cls, url: str, *, auth_token: str | None = None) -> LibsqlDatabase:
        """Create the client (inside the running loop) and check that the server answers."""
        shown = obscure_password(url)
        secrets = (*credentials_of(url), auth_token or "")
        driver = load_driver(shown)
        try:
            client = driver.module.create_client(url, auth_token=auth_token)
        except driver.libsql_error as error:
            reason = obscure_password(str(error), secrets)
            raise ConfigurationError(f"cannot open {shown!r}: {reason}") from error
        db = cls(Remote(client, driver, shown, transport_of(url), secrets))
        try:
            # The WebSocket client connects lazily; one round trip makes a wrong URL, a server
            # that is down or a rejected token fail here rather than at the first real query.
            await db.fetch_one("SELECT 1")
        except BaseException:
            await db.close()
            raise
        log.debug("opened %s", shown)
        return db

    @property
    def url(self) -> str:
        """The URL this database was opened with, auth token obscured."""
        return self._remote.url

    @property
    def interactive_transactions(self) -> bool:
        """True over a WebSocket (``transaction()`` works), False over HTTP."""
        return self._remote.transport == "ws"

    def __repr__(self) -> str:
        return f"<LibsqlDatabase {self._remote.url!r}>"

    def _exclusive(self) -> AbstractAsyncContextManager[None]:
        return self._lock.hold()

    # Executor ----------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement (autocommitted) and report what it changed."""
        async with self._exclusive():
            return execute_result(await self._remote.execute_on(self._remote.client, sql, params))

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping, atomically, in one request (a batch)."""
        async with self._exclusive():
            statements = [(sql, driver_args(sql, p)) for p in params]
            return sum_results(await self._remote.batch(statements, sql))

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        async with self._exclusive():
            rows = rows_of(await self._remote.execute_on(self._remote.client, sql, params))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        async with self._exclusive():
            return rows_of(await self._remote.execute_on(self._remote.client, sql, params))

    async def fetch_values(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Return every row of the query as a tuple of its values."""
        async with self._exclusive():
            return values_of(await self._remote.execute_on(self._remote.client, sql, params))

    async def execute_batch(
        self,
        statements: Sequence[tuple[str, Params | None]],
        *,
        foreign_keys_off: bool = False,
    ) -> list[ExecuteResult]:
        """Run statements atomically in one request, on every kind of URL.

        The server runs ``BEGIN``, the statements in order and ``COMMIT``; when one fails, it
        rolls back and nothing of the batch remains, and the error is raised (mapped like any
        other). Returns one result per statement. This is the way to run several statements
        atomically over HTTP, where ``transaction()`` is not available. It opens its own
        transaction, so it cannot run inside ``transaction()``.

        ``foreign_keys_off=True`` switches foreign keys off on the server's connection before
        the ``BEGIN`` and back on after it (see :mod:`agentsdb.db.libsql.keys_off`), as a table
        rebuild needs; check ``PRAGMA foreign_key_check`` inside the batch. Use it only where the
        server's connections have foreign keys on.
        """
        async with self._exclusive():
            driver_statements = [(sql, driver_args(sql, params)) for sql, params in statements]
            remote = self._remote
            if foreign_keys_off:
                http = remote.transport == "http"
                sets = await remote.call(
                    lambda: libsql_keys_off.run(remote.client, driver_statements, http=http), None
                )
            else:
                sets = await remote.batch(driver_statements)
            return [execute_result(result) for result in sets]

    # Units of work -----------------------------------------------------------------------------

    async def run(self, program: Program[T]) -> T:
        """Run a program, awaiting each operation in turn, with exclusive use of the database.

        Over HTTP, a ``Begin`` in the program raises UnsupportedOperationError into it.
        ``Begin(lock_name=...)`` takes a lease row of that name (see
        :mod:`agentsdb.db.libsql.lease`), polling up to ``lock_timeout``, checks it as the
        transaction's first statement and again before ``COMMIT``, and releases it when the
        transaction ends. Without a lock name, ``lock_timeout`` is not applied: the server's
        busy timeout decides how long a write waits for the lock.
        """
        async with self._exclusive():
            return await run_program(program, LibsqlPerformer(self._remote, self._take_lease))

    async def _take_lease(self, name: str, wait: float | None) -> libsql_lease.Lease:
        """Take the lease ``name`` for ``lease_seconds``; ``wait=None`` waits up to one lease
        length (the longest a holder that died can block)."""
        return await self._remote.take_lease(name, wait, self.lease_seconds)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction over the WebSocket: commits on success, rolls back on error.

        Raises UnsupportedOperationError at once over HTTP.
        """
        self._remote.require_interactive("transaction()")
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Transaction]:
        async with self._exclusive():
            driver_tx = await self._remote.begin()
            async with transaction_scope(TransactionStatements(self._remote, driver_tx)) as tx:
                yield tx

    def group_commit(self, key: str, write: BatchWriter[T]) -> GroupCommit[T]:
        """This database's group committer for ``key`` (see :mod:`agentsdb.db.group_commit`)."""
        return self._group_commits.get(key, write)

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        """The problems the server's ``PRAGMA integrity_check`` (``quick``: ``quick_check``)
        finds in its database file; empty when it is sound."""
        rows = await self.fetch_all(check_sql(quick=quick))
        return problems_of([next(iter(row.values())) for row in rows])

    async def close(self) -> None:
        """Write the rows queued for group commit, then close the client; later calls raise
        ConnectionClosedError."""
        if self._remote.closed:
            return
        await self._group_commits.close()
        async with self._lock.hold():
            if self._remote.closed:
                return
            self._remote.closed = True
            driver = self._remote.driver
            try:
                await self._remote.client.close()
            except (driver.libsql_error, *driver.connection_errors) as error:
                log.debug("closing %s: %s", self._remote.url, error)

    def migration_runner(self, lock_name: str, lock_timeout: float) -> MigrationRunner:
        """The Migrator's primitives on this database (:mod:`agentsdb.db.migration_runner`)."""
        from agentsdb.db.libsql.migration_runner import LibsqlMigrationRunner

        return LibsqlMigrationRunner(self, lock_name, lock_timeout)

    # --- capabilities (see Database in agentsdb.db.base) ----------------------------------------
    # ``interactive_transactions`` is above: True over a WebSocket, False over HTTP.
    # ``json_decoded``, ``reports_insert_id``, ``insert_rows`` and ``table_columns``: see
    # SQLiteCapabilities.

    @property
    def temp_tables_persist(self) -> bool:
        """False: the server may run consecutive requests on different connections."""
        return False


__all__ = ["LibsqlDatabase"]
