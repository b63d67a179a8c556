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

libsql-client ships no type information, so this module talks to it through the small
protocols below, and imports it (and aiohttp, which it depends on) only when a database opens.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

from agentsdb.db.base import (
    Atomic,
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
    Step,
    Transaction,
)
from agentsdb.db.libsql import capabilities
from agentsdb.db.libsql import keys_off as libsql_keys_off
from agentsdb.db.libsql import lease as libsql_lease
from agentsdb.db.libsql.errors import (
    TRANSACTION_TIMEOUT,
    translate_connection_error,
    translate_libsql_error,
)
from agentsdb.db.placeholders import translate as translate_placeholders
from agentsdb.db.program import run_program_async
from agentsdb.db.sqlite.integrity import check_sql, problems_of
from agentsdb.db.task_lock import TaskLock
from agentsdb.db.url import credentials_of, obscure_password
from agentsdb.errors import (
    AgentsDBError,
    ConfigurationError,
    ConnectionClosedError,
    DatabaseError,
    UnsupportedBackendError,
    UnsupportedOperationError,
)

log = logging.getLogger("agentsdb.db.libsql")

T = TypeVar("T")

Transport = Literal["ws", "http"]
DriverArgs: TypeAlias = dict[str, Any] | None

_MIN_INTEGER = -(2**63)
_MAX_INTEGER = 2**63 - 1
_MANY_SAVEPOINT = "agentsdb_execute_many"
#: The most statements an Atomic sends over a WebSocket as one batch (see _batches).
_WS_BATCH_STATEMENTS = 256


# --- the parts of libsql-client this module uses -------------------------------------------------


class _DriverRow(Protocol):
    def asdict(self) -> dict[str, Any]: ...


class _DriverResultSet(Protocol):
    @property
    def rows(self) -> Sequence[_DriverRow]: ...

    @property
    def rows_affected(self) -> int: ...

    @property
    def last_insert_rowid(self) -> int | None: ...


class _DriverRunner(Protocol):
    """What runs a statement: the client itself, or one of its transactions."""

    async def execute(self, stmt: str, args: DriverArgs = None) -> _DriverResultSet: ...


class _DriverTransaction(_DriverRunner, Protocol):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class _DriverClient(_DriverRunner, Protocol):
    async def batch(self, stmts: list[tuple[str, DriverArgs]]) -> list[_DriverResultSet]: ...

    def transaction(self) -> _DriverTransaction: ...

    async def close(self) -> None: ...


class _DriverModule(Protocol):
    LibsqlError: type[Exception]

    def create_client(self, url: str, *, auth_token: str | None = None) -> _DriverClient: ...


@dataclass(frozen=True, slots=True)
class _Driver:
    module: _DriverModule
    libsql_error: type[Exception]
    # What escapes the client when the server cannot be reached or the socket breaks.
    connection_errors: tuple[type[BaseException], ...]


def _load_driver(url: str) -> _Driver:
    try:
        module = importlib.import_module("libsql_client")
        aiohttp = importlib.import_module("aiohttp")
    except ImportError as error:
        raise UnsupportedBackendError(
            url,
            "the libSQL backend needs libsql-client, which is not installed: "
            "pip install 'agentsdb[libsql]'",
        ) from error
    driver = cast(_DriverModule, module)
    client_error = cast(type[BaseException], aiohttp.ClientError)
    return _Driver(driver, driver.LibsqlError, (client_error, OSError))


# --- conversions ---------------------------------------------------------------------------------


def _transport(url: str) -> Transport:
    scheme = urlsplit(url).scheme.lower()
    return "http" if scheme in ("http", "https") else "ws"


