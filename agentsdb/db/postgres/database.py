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
  :func:`~agentsdb.db.program.run_program_async`. ``Begin(lock_timeout)`` sends
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
import importlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

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
from agentsdb.db.placeholders import translate as translate_sql
from agentsdb.db.postgres import capabilities
from agentsdb.db.postgres.errors import (
    failed_before_sending,
    is_connection_lost,
    is_driver_error,
    leaves_connection_unusable,
    translate,
    translate_connect_error,
    translate_lost,
)
from agentsdb.db.postgres.pool import ConnectionPool, DriverConnection, DriverRecord, Lease
from agentsdb.db.program import run_program_async
from agentsdb.db.url import credentials_of
from agentsdb.errors import (
    AgentsDBError,
    ConfigurationError,
    ConnectionLostError,
    DatabaseBusyError,
    DatabaseError,
    UnsupportedBackendError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    from agentsdb.db.base import Database

log = logging.getLogger("agentsdb.db.postgres")

T = TypeVar("T")

_COUNTED_COMMANDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
_ABORTED_COMMIT = (
    "the transaction was rolled back, not committed: a statement in it had failed, and "
    "PostgreSQL ignores the rest of a transaction after an error. Nothing of it was kept. To "
    "carry on after an expected error, run the statement in a nested transaction (a "
    "savepoint): async with tx.transaction() as inner: ..."
)

# --- options -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """The options ``connect()`` accepts for a PostgreSQL URL."""

    #: Connections opened at start (at least one is always opened, to check the URL).
    min_size: int = 1
    #: The most connections open at once; more concurrent callers wait for one.
    max_size: int = 10
    #: Seconds a statement may run before it is cancelled (None: no limit).
    command_timeout: float | None = None
    #: Seconds to wait for a new connection to the server.
    connect_timeout: float = 10.0
    #: Seconds a statement waits for a lock before DatabaseBusyError (None: server's setting).
    lock_timeout: float | None = None
    #: Prepared statements asyncpg keeps per connection (0 for PgBouncer transaction pooling).
    statement_cache_size: int = 100
    #: Server settings for every connection, such as {"search_path": "app"}.
    server_settings: Mapping[str, str] = field(default_factory=dict)


_OPTION_NAMES = frozenset(PostgresOptions.__dataclass_fields__)


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _seconds(name: str, value: Any, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        allowed = " or None" if optional else ""
        raise ConfigurationError(
            f"{name} must be a non-negative number of seconds{allowed}, got {value!r}"
        )
    return float(value)


def lock_timeout_ms(seconds: float) -> int:
    """PostgreSQL's lock_timeout in milliseconds; at least 1, because 0 means "wait forever"."""
    return max(1, round(seconds * 1000))


def parse_options(options: Mapping[str, Any]) -> PostgresOptions:
    """Check ``connect()`` options for a PostgreSQL URL; ConfigurationError names a bad one."""
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) for a PostgreSQL database: {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(_OPTION_NAMES))}"
        )
    defaults = PostgresOptions()
    min_size = _count("min_size", options.get("min_size", defaults.min_size), 0)
    max_size = _count("max_size", options.get("max_size", defaults.max_size), 1)
    if min_size > max_size:
        raise ConfigurationError(f"min_size ({min_size}) must not exceed max_size ({max_size})")
    command_timeout = _seconds("command_timeout", options.get("command_timeout"), optional=True)
    if command_timeout == 0:
        raise ConfigurationError("command_timeout must be positive, or None for no limit")
    connect_timeout = _seconds(
        "connect_timeout", options.get("connect_timeout", defaults.connect_timeout), optional=False
    )
    settings = options.get("server_settings", {})
    if not isinstance(settings, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in settings.items()
    ):
        raise ConfigurationError(
            f"server_settings must map setting names to string values, got {settings!r}"
        )
    return PostgresOptions(
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        connect_timeout=cast(float, connect_timeout),
        lock_timeout=_seconds("lock_timeout", options.get("lock_timeout"), optional=True),
        statement_cache_size=_count(
            "statement_cache_size",
            options.get("statement_cache_size", defaults.statement_cache_size),
            0,
        ),
        server_settings=dict(settings),
    )


