"""The embedded SQLite backend, on aiosqlite.

Each ``SQLiteDatabase`` owns one aiosqlite connection. aiosqlite runs every call on a worker
thread, and each hop to that thread costs more than a small statement does (about 0.1 ms), so this
module runs each unit of work (a statement with its fetch, or a whole program) as one function on
the worker thread. Short reads outside a transaction skip the hop: they run on a second,
read-only connection of the event loop's thread (:mod:`agentsdb.db.sqlite.loop_reads`).

The connection is opened with ``isolation_level=None`` so the sqlite3 module never opens or
commits transactions by itself; write transactions begin with ``BEGIN IMMEDIATE`` (a deferred
BEGIN followed by a write fails at once with "database is locked" instead of waiting), nested ones
are savepoints, and only one task uses the connection at a time.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar, cast

import aiosqlite

from agentsdb.db.base import (
    Begin,
    Commit,
    CommitOrder,
    Execute,
    ExecuteMany,
    ExecuteResult,
    FetchAll,
    FetchOne,
    Operation,
    Params,
    Program,
    Rollback,
    Row,
    Transaction,
)
from agentsdb.db.program import expand_atomic
from agentsdb.db.sqlite.errors import is_busy, translate
from agentsdb.db.sqlite.files import (
    create_private,
    file_path,
    open_error,
    remove_created,
    require_existing,
)
from agentsdb.db.sqlite.integrity import check_file
from agentsdb.db.sqlite.loop_reads import (
    LoopReader,
    WorkerConnection,
    loop_readable,
    note_statement,
)
from agentsdb.db.task_lock import TaskLock
from agentsdb.db.url import DEFAULT_SYNCHRONOUS, Synchronous, synchronous_level
from agentsdb.errors import (
    AgentsDBError,
    ConnectionClosedError,
    UnsupportedOperationError,
)

log = logging.getLogger("agentsdb.db.sqlite")

T = TypeVar("T")

_NO_PARAMS: dict[str, Any] = {}
_CLOSE_INSIDE_TRANSACTION = (
    "close() was called inside this task's own open transaction; close the database after the "
    "`async with db.transaction()` block has ended"
)
_WAL_RETRY_SECONDS = 0.01


# --- work done on the worker thread --------------------------------------------------------------


# String literals, quoted identifiers and comments, blanked out before looking for keywords.
_NOT_KEYWORDS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?(?:\*/|$)""", re.DOTALL)
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)\b")
_WORDS_AND_PARENS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[()]")
_STATEMENT_VERBS = frozenset({"INSERT", "REPLACE", "SELECT", "UPDATE", "DELETE", "VALUES"})
_INSERTS = frozenset({"INSERT", "REPLACE"})
_WRITES = frozenset({"INSERT", "REPLACE", "UPDATE", "DELETE"})


@lru_cache(maxsize=1024)
def _verb(sql: str) -> str:
    """The statement's main verb (``INSERT``, ``UPDATE``, ...), looking past a ``WITH`` clause."""
    leading = _FIRST_WORD.match(sql)
    if leading is not None and leading.group(1).upper() != "WITH":
        return leading.group(1).upper()
    depth = 0
    first = True
    for match in _WORDS_AND_PARENS.finditer(_NOT_KEYWORDS.sub(" ", sql)):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            word = token.upper()
            if (first and word != "WITH") or word in _STATEMENT_VERBS:
                return word
            first = False
    return ""


def _execute(conn: sqlite3.Connection, sql: str, params: Params | None) -> ExecuteResult:
    note_statement(conn, sql)
    cursor = conn.execute(sql, params if params is not None else _NO_PARAMS)
    try:
        verb = _verb(sql)
        if cursor.description is not None:
            # A statement that returns rows (RETURNING) finishes only once they are read; until
            # then sqlite3 reports no changes and no inserted rowid.
            returned = len(cursor.fetchall())
            rows = returned if verb in _WRITES else 0
        else:
            rows = cursor.rowcount
        if rows < 0:
            # Python 3.11's sqlite3 reports -1 for a write that starts with WITH.
            rows = conn.execute("SELECT changes()").fetchone()[0] if verb in _WRITES else 0
        # sqlite3 reports the connection's last inserted rowid after *every* statement, so an
        # UPDATE would otherwise carry the id of some earlier INSERT.
        inserted = rows > 0 and verb in _INSERTS
        return ExecuteResult(rows, cursor.lastrowid if inserted else None)
    finally:
        cursor.close()