def _value(name: str, value: Any, sql: str) -> Any:
    """A parameter as the client sends it, adapted the way Python's sqlite3 adapts it."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                # Sent as it is, it would make sqld close the whole WebSocket (code 1007), failing
                # every statement on the connection rather than this one.
                raise DatabaseError(
                    f"parameter {name!r} is not valid Unicode text ({error.reason})", sql=sql
                ) from error
        return value
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if not _MIN_INTEGER <= value <= _MAX_INTEGER:
            raise DatabaseError(f"parameter {name!r} does not fit in a 64-bit integer", sql=sql)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DatabaseError(
                f"parameter {name!r} is {value}; a libSQL server accepts finite floats only",
                sql=sql,
            )
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    # The same text sqlite3's default adapters store (libsql-client would send epoch millis).
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise DatabaseError(
        f"parameter {name!r} has type {type(value).__name__}, which cannot be stored; pass "
        "str, int, float, bytes or None",
        sql=sql,
    )


def _args(sql: str, params: Params | None) -> DriverArgs:
    """The statement's named arguments: only the names it uses, because a libSQL server rejects
    a statement given a parameter it does not use (ARGS_INVALID), while sqlite3 and asyncpg
    ignore extras, and the repositories pass one mapping to statements using parts of it."""
    if not params:
        return None
    used = _names_used(sql)
    return {
        name: _value(name, value, sql)
        for name, value in params.items()
        if used is None or name in used
    }


def _names_used(sql: str) -> frozenset[str] | None:
    """The ``:name`` placeholders of ``sql`` (cached per statement); None if it cannot tell."""
    try:
        return frozenset(translate_placeholders(sql).names)
    except ConfigurationError:
        return None


def _execute_result(result: _DriverResultSet) -> ExecuteResult:
    return ExecuteResult(max(result.rows_affected, 0), result.last_insert_rowid or None)


def _sum_results(results: Sequence[_DriverResultSet]) -> ExecuteResult:
    if not results:
        return ExecuteResult(0)
    total = sum(max(result.rows_affected, 0) for result in results)
    return ExecuteResult(total, results[-1].last_insert_rowid or None)


def _rows(result: _DriverResultSet) -> list[Row]:
    return [row.asdict() for row in result.rows]


def _timed_out(error: BaseException | None) -> bool:
    """Whether ``error`` says the server rolled the transaction back on its own."""
    cause = None if error is None else error.__cause__
    return getattr(cause, "code", None) == TRANSACTION_TIMEOUT


# --- the database --------------------------------------------------------------------------------


class LibsqlDatabase:
    """A remote libSQL database behind the :class:`~agentsdb.db.base.Database` API.

    Open it with :func:`agentsdb.connect` (``auth_token=`` for Turso).
    """

    dialect = "sqlite"

    def __init__(self, client: _DriverClient, driver: _Driver, url: str, transport: Transport):
        self._client = client
        self._driver = driver
        self._url = url
        self._transport: Transport = transport
        self._lock = TaskLock()
        self._closed = False
        self._lease_tables = False
        #: Credentials of the URL and the auth token, masked in every message.
        self._secrets: tuple[str, ...] = ()
        #: Seconds a lease (``Begin(lock_name=...)``, the migration lock) lasts: the longest a
        #: transaction under it may run before its COMMIT is refused, and the longest a
        #: holder that died blocks the others.
        self.lease_seconds = libsql_lease.DEFAULT_LEASE_SECONDS

    @classmethod
    async def open(cls, url: str, *, auth_token: str | None = None) -> LibsqlDatabase:
        """Create the client (inside the running loop) and check that the server answers."""
        shown = obscure_password(url)
        secrets = (*credentials_of(url), auth_token or "")
        driver = _load_driver(shown)
        try:
            client = driver.module.create_client(url, auth_token=auth_token)
        except driver.libsql_error as error:
            reason = obscure_password(str(error), secrets)
            raise ConfigurationError(f"cannot open {shown!r}: {reason}") from error
        db = cls(client, driver, shown, _transport(url))
        db._secrets = secrets
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
        return self._url

    @property
    def interactive_transactions(self) -> bool:
        """True over a WebSocket (``transaction()`` works), False over HTTP."""
        return self._transport == "ws"

    def __repr__(self) -> str:
        return f"<LibsqlDatabase {self._url!r}>"

    # driver calls ------------------------------------------------------------------------------

    async def _call(self, call: Callable[[], Awaitable[T]], sql: str | None) -> T:
        """Await a driver call, translating its errors into agentsdb errors."""
        if self._closed:
            raise ConnectionClosedError(f"the database {self._url!r} is closed", sql=sql)
        try:
            return await call()
        except self._driver.libsql_error as error:
            code = str(getattr(error, "code", "UNKNOWN"))
            message = str(getattr(error, "explanation", error))
            raise translate_libsql_error(code, message, sql) from error
        except self._driver.connection_errors as error:
            raise translate_connection_error(error, self._url, sql, self._secrets) from error

    async def _execute_on(
        self, runner: _DriverRunner, sql: str, params: Params | None
    ) -> _DriverResultSet:
        args = _args(sql, params)
        return await self._call(lambda: runner.execute(sql, args), sql)

    async def _batch(
        self, statements: list[tuple[str, DriverArgs]], sql: str | None = None
    ) -> list[_DriverResultSet]:
        """Run statements as one atomic batch; ``sql`` names them in errors when they share it."""
        if not statements:
            return []
        if sql is None and len(statements) == 1:
            sql = statements[0][0]
        return await self._call(lambda: self._client.batch(statements), sql)

    def _batches(self, atomic: Atomic) -> bool:
        """Whether an Atomic outside a transaction runs as one batch (one round trip).

        Always over HTTP, the only atomic unit there. Over a WebSocket only while it is small: a
        batch is one message, and a server refuses a message over its size limit (the close code
        1009), while a transaction sends each statement as a message of its own.
        """
        if self._transport == "http":
            return True
        statements = sum(
            len(step.params) if isinstance(step, ExecuteMany) else 1 for step in atomic.steps
        )
        return statements <= _WS_BATCH_STATEMENTS

    async def _atomic_batch(self, steps: Sequence[Step]) -> list[Any]:
        """Run an Atomic's steps as one batch; each step's result, as a program receives it."""
        statements: list[tuple[str, DriverArgs]] = []
        counts: list[int] = []
        for step in steps:
            if isinstance(step, CommitOrder):
                counts.append(0)  # nothing to send: see the CommitOrder case of _Performer
            elif isinstance(step, ExecuteMany):
                statements.extend((step.sql, _args(step.sql, p)) for p in step.params)
                counts.append(len(step.params))
            else:
                statements.append((step.sql, _args(step.sql, step.params)))
                counts.append(1)
        shared = {sql for sql, _ in statements}
        results = await self._batch(statements, shared.pop() if len(shared) == 1 else None)
        received: list[Any] = []
        start = 0
        for step, count in zip(steps, counts, strict=True):
            mine = results[start : start + count]
            start += count
            match step:
                case ExecuteMany():
                    received.append(_sum_results(mine))
                case Execute():
                    received.append(_execute_result(mine[0]))
                case FetchAll():
                    received.append(_rows(mine[0]))
                case FetchOne():
                    rows = _rows(mine[0])
                    received.append(rows[0] if rows else None)
                case CommitOrder():
                    received.append(None)
        return received

    async def _pipeline_many(
        self, tx: _DriverTransaction, sql: str, params: Sequence[Params]
    ) -> ExecuteResult:
        """Inside a transaction: send every row without waiting for the one before, under a
        savepoint so that a failing row undoes the rows of this call and nothing else."""
        all_args = [_args(sql, p) for p in params]
        if not all_args:
            return ExecuteResult(0)
        await self._execute_on(tx, f"SAVEPOINT {_MANY_SAVEPOINT}", None)
        try:
            # The client sends a transaction's statements in the order they are started and the
            # server runs one stream's requests in order, so this keeps the rows' order.
            results = await self._call(
                lambda: asyncio.gather(*(tx.execute(sql, args) for args in all_args)), sql
            )
        except BaseException as error:
            await self._undo_savepoint(tx, _MANY_SAVEPOINT, error)
            raise
        await self._execute_on(tx, f"RELEASE {_MANY_SAVEPOINT}", None)
        return _sum_results(results)

    async def _undo_savepoint(
        self, tx: _DriverTransaction, name: str, error: BaseException
    ) -> None:
        try:
            await self._execute_on(tx, f"ROLLBACK TO {name}", None)
            await self._execute_on(tx, f"RELEASE {name}", None)
        except AgentsDBError as undo_error:
            error.add_note(
                f"agentsdb: ROLLBACK TO {name} after this error also failed: {undo_error}"
            )

    async def _fetch_autocommit(self, sql: str, params: Params | None) -> list[Row]:
        """One statement on its own (a fresh stream over ws); the caller holds ``_exclusive``."""
        return _rows(await self._execute_on(self._client, sql, params))

    async def _ensure_lease_tables(self) -> None:
        if not self._lease_tables:
            await self._batch([(sql, None) for sql in libsql_lease.CREATE])
            self._lease_tables = True

    async def _take_lease(self, name: str, wait: float | None) -> libsql_lease.Lease:
        """Take the lease ``name`` (see agentsdb.db.libsql.lease); the caller holds ``_exclusive``.

        ``wait=None`` waits up to one lease length: the longest a dead holder can block.
        """
        await self._ensure_lease_tables()
        seconds = self.lease_seconds
        patience = seconds if wait is None else wait
        return await libsql_lease.acquire(
            self._fetch_autocommit, name, seconds=seconds, wait=patience
        )

    async def _release_lease(self, lease: libsql_lease.Lease) -> None:
        """Release a lease; on failure it simply expires."""
        sql, params = lease.release()
        try:
            await self._execute_on(self._client, sql, params)
        except AgentsDBError as error:
            log.warning(
                "could not release the lease %r; it expires on its own: %s", lease.name, error
            )

    async def _check_lease(self, tx: _DriverTransaction, lease: libsql_lease.Lease) -> None:
        """Inside ``tx``: fail unless ``lease`` is still ours and unexpired."""
        sql, params = lease.guard()
        try:
            await self._execute_on(tx, sql, params)
        except AgentsDBError as error:
            lost = libsql_lease.lost(error, lease)
            if lost is None:
                raise
            raise lost from error

    async def _begin(self) -> _DriverTransaction:
        async def begin() -> _DriverTransaction:
            # A plain call: the client queues BEGIN on a new stream and returns at once; a
            # failed BEGIN shows in the transaction's next statement.
            return self._client.transaction()

        return await self._call(begin, "BEGIN")

    async def _finish(
        self, tx: _DriverTransaction, *, commit: bool, ended_by: BaseException | None = None
    ) -> None:
        """COMMIT or ROLLBACK; ``ended_by`` is the error that made the caller roll back."""
        if commit:
            await self._call(tx.commit, "COMMIT")
            return
        try:
            await self._call(tx.rollback, "ROLLBACK")
        except DatabaseError as error:
            # The server already rolled it back (see libsql_errors.TRANSACTION_TIMEOUT), and
            # said so to this ROLLBACK or to the request before it: what ROLLBACK asked for is
            # done, and the error that ended the block is the one to report.
            gone = _timed_out(error) or (
                _timed_out(ended_by) and "no transaction is active" in str(error)
            )
            if not gone:
                raise
            log.debug("ROLLBACK of a transaction the server had already rolled back: %s", error)

    def _require_interactive(self, what: str) -> None:
        if self._transport != "ws":
            raise UnsupportedOperationError(
                f"{what} needs an interactive transaction, which libSQL offers only over a "
                f"WebSocket; {self._url!r} uses HTTP. Connect with a ws://, wss:// or libsql:// "
                "URL, or run the statements atomically with execute_batch()"
            )

    def _exclusive(self) -> AbstractAsyncContextManager[None]:
        return self._lock.hold()

    # Executor ----------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement (autocommitted) and report what it changed."""
        async with self._exclusive():
            return _execute_result(await self._execute_on(self._client, sql, params))

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping, atomically, in one request (a batch)."""
        async with self._exclusive():
            statements = [(sql, _args(sql, p)) for p in params]
            return _sum_results(await self._batch(statements, sql))

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        async with self._exclusive():
            rows = _rows(await self._execute_on(self._client, sql, params))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        async with self._exclusive():
            return _rows(await self._execute_on(self._client, sql, params))

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
            driver_statements = [(sql, _args(sql, params)) for sql, params in statements]
            if foreign_keys_off:
                http = self._transport == "http"
                sets = await self._call(
                    lambda: libsql_keys_off.run(self._client, driver_statements, http=http), None
                )
                return [_execute_result(result) for result in sets]
            return [_execute_result(result) for result in await self._batch(driver_statements)]

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
            return await run_program_async(program, _Performer(self), native_atomic=self._batches)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction over the WebSocket: commits on success, rolls back on error.

        Raises UnsupportedOperationError at once over HTTP.
        """
        self._require_interactive("transaction()")
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Transaction]:
        async with self._exclusive():
            driver_tx = await self._begin()
            tx = _LibsqlTransaction(self, driver_tx)
            try:
                yield tx
            except BaseException as error:
                try:
                    await self._finish(driver_tx, commit=False, ended_by=error)
                except AgentsDBError as rollback_error:
                    error.add_note(
                        f"agentsdb: ROLLBACK after this error also failed: {rollback_error}"
                    )
                raise
            else:
                await self._finish(driver_tx, commit=True)
            finally:
                tx.closed = True

    async def check_integrity(self, *, quick: bool = False) -> list[str]:
        """The problems the server's ``PRAGMA integrity_check`` (``quick``: ``quick_check``)
        finds in its database file; empty when it is sound."""
        rows = await self.fetch_all(check_sql(quick=quick))
        return problems_of([next(iter(row.values())) for row in rows])

    async def close(self) -> None:
        """Close the client; later calls raise ConnectionClosedError."""
        if self._closed:
            return
        async with self._lock.hold():
            self._closed = True
            try:
                await self._client.close()
            except (self._driver.libsql_error, *self._driver.connection_errors) as error:
                log.debug("closing %s: %s", self._url, error)

    # --- capabilities (see Database in agentsdb.db.base) ----------------------------------------
    # ``interactive_transactions`` is above: True over a WebSocket, False over HTTP.

    @property
    def json_decoded(self) -> bool:
        """False: JSON columns are TEXT and come back as JSON text."""
        return False

    @property
    def temp_tables_persist(self) -> bool:
        """False: the server may run consecutive requests on different connections."""
        return False

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Params],
        *,
        key: str = "id",
        before: Sequence[Step] = (),
    ) -> Program[list[int]]:
        """One ``executemany`` and ``last_insert_rowid()`` (see ``capabilities.insert_rows``)."""
        return capabilities.insert_rows(table, columns, rows, key, before)

    async def table_columns(self, table: str) -> tuple[str, ...]:
        """The column names of ``table`` in declaration order (``pragma_table_info``)."""
        rows = await self.fetch_all(capabilities.TABLE_COLUMNS, {"table": table})
        return tuple(str(row["name"]) for row in rows)