def _server_settings(options: PostgresOptions) -> dict[str, str]:
    settings = {"application_name": "agentsdb", **options.server_settings}
    if options.lock_timeout is not None:
        if "lock_timeout" in options.server_settings:
            raise ConfigurationError(
                "lock_timeout is given twice (as an option and in server_settings); keep one"
            )
        settings["lock_timeout"] = str(lock_timeout_ms(options.lock_timeout))
    return settings


# --- the driver ----------------------------------------------------------------------------------


class _Asyncpg(Protocol):
    """The asyncpg module, as far as agentsdb uses it."""

    def connect(
        self,
        dsn: str,
        *,
        timeout: float,
        command_timeout: float | None,
        statement_cache_size: int,
        server_settings: dict[str, str],
    ) -> Awaitable[object]:
        """Open one connection."""
        ...


def _load_driver(url: str) -> _Asyncpg:
    try:
        module = importlib.import_module("asyncpg")
    except ImportError as error:
        raise UnsupportedBackendError(
            url,
            "the PostgreSQL driver asyncpg is not installed; install the extra: "
            "pip install 'agentsdb[postgres]'",
        ) from error
    return cast(_Asyncpg, module)


def encode_json(value: Any) -> str:
    """A ``json``/``jsonb`` parameter: a ``str`` is JSON text already, anything else is dumped."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def _install_json_codecs(connection: DriverConnection) -> None:
    for typename in ("json", "jsonb"):
        await connection.set_type_codec(
            typename, encoder=encode_json, decoder=json.loads, schema="pg_catalog"
        )


# --- statements on one connection ----------------------------------------------------------------


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


def _is_read(sql: str) -> bool:
    try:
        return translate_sql(sql).read_only
    except ConfigurationError:
        return False


def _may_run_again(error: ConnectionLostError, *, read: bool, lease: Lease) -> bool:
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


class _Session:
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
                write = sql is not None and not _is_read(sql)
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

    async def rollback(self) -> None:
        if self.in_transaction:
            await self.command("ROLLBACK")

    async def undo_after(self, error: BaseException, sql: str) -> None:
        """Roll back after ``error``; if that fails too, note it on ``error`` and drop the
        connection (the pool closes it, and the server rolls back what was left)."""
        if self._connection.is_closed():
            # The server ended the session, and with it the transaction.
            self._lease.broken = True
            return
        try:
            await self.command(sql)
        except AgentsDBError as undo_error:
            self._lease.broken = True
            error.add_note(f"agentsdb: {sql} after this error also failed: {undo_error}")


class _Performer:
    """Runs a program's operations on one connection (see run_program_async).

    When the program's first operation fails because the server had ended the pooled
    connection, and running it again cannot do anything twice (a BEGIN, a read-only query, or a
    statement asyncpg never sent), the program moves to a fresh connection and the operation
    runs there. Later operations are never run again.
    """

    __slots__ = ("_lease", "_performed", "_pool", "_session")

    def __init__(self, pool: ConnectionPool, lease: Lease) -> None:
        self._pool = pool
        self._lease: Lease | None = lease
        self._session = _Session(lease)
        self._performed = False

    @property
    def lease(self) -> Lease | None:
        """The connection the program holds now, for the caller to release (None if none)."""
        return self._lease

    @property
    def in_transaction(self) -> bool:
        return self._lease is not None and self._session.in_transaction

    async def perform(self, op: Operation) -> Any:
        first, self._performed = not self._performed, True
        lease = self._lease
        try:
            return await self._perform(op)
        except ConnectionLostError as error:
            repeatable = isinstance(op, Begin) or (
                isinstance(op, FetchOne | FetchAll) and _is_read(op.sql)
            )
            if not (
                first and lease is not None and _may_run_again(error, read=repeatable, lease=lease)
            ):
                raise
            log.info("running a program on a new connection after: %s", error)
        self._lease = None
        await self._pool.release(lease)
        self._lease = await self._pool.acquire(fresh=True)
        self._session = _Session(self._lease)
        return await self._perform(op)

    async def _perform(self, op: Operation) -> Any:
        session = self._session
        match op:
            case Execute(sql, params):
                return await session.execute(sql, params)
            case FetchAll(sql, params):
                return await session.fetch_all(sql, params)
            case FetchOne(sql, params):
                return await session.fetch_one(sql, params)
            case ExecuteMany(sql, params_list):
                return await session.execute_many(sql, params_list)
            case CommitOrder(channel):
                await session.order_commits(channel)
                return None
            case Begin(lock_timeout, lock_name):
                await session.begin(lock_timeout, lock_name)
                return None
            case Commit():
                await session.commit()
                return None
            case Rollback():
                await session.rollback()
                return None
        raise TypeError(f"a program yielded {op!r}, which is not an agentsdb operation")

    async def abort(self) -> None:
        lease = self._lease
        if lease is None:
            return
        if lease.connection.is_closed():
            lease.broken = True  # the server ended the session, and the transaction
            return
        try:
            await self._session.command("ROLLBACK")
        except AgentsDBError as error:
            lease.broken = True
            log.warning("rolling back an unfinished program failed: %s", error)


# --- the database --------------------------------------------------------------------------------


class PostgresDatabase:
    """A PostgreSQL database behind the :class:`~agentsdb.db.base.Database` API.

    Open it with :func:`agentsdb.connect`; see the module documentation for the details.
    """

    dialect = "postgresql"

    def __init__(self, pool: ConnectionPool, url: str) -> None:
        self._pool = pool
        self._url = url
        self._transaction_tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(
        cls, dsn: str, *, url: str, options: Mapping[str, Any] | None = None
    ) -> PostgresDatabase:
        """Check the options, load asyncpg and open the pool's first connections.

        ``dsn`` is the URL handed to asyncpg; ``url`` is the same with the password obscured,
        used in messages. Options: see :class:`PostgresOptions`.
        """
        settings = parse_options(options or {})
        server_settings = _server_settings(settings)
        driver = _load_driver(url)
        secrets = credentials_of(dsn)

        async def connect() -> DriverConnection:
            try:
                raw = await driver.connect(
                    dsn,
                    timeout=settings.connect_timeout,
                    command_timeout=settings.command_timeout,
                    statement_cache_size=settings.statement_cache_size,
                    server_settings=server_settings,
                )
            except Exception as error:  # refused, unknown host, auth, no such database, bad DSN
                raise translate_connect_error(error, url, secrets) from error
            connection = cast(DriverConnection, raw)
            try:
                await _install_json_codecs(connection)
            except Exception as error:
                connection.terminate()
                raise translate_connect_error(error, url, secrets) from error
            except BaseException:
                connection.terminate()
                raise
            return connection

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
        task = asyncio.current_task()
        if task is not None and task in self._transaction_tasks:
            raise UnsupportedOperationError(
                "this task already has a transaction open on this database; run the statement "
                "through the transaction object: async with db.transaction() as tx: "
                "await tx.execute(...)"
            )

    # Executor ----------------------------------------------------------------------------------

    async def _autocommit(
        self, sql: str, statement: Callable[[_Session], Awaitable[T]], *, read: bool
    ) -> T:
        """Run one statement on a pooled connection; once more on a fresh connection when the
        first one was lost and :func:`_may_run_again` allows it."""
        self._check_task()
        lease = await self._pool.acquire()
        try:
            return await statement(_Session(lease))
        except ConnectionLostError as error:
            if not _may_run_again(error, read=read and _is_read(sql), lease=lease):
                raise
            log.info("running a statement again on a new connection after: %s", error)
        finally:
            await self._pool.release(lease)
        lease = await self._pool.acquire(fresh=True)
        try:
            return await statement(_Session(lease))
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

    # Units of work -----------------------------------------------------------------------------

    async def run(self, program: Program[T]) -> T:
        """Run a program on one connection held for its whole duration."""
        self._check_task()
        performer = _Performer(self._pool, await self._pool.acquire())
        try:
            return await run_program_async(program, performer)
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
            session = _Session(lease)
            tx = _PostgresTransaction(session, asyncio.Lock())
            try:
                yield tx
            except BaseException as error:
                await session.undo_after(error, "ROLLBACK")
                raise
            else:
                await session.commit()
            finally:
                tx.closed = True
        finally:
            if task is not None:
                self._transaction_tasks.discard(task)
            await self._pool.release(lease)

    async def _begin_transaction(self) -> Lease:
        """A connection with a transaction begun on it. A BEGIN that fails because the server
        ended an idle connection is sent again on a fresh one: nothing had happened yet."""
        lease = await self._pool.acquire()
        try:
            await _Session(lease).begin(None)
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
            await _Session(lease).begin(None)
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

    async def close(self) -> None:
        """Close every connection (waiting for those in use); later calls raise
        ConnectionClosedError. Closing twice is harmless."""
        await self._pool.close()

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

    def insert_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Params],
        *,
        key: str = "id",
        before: Sequence[capabilities.Step] = (),
    ) -> Program[list[int]]:
        """One ``INSERT … SELECT … FROM unnest(…)`` (see ``capabilities.insert_rows``)."""
        return capabilities.insert_rows(self._column_types, table, columns, rows, key, before)

    @functools.cached_property
    def _column_types(self) -> capabilities.ColumnTypes:
        """The column types ``insert_rows`` read from the catalog, kept for this Database."""
        return capabilities.ColumnTypes()

    async def table_columns(self, table: str) -> tuple[str, ...]:
        """The column names of ``table`` in the current schema, in declaration order."""
        rows = await self.fetch_all(capabilities.TABLE_COLUMNS, {"table": table})
        return tuple(str(row["name"]) for row in rows)


class _PostgresTransaction:
    """An open transaction; nested ``transaction()`` calls are savepoints.

    Its statements are serialised (one at a time on the connection), so tasks sharing it behave
    as they do on SQLite instead of failing with "another operation is in progress".
    """

    def __init__(self, session: _Session, lock: asyncio.Lock, depth: int = 0) -> None:
        self._session = session
        self._lock = lock
        self._depth = depth
        self.closed = False

    def _check_open(self) -> None:
        if self.closed:
            raise UnsupportedOperationError("this transaction has already ended")

    async def execute(self, sql: str, params: Params | None = None) -> ExecuteResult:
        """Run one statement inside the transaction."""
        self._check_open()
        async with self._lock:
            return await self._session.execute(sql, params)

    async def execute_many(self, sql: str, params: Sequence[Params]) -> ExecuteResult:
        """Run one statement per parameter mapping inside the transaction."""
        self._check_open()
        async with self._lock:
            return await self._session.execute_many(sql, params)

    async def fetch_one(self, sql: str, params: Params | None = None) -> Row | None:
        """Return the query's first row, or ``None``."""
        self._check_open()
        async with self._lock:
            return await self._session.fetch_one(sql, params)

    async def fetch_all(self, sql: str, params: Params | None = None) -> list[Row]:
        """Return every row of the query."""
        self._check_open()
        async with self._lock:
            return await self._session.fetch_all(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A savepoint: its changes are undone alone when its block raises."""
        self._check_open()
        name = f"agentsdb_sp_{self._depth + 1}"
        async with self._lock:
            await self._session.command(f"SAVEPOINT {name}")
        inner = _PostgresTransaction(self._session, self._lock, self._depth + 1)
        try:
            yield inner
        except BaseException as error:
            async with self._lock:
                await self._session.undo_after(
                    error, f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
                )
            raise
        else:
            async with self._lock:
                await self._session.command(f"RELEASE SAVEPOINT {name}")
        finally:
            inner.closed = True


if TYPE_CHECKING:

    def _satisfies_protocols(db: PostgresDatabase, tx: _PostgresTransaction) -> None:
        """mypy checks here that both classes implement the contract."""
        _db: Database = db
        _tx: Transaction = tx


__all__ = ["PostgresDatabase", "PostgresOptions", "encode_json", "parse_options"]