def _execute_in_transaction(conn: sqlite3.Connection, sql: str) -> None:
    """Run ``sql`` (a ROLLBACK) only when a transaction is still open for it to end."""
    if conn.in_transaction:
        conn.execute(sql)


def _execute_many(conn: sqlite3.Connection, sql: str, params: Sequence[Params]) -> ExecuteResult:
    cursor = conn.executemany(sql, params)
    try:
        return ExecuteResult(max(cursor.rowcount, 0), cursor.lastrowid or None)
    finally:
        cursor.close()


def _fetch(
    conn: sqlite3.Connection, sql: str, params: Params | None, limit: int | None
) -> list[Row]:
    cursor = conn.execute(sql, params if params is not None else _NO_PARAMS)
    try:
        if cursor.description is None:
            return []
        columns = [column[0] for column in cursor.description]
        raw = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        return [dict(zip(columns, values, strict=True)) for values in raw]
    finally:
        cursor.close()


class _LockWait:
    """Makes ``BEGIN IMMEDIATE`` wait up to a Begin's ``lock_timeout`` for the write lock.

    SQLite's busy timeout is what BEGIN waits, so it is raised to ``lock_timeout`` for as long as
    a program needs it and restored when the program ends: one PRAGMA per program rather than
    three per transaction.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._original_ms: int | None = None
        self._current_ms: int | None = None

    def begin(self, lock_timeout: float | None) -> None:
        if lock_timeout is not None:
            self._set(int(lock_timeout * 1000))
        elif self._original_ms is not None:
            self._set(self._original_ms)
        self._conn.execute("BEGIN IMMEDIATE")

    def _set(self, wanted_ms: int) -> None:
        if self._original_ms is None:
            self._original_ms = int(self._conn.execute("PRAGMA busy_timeout").fetchone()[0])
            self._current_ms = self._original_ms
        if wanted_ms != self._current_ms:
            self._conn.execute(f"PRAGMA busy_timeout = {wanted_ms}")
            self._current_ms = wanted_ms

    def restore(self) -> None:
        if self._original_ms is not None and self._current_ms != self._original_ms:
            self._conn.execute(f"PRAGMA busy_timeout = {self._original_ms}")
            self._current_ms = self._original_ms


def _begin(conn: sqlite3.Connection, lock_timeout: float | None) -> None:
    """BEGIN IMMEDIATE, waiting up to ``lock_timeout`` (else the busy timeout) for the lock."""
    wait = _LockWait(conn)
    try:
        wait.begin(lock_timeout)
    finally:
        wait.restore()


def _perform(conn: sqlite3.Connection, op: Operation, lock_wait: _LockWait) -> Any:
    match op:
        case Execute(sql, params):
            return _execute(conn, sql, params)
        case FetchAll(sql, params):
            return _fetch(conn, sql, params, None)
        case FetchOne(sql, params):
            rows = _fetch(conn, sql, params, 1)
            return rows[0] if rows else None
        case ExecuteMany(sql, params_list):
            return _execute_many(conn, sql, params_list)
        case CommitOrder():
            # One writer at a time (BEGIN IMMEDIATE holds the write lock from the first
            # statement to COMMIT), so rows already commit in the order they were inserted.
            return None
        case Begin(lock_timeout, _):
            lock_wait.begin(lock_timeout)
            return None
        case Commit():
            conn.execute("COMMIT")
            return None
        case Rollback():
            # A failed COMMIT can leave the transaction open or closed depending on the error;
            # rolling back "whatever is open" is what a program means.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return None
    raise TypeError(f"a program yielded {op!r}, which is not an agentsdb operation")


def _sql_of(op: Operation) -> str | None:
    return getattr(op, "sql", None)


def run_program_sync(
    conn: sqlite3.Connection, program: Program[T], *, path: str | None = None
) -> T:
    """Drive a program to completion on this thread.

    A failed operation is thrown into the program as an agentsdb error chained to the sqlite3
    error (naming the database file ``path`` when the error is about the file). A transaction
    the program leaves open is rolled back; ending normally with one open is itself an error,
    because the program's writes would be lost without a word.
    """
    program = expand_atomic(program, lambda: conn.in_transaction)
    value: Any = None
    pending_error: AgentsDBError | None = None
    lock_wait = _LockWait(conn)
    try:
        while True:
            try:
                if pending_error is None:
                    op = program.send(value)
                else:
                    error, pending_error = pending_error, None
                    op = program.throw(error)
            except StopIteration as stop:
                if conn.in_transaction:
                    raise AgentsDBError(
                        "a program ended with its transaction still open; it was rolled back"
                    ) from None
                result: T = stop.value
                return result
            try:
                value = _perform(conn, op, lock_wait)
            except (sqlite3.Error, UnicodeEncodeError) as driver_error:
                wrapped = translate(driver_error, _sql_of(op), path=path)
                wrapped.__cause__ = driver_error
                pending_error = wrapped
                value = None
    finally:
        program.close()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        lock_wait.restore()
        # Foreign keys are on for every connection; a program that switched them off for a table
        # rebuild and then failed in an unexpected way must not leave them off. Read first:
        # setting the pragma expires every prepared statement in the connection's cache.
        if not conn.execute("PRAGMA foreign_keys").fetchone()[0]:
            conn.execute("PRAGMA foreign_keys = ON")


def _use_wal(conn: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch the file to WAL (a no-op once it is WAL, which it stays for every connection).

    Switching needs an exclusive lock and SQLite may answer "database is locked" at once, without
    waiting on the busy handler, while other processes open the same new file: retry until the
    busy timeout has passed.
    """
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(_WAL_RETRY_SECONDS)