class _Performer:
    """Runs a program's operations on a LibsqlDatabase (see agentsdb.db.program)."""

    def __init__(self, db: LibsqlDatabase) -> None:
        self._db = db
        self._tx: _DriverTransaction | None = None
        self._lease: libsql_lease.Lease | None = None

    @property
    def in_transaction(self) -> bool:
        return self._tx is not None

    def _runner(self) -> _DriverRunner:
        return self._tx if self._tx is not None else self._db._client

    async def perform(self, op: Operation) -> Any:
        db = self._db
        match op:
            case Execute(sql, params):
                return _execute_result(await db._execute_on(self._runner(), sql, params))
            case FetchAll(sql, params):
                return _rows(await db._execute_on(self._runner(), sql, params))
            case FetchOne(sql, params):
                rows = _rows(await db._execute_on(self._runner(), sql, params))
                return rows[0] if rows else None
            case ExecuteMany(sql, params_list):
                if self._tx is not None:
                    return await db._pipeline_many(self._tx, sql, params_list)
                statements = [(sql, _args(sql, p)) for p in params_list]
                return _sum_results(await db._batch(statements, sql))
            case CommitOrder():
                # A libSQL server runs one write transaction at a time (SQLite underneath), so
                # rows already commit in the order they were inserted.
                return None
            case Atomic(steps):
                # Only outside a transaction (run_program_async expands the others): one batch.
                return await db._atomic_batch(steps)
            case Begin(lock_timeout, lock_name):
                db._require_interactive("a program that yields Begin")
                if self._tx is not None:
                    raise DatabaseError(
                        "cannot start a transaction within a transaction", sql="BEGIN"
                    )
                if lock_name is not None:
                    self._lease = await db._take_lease(lock_name, lock_timeout)
                try:
                    self._tx = await db._begin()
                    if self._lease is not None:
                        # The first statement, a write: it also takes the write lock at once.
                        await db._check_lease(self._tx, self._lease)
                except BaseException:
                    await self.abort()
                    raise
                return None
            case Commit():
                if self._tx is None:
                    raise DatabaseError("cannot commit - no transaction is active", sql="COMMIT")
                if self._lease is not None:
                    try:
                        await db._check_lease(self._tx, self._lease)
                    except BaseException:
                        await self.abort()
                        raise
                committing, self._tx = self._tx, None
                try:
                    await db._finish(committing, commit=True)
                finally:
                    await self._release()
                return None
            case Rollback():
                tx, self._tx = self._tx, None
                try:
                    if tx is not None:
                        await db._finish(tx, commit=False)
                finally:
                    await self._release()
                return None
        raise TypeError(f"a program yielded {op!r}, which is not an agentsdb operation")

    async def abort(self) -> None:
        tx, self._tx = self._tx, None
        try:
            if tx is not None:
                await self._db._finish(tx, commit=False)
        except AgentsDBError as error:
            # The client closes the stream even when ROLLBACK fails, and the server rolls back
            # a transaction whose stream closes; the program's own error is the one to report.
            log.debug("rollback after a failed program: %s", error)
        finally:
            await self._release()

    async def _release(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            await self._db._release_lease(lease)


class _LibsqlTransaction:
    """An open transaction on a LibsqlDatabase; nested ``transaction()`` calls are savepoints."""

    def __init__(self, db: LibsqlDatabase, tx: _DriverTransaction, depth: int = 0) -> None:
        self._db = db
        self._tx = tx
        self._depth = depth
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise UnsupportedOperationError("this transaction has already ended")

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement inside the transaction."""
        self._check_open()
        return _execute_result(await self._db._execute_on(self._tx, sql, params))

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping; a failure undoes all of them (a savepoint)."""
        self._check_open()
        return await self._db._pipeline_many(self._tx, sql, params)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        self._check_open()
        rows = _rows(await self._db._execute_on(self._tx, sql, params))
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        self._check_open()
        return _rows(await self._db._execute_on(self._tx, sql, params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A savepoint: its changes are undone alone when its block raises."""
        self._check_open()
        name = f"agentsdb_sp_{self._depth + 1}"
        await self._db._execute_on(self._tx, f"SAVEPOINT {name}", None)
        inner = _LibsqlTransaction(self._db, self._tx, self._depth + 1)
        try:
            yield inner
        except BaseException as error:
            await self._db._undo_savepoint(self._tx, name, error)
            raise
        else:
            await self._db._execute_on(self._tx, f"RELEASE {name}", None)
        finally:
            inner.closed = True


__all__ = ["LibsqlDatabase"]
