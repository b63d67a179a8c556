"""The migration runner of a remote libSQL server (sqld, Turso).

Over a WebSocket a unit of work runs as the program of
:class:`~agentsdb.db.migration_programs.ProgramMigrationRunner`: ``Begin(lock_name=...)`` takes
the lease row of :mod:`agentsdb.db.libsql.lease` for the transaction and checks it inside it.

Over HTTP there are no interactive transactions. The run holds the lease from start to end, and
each transaction becomes: its reads (autocommitted, under the lease: no other migrator writes
meanwhile), then ONE atomic batch::

    renew lease, check lease, the change's statements, [foreign key check], tracking writes,
    check lease

so a failing statement leaves nothing of its transaction, and a holder whose lease expired
commits nothing. The tracking writes commit before the statements' time is known, so the time is
recorded by one more statement after the batch. Statements that run outside a
transaction run one by one, the lease renewed and checked before each. A rehearsal runs every
unit in one batch ending in a step that always fails, so the server rolls all of it back (and,
when it fails, once more per unit to find the one that failed).

Foreign keys: ``PRAGMA foreign_keys`` does nothing inside a transaction, and a client's separate
request may run on another server connection, so a rebuild (``foreign_keys_off``) whose
statements can fire foreign key actions (DROP TABLE, INSERT, UPDATE, DELETE, REPLACE or WITH;
with keys on, the ``DROP TABLE`` of a rebuild would cascade into the rows that refer to the
table) runs, when the server has keys on, as a batch that switches them off on its own
connection before its ``BEGIN`` and back on after (:mod:`agentsdb.db.libsql.keys_off`), with the
foreign key check inside it. Such a transaction goes as a batch over a WebSocket too (taking the
lease for itself).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from agentsdb.db.base import (
    Database,
    ExecuteResult,
    FetchAll,
    FetchOne,
    Operation,
    Params,
    Program,
)
from agentsdb.db.libsql import lease as libsql_lease
from agentsdb.db.migration_programs import ProgramMigrationRunner, elapsed_ms
from agentsdb.db.migration_runner import (
    Change,
    Decide,
    MigrationProgram,
    Record,
    Rehearsal,
    Statement,
    TrackingCatalog,
)
from agentsdb.db.program import drive
from agentsdb.db.sqlite.tracking import tracking_catalog
from agentsdb.errors import (
    AgentsDBError,
    DatabaseBusyError,
    DatabaseError,
    ForeignKeyViolationError,
    MigrationLockError,
    UnsupportedOperationError,
)

log = logging.getLogger("agentsdb.db.libsql")

T = TypeVar("T")

_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
# Statements that can fire foreign key actions (a DROP TABLE deletes every row first).
_FIRES_ACTIONS = re.compile(r"(?:DROP\s+TABLE|DELETE|UPDATE|INSERT|REPLACE|WITH)\b", re.IGNORECASE)


def _fires_foreign_key_actions(statement: str) -> bool:
    body = _LEADING_COMMENTS.sub("", statement, count=1)
    return _FIRES_ACTIONS.match(body) is not None


@dataclass(frozen=True, slots=True)
class _Call:
    """A fragment's step that this runner awaits itself."""

    call: Callable[[], Awaitable[Any]]


def _one(op: Operation) -> Program[Any]:
    result = yield op
    return result


class LeasedDatabase(Database, Protocol):
    """A libSQL database as this runner uses it: ``lease_seconds`` is how long a lease lasts
    (:class:`~agentsdb.db.libsql.database.LibsqlDatabase`, which builds the runner)."""

    lease_seconds: float

    async def execute_batch(
        self, statements: Sequence[tuple[str, Params | None]], *, foreign_keys_off: bool = False
    ) -> list[ExecuteResult]:
        """Run statements atomically in one request (see ``LibsqlDatabase.execute_batch``)."""
        ...


