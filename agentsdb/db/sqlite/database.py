"""The embedded SQLite backend, on aiosqlite.

Each ``SQLiteDatabase`` owns one aiosqlite connection. aiosqlite runs every call on a worker
thread, and each hop to that thread costs more than a small statement does (about 0.1 ms), so this
module runs each unit of work (a statement with its fetch, or a whole program) as one function on
the worker thread (:mod:`agentsdb.db.sqlite.worker`, :mod:`agentsdb.db.sqlite.performer`). Short
reads outside a transaction skip the hop: they run on a second, read-only connection of the
event loop's thread (:mod:`agentsdb.db.sqlite.loop_reads`). So do short write units while no task
uses the connection, at a durability level whose COMMIT does not wait for the disk: they run on
the loop's thread with the worker's own connection (:mod:`agentsdb.db.sqlite.loop_writes`).

The connection is opened with ``isolation_level=None`` so the sqlite3 module never opens or
commits transactions by itself; write transactions begin with ``BEGIN IMMEDIATE`` (a deferred
BEGIN followed by a write fails at once with "database is locked" instead of waiting), nested ones
are savepoints (:mod:`agentsdb.db.transaction`), and only one task uses the connection at a time.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar, cast

import aiosqlite

from agentsdb.db.base import (
    Atomic,
    BatchWriter,
    Execute,
    ExecuteMany,
    ExecuteResult,
    Params,
    Program,
    Row,
    Transaction,
)
from agentsdb.db.group_commit import GroupCommit, GroupCommits
from agentsdb.db.migration_runner import MigrationRunner
from agentsdb.db.program import Finished
from agentsdb.db.sqlite import statements
from agentsdb.db.sqlite.capabilities import SQLiteCapabilities
from agentsdb.db.sqlite.checkpoints import BackgroundCheckpoints
from agentsdb.db.sqlite.errors import translate
from agentsdb.db.sqlite.files import (
    create_private,
    file_path,
    open_error,
    remove_created,
    require_existing,
)
from agentsdb.db.sqlite.integrity import check_file
from agentsdb.db.sqlite.loop_reads import LoopReader, WorkerConnection, loop_readable
from agentsdb.db.sqlite.loop_writes import LoopWriter
from agentsdb.db.sqlite.opening import configure, worker_stopped
from agentsdb.db.sqlite.performer import run_program_sync
from agentsdb.db.sqlite.worker import run_on_worker, sqlite_connection
from agentsdb.db.task_lock import TaskLock
from agentsdb.db.transaction import transaction_scope
from agentsdb.db.url import DEFAULT_SYNCHRONOUS, Synchronous, synchronous_level
from agentsdb.errors import ConnectionClosedError, UnsupportedOperationError

log = logging.getLogger("agentsdb.db.sqlite")

T = TypeVar("T")

_CLOSE_INSIDE_TRANSACTION = (
    "close() was called inside this task's own open transaction; close the database after the "
    "`async with db.transaction()` block has ended"
)


class SQLiteDatabase(SQLiteCapabilities):
    """A SQLite database file (or ``:memory:``) behind the :class:`~agentsdb.db.base.Database` API.

    Open it with :func:`agentsdb.connect`.
    """

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, url: str, path: str | None = None) -> None:
        self._connection = connection
        self._url = url
        self._path = path
        self._lock = TaskLock()
        self._closed = False
        self._reader: LoopReader | None = None
        self._writer: LoopWriter | None = None
        self._checkpoints: BackgroundCheckpoints | None = None
        self._group_commits = GroupCommits(self)

    @classmethod
    async def open(
        cls,
        database: str,
        *,
        url: str,
        uri: bool = False,
        busy_timeout: float = 5.0,
        synchronous: Synchronous = DEFAULT_SYNCHRONOUS,
        in_memory: bool = False,
        create: bool = True,
        loop_reads: bool = True,
        loop_writes: bool = True,
    ) -> SQLiteDatabase:
        """Open and configure a connection (foreign keys on, WAL for files, busy timeout).

        A database file that does not exist yet is created readable by its owner only; with
        ``create=False`` it is not, and DatabaseFileError names the missing file.
        ``loop_reads=False`` runs every read on the worker thread, ``loop_writes=False`` every
        write (the plain paths, which the tests and benchmarks compare the loop's with). Writes
        run on the loop's thread only at ``synchronous`` OFF or NORMAL (or in memory): at FULL
        and EXTRA each COMMIT waits for the disk, which the loop must not do.
        """
        path = file_path(database, uri=uri, in_memory=in_memory)
        if not create:
            require_existing(path, url)
        created = create and create_private(database, path, uri=uri)
        # Not bound to the worker thread: the loop's thread uses it too while the worker idles
        # (agentsdb.db.sqlite.loop_writes); one thread at a time, never both.
        connection = aiosqlite.connect(
            database,
            isolation_level=None,
            uri=uri,
            timeout=busy_timeout,
            factory=WorkerConnection,
            check_same_thread=False,
        )
        try:
            await connection
        except sqlite3.Error as error:
            await worker_stopped(connection)
            if created:
                remove_created(path)
            raise open_error(error, path, url) from error
        except BaseException:
            await worker_stopped(connection)
            raise
        db = cls(connection, url, path)
        try:
            await db._call(configure, busy_timeout, in_memory, synchronous_level(synchronous))
        except BaseException:
            await connection.close()
            if created:
                remove_created(path)
            raise
        # aiosqlite made its connection with factory=WorkerConnection.
        worker = cast(WorkerConnection, sqlite_connection(connection))
        # An in-memory database is private to its connection: only the worker can read it.
        if loop_reads and not in_memory:
            db._reader = LoopReader(database, uri=uri, worker=worker, synchronous=synchronous)
        level = synchronous_level(synchronous)
        if loop_writes and (in_memory or level in _NO_WAIT_FOR_DISK):
            # An in-memory database has no WAL to checkpoint.
            db._checkpoints = (
                None
                if in_memory or path is None
                else BackgroundCheckpoints(database, uri=uri, path=path, synchronous=level)
            )
            db._writer = LoopWriter(worker, path, db._checkpoints)
        log.debug("opened %s", url)
        return db

    @property
    def url(self) -> str:
        """The URL this database was opened with."""
        return self._url

    def __repr__(self) -> str:
        return f"<SQLiteDatabase {self._url!r}>"

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(sqlite3_connection, *args)`` on the worker thread, translating errors."""
        if self._closed:
            raise ConnectionClosedError(f"the database {self._url!r} is closed")
        connection = self._connection
        writer = self._writer

        def bound() -> T:
            if writer is not None:
                writer.to_worker_settings()
            return fn(sqlite_connection(connection), *args)

        try:
            return await run_on_worker(connection, bound)
        except (sqlite3.Error, UnicodeEncodeError) as error:
            sql = args[0] if args and isinstance(args[0], str) else None
            raise translate(error, sql, path=self._path) from error
        except ValueError as error:
            if "closed" in str(error).lower():
                raise ConnectionClosedError(f"the database {self._url!r} is closed") from error
            raise

    def _exclusive(self) -> AbstractAsyncContextManager[None]:
        return self._lock.hold()

    # Executor ----------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement (autocommitted) and report what it changed."""
        if self._writer is not None and statements.verb(sql) in statements.WRITES:
            # A lone INSERT/UPDATE/DELETE is the same unit as an Atomic of it.
            return await self.run(_single_write(sql, params))
        async with self._exclusive():
            return await self._call(statements.execute, sql, params)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping inside one transaction."""
        return await self.run(_execute_many_program(sql, params))

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``.

        A short query runs on the event loop's thread (see :mod:`agentsdb.db.sqlite.loop_reads`)
        and sees every transaction committed before it, without waiting for one in progress.
        """
        rows = self._read_on_loop(sql, params, 1)
        if rows is None:
            async with self._exclusive():
                rows = await self._call(statements.fetch, sql, params, 1)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query (a short query runs as ``fetch_one`` says)."""
        rows = self._read_on_loop(sql, params, None)
        if rows is None:
            async with self._exclusive():
                rows = await self._call(statements.fetch, sql, params, None)
        return rows

    async def fetch_values(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Return every row of the query as a tuple of its values (run as ``fetch_all`` is)."""
        reader = self._loop_reader(sql)
        read = None if reader is None else reader.fetch_values(sql, params, None)
        if read is not None:
            return read[1]
        async with self._exclusive():
            return await self._call(statements.fetch_values, sql, params)

    def _read_on_loop(self, sql: str, params: Params | None, limit: int | None) -> list[Row] | None:
        """The rows read on the loop's thread, or None when the worker thread must run it."""
        reader = self._loop_reader(sql)
        return None if reader is None else reader.fetch(sql, params, limit)

    def _loop_reader(self, sql: str) -> LoopReader | None:
        """The loop's reader when it may try ``sql`` (see :mod:`.loop_reads`), else None."""
        if (
            self._closed
            or not loop_readable(sql)
            # Inside its own transaction a task must read through it (and is told so).
            or self._lock.held_by_current_task()
        ):
            return None
        return self._reader

    # Units of work -----------------------------------------------------------------------------

    async def run(self, program: Program[T]) -> T:
        """Run a whole program: its Atomic units on the loop's thread while nobody else uses the
        connection (see :mod:`agentsdb.db.sqlite.loop_writes`), the rest in one hop to the
        worker thread."""
        writer = self._writer
        if writer is not None and self._lock.idle and not self._closed:
            ran = writer.run(program)
            if isinstance(ran, Finished):
                return ran.result
            program = ran.program
        async with self._exclusive():
            return await self._call(_run_program, program, self._path)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction (``BEGIN IMMEDIATE``): commits on success, rolls back on error."""
        async with self._exclusive():
            await self._call(statements.begin, None)
            async with transaction_scope(_TransactionStatements(self)) as tx:
                yield tx

    def group_commit(self, key: str, write: BatchWriter[T]) -> GroupCommit[T]:
        """This database's group committer for ``key`` (see :mod:`agentsdb.db.group_commit`)."""
        return self._group_commits.get(key, write)

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        """The problems ``PRAGMA integrity_check`` (``quick``: ``quick_check``) finds in the file;
        empty when it is sound (see :mod:`agentsdb.db.sqlite.integrity`)."""
        async with self._exclusive():
            return await self._call(check_file, quick)

    async def close(self) -> None:
        """Write the rows queued for group commit, then close the connection; later calls raise
        ConnectionClosedError."""
        if self._closed:
            return
        if self._lock.held_by_current_task():
            raise UnsupportedOperationError(_CLOSE_INSIDE_TRANSACTION)
        await self._group_commits.close()
        async with self._lock.hold(_CLOSE_INSIDE_TRANSACTION):
            self._closed = True
            if self._reader is not None:
                self._reader.close()
            if self._checkpoints is not None:
                await self._checkpoints.close()
            await self._connection.close()

    def migration_runner(self, lock_name: str, lock_timeout: float) -> MigrationRunner:
        """The Migrator's primitives on this database (:mod:`agentsdb.db.migration_runner`)."""
        from agentsdb.db.sqlite.migration_runner import migration_runner

        return migration_runner(self, lock_name, lock_timeout)

    # --- capabilities (see Database in agentsdb.db.base) ----------------------------------------
    # ``json_decoded``, ``reports_insert_id``, ``insert_rows`` and ``table_columns``: see
    # SQLiteCapabilities.

    @property
    def interactive_transactions(self) -> bool:
        """True: ``transaction()`` and a program's ``Begin`` hold the connection's write lock."""
        return True

    @property
    def temp_tables_persist(self) -> bool:
        """True: a Database is one connection for its life (TEMP tables route reads to it)."""
        return True


def _run_program(conn: sqlite3.Connection, program: Program[T], path: str | None) -> T:
    return run_program_sync(conn, program, path=path)


def _execute_many_program(sql: str, params: Sequence[Params]) -> Program[ExecuteResult]:
    results: list[ExecuteResult] = yield Atomic((ExecuteMany(sql, params),))
    return results[0]


def _single_write(sql: str, params: Params | None) -> Program[ExecuteResult]:
    results: list[ExecuteResult] = yield Atomic((Execute(sql, params),))
    return results[0]


# Durability levels at which a COMMIT in WAL mode does not wait for the disk.
_NO_WAIT_FOR_DISK = frozenset({"OFF", "NORMAL"})


class _TransactionStatements:
    """A SQLiteDatabase's open transaction: each statement one hop to the worker thread."""

    __slots__ = ("_db",)

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db

    async def execute(self, sql: str, params: Params | None) -> ExecuteResult:
        return await self._db._call(statements.execute, sql, params)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        return await self._db._call(statements.execute_many, sql, params)

    async def fetch_one(self, sql: str, params: Params | None) -> Row | None:
        rows = await self._db._call(statements.fetch, sql, params, 1)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None) -> list[Row]:
        return await self._db._call(statements.fetch, sql, params, None)

    async def savepoint(self, name: str) -> None:
        await self._db._call(statements.execute, f"SAVEPOINT {name}", None)

    async def release(self, name: str) -> None:
        await self._db._call(statements.execute, f"RELEASE {name}", None)

    async def rollback_to(self, name: str) -> None:
        await self._db._call(statements.execute, f"ROLLBACK TO {name}", None)
        await self._db._call(statements.execute, f"RELEASE {name}", None)

    async def commit(self) -> None:
        await self._db._call(statements.execute, "COMMIT", None)

    async def rollback(self, ended_by: BaseException | None) -> None:
        await self._db._call(statements.execute_in_transaction, "ROLLBACK")


__all__ = ["SQLiteDatabase", "run_program_sync"]