def _configure(
    conn: sqlite3.Connection, busy_timeout: float, in_memory: bool, synchronous: Synchronous
) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not in_memory:
        _use_wal(conn, busy_timeout)
    conn.execute(f"PRAGMA synchronous = {synchronous}")  # one of SYNCHRONOUS_LEVELS


# --- the async face ------------------------------------------------------------------------------

_WORKER_STOP_SECONDS = 5.0


async def _worker_stopped(connection: aiosqlite.Connection) -> None:
    """Wait until aiosqlite's worker thread has ended after a failed open.

    aiosqlite queues a stop for its thread when connecting fails, without waiting for it; the
    thread then reports to the event loop, and if the loop has closed meanwhile (a command-line
    run that prints the error and exits) it dies with "RuntimeError: Event loop is closed".
    Waiting here, with the loop running, lets it finish cleanly.
    """
    thread = connection._thread  # aiosqlite has no public handle on its worker thread
    await asyncio.to_thread(thread.join, _WORKER_STOP_SECONDS)


class SQLiteDatabase:
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
    ) -> SQLiteDatabase:
        """Open and configure a connection (foreign keys on, WAL for files, busy timeout).

        A database file that does not exist yet is created readable by its owner only; with
        ``create=False`` it is not, and DatabaseFileError names the missing file.
        """
        path = file_path(database, uri=uri, in_memory=in_memory)
        if not create:
            require_existing(path, url)
        created = create and create_private(database, path, uri=uri)
        connection = aiosqlite.connect(
            database, isolation_level=None, uri=uri, timeout=busy_timeout, factory=WorkerConnection
        )
        try:
            await connection
        except sqlite3.Error as error:
            await _worker_stopped(connection)
            if created:
                remove_created(path)
            raise open_error(error, path, url) from error
        except BaseException:
            await _worker_stopped(connection)
            raise
        db = cls(connection, url, path)
        try:
            await db._call(_configure, busy_timeout, in_memory, synchronous_level(synchronous))
        except BaseException:
            await connection.close()
            if created:
                remove_created(path)
            raise
        # An in-memory database is private to its connection: only the worker can read it.
        if not in_memory:
            # aiosqlite made its connection with factory=WorkerConnection.
            worker = cast(WorkerConnection, connection._conn)
            db._reader = LoopReader(database, uri=uri, worker=worker, synchronous=synchronous)
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
        conn = self._connection

        def bound() -> T:
            return fn(conn._conn, *args)

        try:
            # aiosqlite has no public "run this callable on your thread"; _execute is that entry
            # point (pinned in pyproject, exercised by every test).
            run_on_worker = cast(Callable[[Callable[[], T]], Awaitable[T]], conn._execute)
            result: T = await run_on_worker(bound)
        except (sqlite3.Error, UnicodeEncodeError) as error:
            sql = args[0] if args and isinstance(args[0], str) else None
            raise translate(error, sql, path=self._path) from error
        except ValueError as error:
            if "closed" in str(error).lower():
                raise ConnectionClosedError(f"the database {self._url!r} is closed") from error
            raise
        return result

    def _exclusive(self) -> AbstractAsyncContextManager[None]:
        return self._lock.hold()

    # Executor ----------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement (autocommitted) and report what it changed."""
        async with self._exclusive():
            return await self._call(_execute, sql, params)

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
                rows = await self._call(_fetch, sql, params, 1)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query (a short query runs as ``fetch_one`` says)."""
        rows = self._read_on_loop(sql, params, None)
        if rows is None:
            async with self._exclusive():
                rows = await self._call(_fetch, sql, params, None)
        return rows

    def _read_on_loop(self, sql: str, params: Params | None, limit: int | None) -> list[Row] | None:
        """The rows read on the loop's thread, or None when the worker thread must run it."""
        reader = self._reader
        if (
            reader is None
            or self._closed
            or not loop_readable(sql)
            # Inside its own transaction a task must read through it (and is told so).
            or self._lock.held_by_current_task()
        ):
            return None
        return reader.fetch(sql, params, limit)

    # Units of work -----------------------------------------------------------------------------

    async def run(self, program: Program[T]) -> T:
        """Run a whole program in one hop to the worker thread."""
        async with self._exclusive():
            return await self._call(_run_program, program, self._path)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction (``BEGIN IMMEDIATE``): commits on success, rolls back on error."""
        async with self._exclusive():
            await self._call(_begin, None)
            tx = _SQLiteTransaction(self)
            try:
                yield tx
            except BaseException as error:
                await self._rollback_after(error, "ROLLBACK")
                raise
            else:
                try:
                    await self._call(_execute, "COMMIT", None)
                except BaseException as error:
                    # A COMMIT refused by a deferred constraint leaves the transaction open; end
                    # it so the connection is not left inside a transaction nobody owns.
                    await self._rollback_after(error, "ROLLBACK")
                    raise
            finally:
                tx.closed = True

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        """The problems ``PRAGMA integrity_check`` (``quick``: ``quick_check``) finds in the file;
        empty when it is sound (see :mod:`agentsdb.db.sqlite.integrity`)."""
        async with self._exclusive():
            return await self._call(check_file, quick)

    async def _rollback_after(self, error: BaseException, statement: str) -> None:
        try:
            await self._call(_execute_in_transaction, statement)
        except (AgentsDBError, sqlite3.Error) as rollback_error:
            error.add_note(f"agentsdb: {statement} after this error also failed: {rollback_error}")

    async def close(self) -> None:
        """Close the connection; later calls raise ConnectionClosedError."""
        if self._closed:
            return
        async with self._lock.hold(_CLOSE_INSIDE_TRANSACTION):
            self._closed = True
            if self._reader is not None:
                self._reader.close()
            await self._connection.close()


def _run_program(conn: sqlite3.Connection, program: Program[T], path: str | None) -> T:
    return run_program_sync(conn, program, path=path)


def _execute_many_program(sql: str, params: Sequence[Params]) -> Program[ExecuteResult]:
    yield Begin()
    result: ExecuteResult = yield ExecuteMany(sql, params)
    yield Commit()
    return result


class _SQLiteTransaction:
    """An open transaction on a SQLiteDatabase; nested ``transaction()`` calls are savepoints."""

    def __init__(self, db: SQLiteDatabase, depth: int = 0) -> None:
        self._db = db
        self._depth = depth
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise UnsupportedOperationError("this transaction has already ended")

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement inside the transaction."""
        self._check_open()
        return await self._db._call(_execute, sql, params)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping inside the transaction."""
        self._check_open()
        return await self._db._call(_execute_many, sql, params)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        self._check_open()
        rows = await self._db._call(_fetch, sql, params, 1)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        self._check_open()
        return await self._db._call(_fetch, sql, params, None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A savepoint: its changes are undone alone when its block raises."""
        self._check_open()
        name = f"agentsdb_sp_{self._depth + 1}"
        await self._db._call(_execute, f"SAVEPOINT {name}", None)
        inner = _SQLiteTransaction(self._db, self._depth + 1)
        try:
            yield inner
        except BaseException as error:
            await self._db._rollback_after(error, f"ROLLBACK TO {name}")
            await self._db._call(_execute, f"RELEASE {name}", None)
            raise
        else:
            await self._db._call(_execute, f"RELEASE {name}", None)
        finally:
            inner.closed = True


__all__ = ["SQLiteDatabase", "run_program_sync"]