class LibsqlMigrationRunner:
    """A :class:`~agentsdb.db.migration_runner.MigrationRunner` for a libSQL server."""

    def __init__(self, db: LeasedDatabase, lock_name: str, lock_timeout: float) -> None:
        self._db = db
        self._lock_name = lock_name
        self._lock_timeout = lock_timeout
        self._programs = ProgramMigrationRunner(
            db,
            lock_name,
            lock_timeout,
            tracking_catalog,
            keys_off=("PRAGMA foreign_keys = OFF",),
            keys_on=("PRAGMA foreign_keys = ON",),
            foreign_key_check="PRAGMA foreign_key_check",
        )
        self._batched = not db.interactive_transactions
        self._lease: libsql_lease.Lease | None = None
        self._server_keys_on: bool | None = None

    @property
    def own_tables(self) -> tuple[str, ...]:
        """The lease's tables (see :mod:`agentsdb.db.libsql.lease`)."""
        return libsql_lease.TABLES

    def tracking_catalog(self, table: str) -> TrackingCatalog:
        """SQLite's (:mod:`agentsdb.db.sqlite.tracking`), leaving out the lease's tables."""
        return tracking_catalog(table, self.own_tables)

    # --- driving programs ----------------------------------------------------------------------

    async def run(self, program: MigrationProgram[T]) -> T:
        if not self._batched or self._lease is not None:
            return await self._drive(program)
        self._lease = await self._acquire()
        try:
            return await self._drive(program)
        finally:
            lease, self._lease = self._lease, None
            await self._release(lease)

    async def _drive(self, program: MigrationProgram[T]) -> T:
        return await drive(program, self._perform)

    async def _perform(self, op: _Call | Operation) -> Any:
        if isinstance(op, _Call):
            return await op.call()
        return await self._db.run(_one(op))

    async def _reads(self, decide: Decide) -> Record | None:
        """Drive a program of reads with autocommitted queries (the lease keeps them stable)."""
        value: Any = None
        error: AgentsDBError | None = None
        try:
            while True:
                try:
                    op = decide.send(value) if error is None else decide.throw(error)
                except StopIteration as stop:
                    record: Record | None = stop.value
                    return record
                error = None
                if not isinstance(op, FetchAll | FetchOne):
                    raise UnsupportedOperationError(
                        f"a migration's reads may only fetch, got {type(op).__name__}"
                    )
                try:
                    if isinstance(op, FetchAll):
                        value = await self._db.fetch_all(op.sql, op.params)
                    else:
                        value = await self._db.fetch_one(op.sql, op.params)
                except AgentsDBError as failure:
                    error, value = failure, None
        finally:
            decide.close()

    # --- the lease -------------------------------------------------------------------------------

    async def _acquire(self) -> libsql_lease.Lease:
        await self._db.execute_batch([(sql, None) for sql in libsql_lease.CREATE])
        try:
            return await libsql_lease.acquire(
                self._db.fetch_all,
                self._lock_name,
                seconds=self._db.lease_seconds,
                wait=self._lock_timeout,
            )
        except DatabaseBusyError as error:
            raise MigrationLockError(self._lock_timeout) from error

    async def _release(self, lease: libsql_lease.Lease) -> None:
        sql, params = lease.release()
        try:
            await self._db.execute(sql, params)
        except AgentsDBError as error:
            log.warning("could not release the migration lease; it expires on its own: %s", error)

    @asynccontextmanager
    async def _leased(self) -> AsyncIterator[libsql_lease.Lease]:
        """The run's lease, or one taken for this unit of work only."""
        if self._lease is not None:
            yield self._lease
            return
        lease = await self._acquire()
        try:
            yield lease
        finally:
            await self._release(lease)

    async def _guarded(
        self, lease: libsql_lease.Lease, body: Sequence[Statement], *, keys_off: bool = False
    ) -> None:
        """One atomic batch: renew and check the lease, ``body``, check the lease again.

        Raises LeaseLostError (and commits nothing) when the lease was lost.
        """
        try:
            await self._db.execute_batch(
                [lease.renew(), lease.guard(), *body, lease.guard()], foreign_keys_off=keys_off
            )
        except AgentsDBError as error:
            lost = libsql_lease.lost(error, lease)
            if lost is None:
                raise
            raise lost from error

    # --- foreign keys ----------------------------------------------------------------------------

    async def _server_keys(self) -> bool:
        """Whether the server's connections have foreign keys on (read once, when it matters)."""
        if self._server_keys_on is None:
            row = await self._db.fetch_one("PRAGMA foreign_keys")
            self._server_keys_on = row is not None and bool(int(next(iter(row.values()))))
        return self._server_keys_on

    async def _keys_off(self, change: Change) -> bool:
        """Whether ``change``'s batch must switch the server's foreign keys off."""
        return change.foreign_keys_off and await self._server_keys()

    async def _as_batches(self, changes: Sequence[Change]) -> bool:
        """Always over HTTP; over a WebSocket when a rebuild could fire foreign key actions
        while the server has foreign keys on (only a batch can switch them off)."""
        if self._batched:
            return True
        risky = any(
            change.foreign_keys_off and any(map(_fires_foreign_key_actions, change.statements))
            for change in changes
        )
        return risky and await self._server_keys()

    @staticmethod
    def _body(change: Change) -> list[Statement]:
        body: list[Statement] = [(statement, None) for statement in change.statements]
        if change.foreign_keys_off:
            body.append((libsql_lease.FOREIGN_KEY_GUARD, None))
        return body

    @staticmethod
    def _explain(error: AgentsDBError, change: Change) -> AgentsDBError:
        if libsql_lease.failed_constraint(error, libsql_lease.FOREIGN_KEY_VIOLATIONS):
            return ForeignKeyViolationError(
                f"{change.label} leaves foreign key violations (see PRAGMA foreign_key_check)"
            )
        return error

    # --- the fragments ---------------------------------------------------------------------------

    def create(self, statements: Sequence[str]) -> MigrationProgram[None]:
        if self._batched:
            batch = [(statement, None) for statement in statements]
            yield _Call(lambda: self._db.execute_batch(batch))
        else:
            yield _Call(lambda: self._db.run(self._programs.create(statements)))

    def transact(
        self,
        change: Change,
        decide: Decide,
        *,
        timing: Callable[[float], Statement] | None = None,
    ) -> MigrationProgram[float | None]:
        as_batch = yield _Call(lambda: self._as_batches([change]))
        if as_batch:
            call = _Call(partial(self._transact_batch, change, decide, timing))
        else:
            call = _Call(partial(self._db.run, self._programs.transact(change, decide)))
        elapsed: float | None = yield call
        return elapsed

    async def _transact_batch(
        self, change: Change, decide: Decide, timing: Callable[[float], Statement] | None
    ) -> float | None:
        async with self._leased() as lease:
            record = await self._reads(decide)
            if record is None:
                return None
            keys_off = await self._keys_off(change)
            started = time.perf_counter()
            try:
                await self._guarded(lease, [*self._body(change), *record(None)], keys_off=keys_off)
            except AgentsDBError as error:
                failure = self._explain(error, change)
                if failure is error:
                    raise
                raise failure from error
            elapsed = elapsed_ms(started)
            if timing is not None:
                # The batch has committed: this only fills in the time on its row, so it needs
                # no lease (a lease lost meanwhile is noticed by the next guarded batch).
                await self._db.execute(*timing(elapsed))
            return elapsed

    def run_alone(self, statements: Sequence[str]) -> MigrationProgram[None]:
        if self._batched:
            yield _Call(lambda: self._run_alone(statements))
        else:
            yield _Call(lambda: self._db.run(self._programs.run_alone(statements)))

    async def _run_alone(self, statements: Sequence[str]) -> None:
        """Each statement on its own (autocommitted), the lease renewed and checked before it."""
        async with self._leased() as lease:
            for statement in statements:
                await self._guarded(lease, [])
                await self._db.execute(statement)

    def rehearse(self, units: Sequence[Change]) -> MigrationProgram[Rehearsal]:
        as_batch = yield _Call(lambda: self._as_batches(units))
        if as_batch:
            call = _Call(partial(self._rehearse_batch, units))
        else:
            call = _Call(partial(self._db.run, self._programs.rehearse(units)))
        rehearsal: Rehearsal = yield call
        return rehearsal

    async def _rehearse_batch(self, units: Sequence[Change]) -> Rehearsal:
        """Every unit in one batch whose last step fails, so nothing is kept."""
        keys_off = bool(units) and await self._keys_off(units[0])
        steps: list[Statement] = []
        ends: list[int] = []  # where each included unit's steps end
        stopped = False
        for unit in units:
            if await self._keys_off(unit) != keys_off:
                stopped = True
                break
            steps.extend(self._body(unit))
            ends.append(len(steps))
        started = time.perf_counter()
        error = await self._rolled_back_batch(steps, keys_off)
        if error is None:
            each = round(elapsed_ms(started) / max(len(ends), 1), 3)
            return Rehearsal(tuple(each for _ in ends), None, stopped, keys_off)
        # The batch reports the first failing step, not which unit it belongs to: find it.
        for index, end in enumerate(ends):
            failure = await self._rolled_back_batch(steps[:end], keys_off)
            if failure is not None:
                failed = self._explain(failure, units[index])
                return Rehearsal(tuple(0.0 for _ in range(index)), failed, False, keys_off)
        raise error

    async def _rolled_back_batch(
        self, steps: Sequence[Statement], keys_off: bool
    ) -> AgentsDBError | None:
        """Run ``steps`` in a batch that always rolls back; the error of a failing step, if any."""
        # The guard table is created inside the batch, so the rehearsal leaves nothing at all.
        create: list[Statement] = [(sql, None) for sql in libsql_lease.CREATE]
        try:
            await self._db.execute_batch(
                [*create, *steps, (libsql_lease.REHEARSAL_END, None)], foreign_keys_off=keys_off
            )
        except AgentsDBError as error:
            if libsql_lease.failed_constraint(error, libsql_lease.REHEARSAL_DONE):
                return None
            return error
        raise DatabaseError("the rehearsal batch committed although its last step must fail")


__all__ = ["LibsqlMigrationRunner"]
