"""The PostgreSQL backend, on asyncpg.

Open it with ``agentsdb.connect("postgresql://user:password@host:5432/dbname", **options)``
(``postgres://`` works too); it needs the extra: ``pip install 'agentsdb[postgres]'``. asyncpg
is imported only when such a URL is opened.

How the :class:`~agentsdb.db.base.Database` contract maps onto PostgreSQL:

* **Connections.** A pool of ``min_size`` to ``max_size`` connections
  (:mod:`agentsdb.db.postgres.pool`). A single statement borrows a connection for its own
  duration; ``transaction()`` and ``run(program)`` hold one until they end, so statements of
  other tasks run beside them on other connections, as PostgreSQL's MVCC allows. A task that
  calls ``db.execute`` while its own ``db.transaction()`` is open gets UnsupportedOperationError
  (as on SQLite): on another connection the statement would run outside the transaction, and
  could wait forever for a row lock that the transaction holds.
* **Placeholders.** ``:name`` is rewritten to ``$n`` once per SQL string
  (:mod:`agentsdb.db.placeholders`); a missing parameter raises ConfigurationError.
* **Transactions.** ``BEGIN`` / ``COMMIT`` / ``ROLLBACK``, with ``SAVEPOINT`` for nested ones.
  They are sent as statements rather than through asyncpg's ``Transaction`` object so that
  COMMIT's reply can be checked: once a statement inside a transaction has failed, PostgreSQL
  answers COMMIT with "ROLLBACK" and no error, and asyncpg's ``Transaction.commit()`` discards
  that reply, so a transaction whose caller caught an error would lose all its writes without
  a word. Here that COMMIT raises DatabaseError. Unlike SQLite, PostgreSQL does not carry on
  after a failed statement inside a transaction: to continue after an expected error, run the
  statement in a nested ``transaction()`` (a savepoint), which works on every backend.
* **Programs.** ``run(program)`` holds one connection and drives the program with
  the shared driver (:mod:`agentsdb.db.program`). ``Begin(lock_timeout)`` sends
  ``BEGIN; SET LOCAL lock_timeout = <ms>`` in one round trip. PostgreSQL has no database-wide
  write lock for BEGIN to wait on, so the timeout bounds each lock wait inside the transaction
  (a table or row lock held by another transaction); a longer wait fails with
  DatabaseBusyError. ``Begin(None)`` keeps the connection's ``lock_timeout`` (the option below,
  or the server's setting).
  ``CommitOrder(channel)`` takes ``pg_advisory_xact_lock`` on a key derived from the channel, so
  inserts on the channel commit in the order they took their identity values.
* **Results.** ``execute`` reports ``rows_affected`` from the command status (``UPDATE 3``;
  INSERT/UPDATE/DELETE/MERGE, 0 for anything else, as sqlite3 does). PostgreSQL has no
  "last insert rowid", so ``last_insert_id`` is None unless the statement has a ``RETURNING``
  clause: then its rows are fetched, ``rows_affected`` is their number and ``last_insert_id`` the
  first column of the last row when that is an integer (``INSERT ... RETURNING id``).
  ``execute_many`` is asyncpg's pipelined ``executemany``, which discards each execution's
  status, so without RETURNING its ``rows_affected`` is the number of parameter sets run; with
  RETURNING (via ``fetchmany``) it is the number of rows returned, exactly.
* **Rows** are plain ``dict`` objects. **JSON**: ``json`` and ``jsonb`` values are decoded with
  ``json.loads`` (a document comes back as dict/list), and a parameter for such a column may be
  any JSON-serialisable value (encoded with ``json.dumps``) or a ``str``, which is taken as JSON
  text already: the same serialised text a SQLite TEXT column holds is stored as a real
  document, not as a JSON string. To store a bare JSON string, pass ``json.dumps("text")``.
* **Errors** are mapped by SQLSTATE (:mod:`agentsdb.db.postgres.errors`), the asyncpg exception
  kept as ``__cause__``.
* **Lost connections** (the server ended the session, the network dropped it) raise
  ConnectionLostError and the connection leaves the pool. Outside a transaction, a statement
  asyncpg never sent, a read-only query (``TranslatedSQL.read_only``) through ``fetch_one`` /
  ``fetch_all`` that failed on a connection the pool had kept idle, the BEGIN of
  ``transaction()`` on such a connection, and a program's first operation when it is one of
  these, run once more on a newly opened connection. Nothing else runs twice: a write's error
  says whether it may have taken effect (``may_have_committed``), and inside a transaction
  nothing is retried (the server rolled it back). See docs/faults.md.
* **Pooled connections** go back unchanged after ordinary statements. A statement that may
  change session state (SET, RESET, LISTEN, DECLARE, PREPARE, advisory locks, set_config) marks
  its connection for asyncpg's full reset (rollback, ``pg_advisory_unlock_all()``, ``CLOSE ALL``,
  ``UNLISTEN *``, ``RESET ALL``) before reuse. Settings meant for every connection belong in the
  ``server_settings`` option.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from agentsdb.db.base import BatchWriter, ExecuteResult, Params, Program, Row, Step, Transaction
from agentsdb.db.group_commit import GroupCommit, GroupCommits
from agentsdb.db.migration_runner import MigrationRunner
from agentsdb.db.postgres import capabilities
from agentsdb.db.postgres.driver import connector
from agentsdb.db.postgres.options import parse_options
from agentsdb.db.postgres.performer import PostgresPerformer
from agentsdb.db.postgres.pool import ConnectionPool, Lease
from agentsdb.db.postgres.session import Session, is_read, may_run_again
from agentsdb.db.program import run_program
from agentsdb.db.transaction import SavepointTransaction, transaction_scope
from agentsdb.errors import ConnectionLostError, UnsupportedOperationError

if TYPE_CHECKING:
    from agentsdb.db.base import Database

log = logging.getLogger("agentsdb.db.postgres")

T = TypeVar("T")


class PostgresDatabase:
    """A PostgreSQL database behind the :class:`~agentsdb.db.base.Database` API.

    Open it with :func:`agentsdb.connect`; see the module documentation for the details.
    """

    dialect = "postgresql"

    def __init__(self, pool: ConnectionPool, url: str) -> None:
        self._pool = pool
        self._url = url
        self._transaction_tasks: set[asyncio.Task[Any]] = set()
        self._group_commits = GroupCommits(self)

    @classmethod
    async def open(
        cls, dsn: str, *, url: str, options: Mapping[str, Any] | None = None
    ) -> PostgresDatabase:
        """Check the options, load asyncpg and open the pool's first connections.

        ``dsn`` is the URL handed to asyncpg; ``url`` is the same with the password obscured,
        used in messages. Options: see :class:`~agentsdb.db.postgres.options.PostgresOptions`.
        """
        settings = parse_options(options or {})
        connect = connector(dsn, url, settings)
        pool = ConnectionPool(
            connect, min_size=settings.min_size, max_size=settings.max_size, url=url
        )
        await pool.open()
        log.debug("opened %s (pool of %d to %d)", url, settings.min_size, settings.max_size)
        return cls(pool, url)

    @property
    def url(self) -> str:
        """The URL this database was opened with, password obscured."""
        return self._url

    def __repr__(self) -> str:
        return f"<PostgresDatabase {self._url!r}>"

    def _check_task(self) -> None:
        if not self._transaction_tasks:  # the common case, without asking for the task
            return
        task = asyncio.current_task()
        if task is not None and task in self._transaction_tasks:
            raise UnsupportedOperationError(
                "this task already has a transaction open on this database; run the statement "
                "through the transaction object: async with db.transaction() as tx: "
                "await tx.execute(...)"
            )

    # Executor ----------------------------------------------------------------------------------

    async def _autocommit(
        self, sql: str, statement: Callable[[Session], Awaitable[T]], *, read: bool
    ) -> T:
        """Run one statement on a pooled connection; once more on a fresh connection when the
        first one was lost and :func:`~agentsdb.db.postgres.session.may_run_again` allows it."""
        self._check_task()
        lease = await self._pool.acquire()
        try:
            return await statement(Session(lease))
        except ConnectionLostError as error:
            if not may_run_again(error, read=read and is_read(sql), lease=lease):
                raise
            log.info("running a statement again on a new connection after: %s", error)
        finally:
            await self._pool.release(lease)
        lease = await self._pool.acquire(fresh=True)
        try:
            return await statement(Session(lease))
        finally:
            await self._pool.release(lease)

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement (autocommitted) and report what it changed."""
        return await self._autocommit(sql, lambda session: session.execute(sql, params), read=False)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping, atomically (all or none)."""
        return await self._autocommit(
            sql, lambda session: session.execute_many(sql, params), read=False
        )

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        return await self._autocommit(
            sql, lambda session: session.fetch_one(sql, params), read=True
        )

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        return await self._autocommit(
            sql, lambda session: session.fetch_all(sql, params), read=True
        )

    async def fetch_values(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Return every row of the query as a tuple of its values."""
        return await self._autocommit(
            sql, lambda session: session.fetch_values(sql, params), read=True
        )

    # Units of work -----------------------------------------------------------------------------

    async def run(self, program: Program[T]) -> T:
        """Run a program on one connection held for its whole duration."""
        self._check_task()
        performer = PostgresPerformer(self._pool, await self._pool.acquire())
        try:
            return await run_program(program, performer)
        finally:
            if performer.lease is not None:
                await self._pool.release(performer.lease)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A transaction on one connection: commits on success, rolls back on error."""
        self._check_task()
        task = asyncio.current_task()
        lease = await self._begin_transaction()
        if task is not None:
            self._transaction_tasks.add(task)
        try:
            async with transaction_scope(Session(lease)) as tx:
                yield tx
        finally:
            if task is not None:
                self._transaction_tasks.discard(task)
            await self._pool.release(lease)

    async def _begin_transaction(self) -> Lease:
        """A connection with a transaction begun on it. A BEGIN that fails because the server
        ended an idle connection is sent again on a fresh one: nothing had happened yet."""
        lease = await self._pool.acquire()
        try:
            await Session(lease).begin(None)
            return lease
        except ConnectionLostError as error:
            await self._pool.release(lease)
            if not lease.reused:
                raise
            log.info("beginning the transaction on a new connection after: %s", error)
        except BaseException:
            await self._pool.release(lease)
            raise
        lease = await self._pool.acquire(fresh=True)
        try:
            await Session(lease).begin(None)
        except BaseException:
            await self._pool.release(lease)
            raise
        return lease

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        """Not offered: PostgreSQL has no single statement that checks a whole database.

        Raises UnsupportedOperationError. Its equivalents run outside agentsdb: data page
        checksums (``initdb --data-checksums``, verified on every read) and ``pg_amcheck``,
        which checks tables and B-tree indexes with the ``amcheck`` extension.
        """
        raise UnsupportedOperationError(
            "an integrity check is not supported on PostgreSQL by agentsdb: enable data "
            "checksums (initdb --data-checksums) and run pg_amcheck (the amcheck extension) "
            "against the database instead"
        )

    def group_commit(self, key: str, write: BatchWriter[T]) -> GroupCommit[T]:
        """This database's group committer for ``key`` (see :mod:`agentsdb.db.group_commit`)."""
        return self._group_commits.get(key, write)

    async def close(self) -> None:
        """Write the rows queued for group commit, then close every connection (waiting for
        those in use); later calls raise ConnectionClosedError. Closing twice is harmless."""
        await self._group_commits.close()
        await self._pool.close()

    def migration_runner(self, lock_name: str, lock_timeout: float) -> MigrationRunner:
        """The Migrator's primitives on this database (:mod:`agentsdb.db.migration_runner`)."""
        from agentsdb.db.postgres.migration_runner import migration_runner

        return migration_runner(self, lock_name, lock_timeout)

    # --- capabilities (see Database in agentsdb.db.base) ----------------------------------------

    @property
    def json_decoded(self) -> bool:
        """True: ``json``/``jsonb`` columns come back decoded (the driver's JSON codecs)."""
        return True

    @property
    def interactive_transactions(self) -> bool:
        """True: a transaction holds one pooled connection until it ends."""
        return True

    @property
    def temp_tables_persist(self) -> bool:
        """False: calls take connections from a pool, each with TEMP tables of its own."""
        return False

    @property
    def reports_insert_id(self) -> bool:
        """False: PostgreSQL hands a new row's key back only through ``RETURNING``."""
        return False

    @functools.cached_property
    def _column_types(self) -> capabilities.ColumnTypes:
        """The column types ``insert_rows`` read from the catalog, kept for this Database."""
        return capabilities.ColumnTypes()

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Params],
        *,
        key: str = "id",
        before: Sequence[Step] = (),
    ) -> Program[list[int]]:
        """One ``INSERT … SELECT … FROM unnest(…)`` (see ``capabilities.insert_rows``)."""
        return capabilities.insert_rows(self._column_types, table, columns, rows, key, before)

    async def table_columns(self, table: str) -> tuple[str, ...]:
        """The column names of ``table`` in the current schema, in declaration order."""
        rows = await self.fetch_all(capabilities.TABLE_COLUMNS, {"table": table})
        return tuple(str(row["name"]) for row in rows)

    async def table_names(self) -> tuple[str, ...]:
        """The schema's tables, sorted (see ``capabilities.table_names``)."""
        return await capabilities.table_names(self)

    async def table_indexes(self, table: str) -> tuple[str, ...]:
        """The indexes made on ``table``, sorted (see ``capabilities.table_indexes``)."""
        return await capabilities.table_indexes(self, table)

    async def table_triggers(self, table: str) -> dict[str, str]:
        """The triggers on ``table`` (see ``capabilities.table_triggers``)."""
        return await capabilities.table_triggers(self, table)


if TYPE_CHECKING:

    def _satisfies_protocols(db: PostgresDatabase, tx: SavepointTransaction) -> None:
        """mypy checks here that both classes implement the contract."""
        _db: Database = db
        _tx: Transaction = tx


__all__ = ["PostgresDatabase"]
