"""The migration runner of a backend with interactive transactions (SQLite, PostgreSQL, libSQL
over a WebSocket): each fragment is a plain program of :mod:`agentsdb.db.base` operations.

The migration lock is ``Begin(lock_name=...)``, which each backend maps to its own lock (SQLite's
write lock, a PostgreSQL advisory lock, a libSQL lease row). A backend that enforces foreign keys
per connection (SQLite) passes the statements that switch them off and on around a rebuild's
``BEGIN`` and the query that lists violations before its ``COMMIT``, and each passes its
tracking table's SQL (``catalog``: see :class:`~agentsdb.db.migration_runner.TrackingCatalog`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from agentsdb.db.base import Begin, Commit, Database, Execute, FetchAll, Program, Rollback, Row
from agentsdb.db.migration_runner import (
    Change,
    Decide,
    MigrationProgram,
    Rehearsal,
    Statement,
    TrackingCatalog,
)
from agentsdb.errors import (
    AgentsDBError,
    DatabaseBusyError,
    ForeignKeyViolationError,
    MigrationLockError,
)

T = TypeVar("T")


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading), to the microsecond."""
    return round((time.perf_counter() - started) * 1000.0, 3)


class ProgramMigrationRunner:
    """A :class:`~agentsdb.db.migration_runner.MigrationRunner` over ``Database.run``."""

    def __init__(
        self,
        db: Database,
        lock_name: str,
        lock_timeout: float,
        catalog: Callable[[str, Sequence[str]], TrackingCatalog],
        *,
        keys_off: Sequence[str] = (),
        keys_on: Sequence[str] = (),
        foreign_key_check: str | None = None,
    ) -> None:
        self._db = db
        self._lock_name = lock_name
        self._lock_timeout = lock_timeout
        self._catalog = catalog
        self._keys_off = tuple(keys_off)
        self._keys_on = tuple(keys_on)
        self._foreign_key_check = foreign_key_check

    @property
    def own_tables(self) -> tuple[str, ...]:
        return ()

    def tracking_catalog(self, table: str) -> TrackingCatalog:
        return self._catalog(table, self.own_tables)

    async def run(self, program: MigrationProgram[T]) -> T:
        result: T = await self._db.run(program)
        return result

    def _lock(self) -> Program[None]:
        """Begin a write transaction holding the migration lock, waited for up to the timeout."""
        try:
            yield Begin(self._lock_timeout, lock_name=self._lock_name)
        except DatabaseBusyError as error:
            raise MigrationLockError(self._lock_timeout) from error

    def _switch(self, statements: Sequence[str]) -> Program[None]:
        for statement in statements:
            yield Execute(statement)

    def create(self, statements: Sequence[str]) -> MigrationProgram[None]:
        yield from self._lock()
        try:
            yield from self._switch(statements)
            yield Commit()
        except AgentsDBError:
            yield Rollback()
            raise

    def transact(
        self,
        change: Change,
        decide: Decide,
        *,
        timing: Callable[[float], Statement] | None = None,
    ) -> MigrationProgram[float | None]:
        # The time is known before the tracking writes here, so ``timing`` is never needed.
        keys_off = change.foreign_keys_off and self._foreign_key_check is not None
        if keys_off:  # PRAGMA foreign_keys does nothing inside a transaction: before BEGIN
            yield from self._switch(self._keys_off)
        try:
            yield from self._lock()
            try:
                record = yield from decide
                if record is None:
                    yield Rollback()
                    return None
                started = time.perf_counter()
                for statement in change.statements:
                    yield Execute(statement)
                if keys_off:
                    yield from self._check_foreign_keys(change.label)
                elapsed = elapsed_ms(started)
                for sql, params in record(elapsed):
                    yield Execute(sql, params)
                yield Commit()
            except AgentsDBError:
                yield Rollback()
                raise
        except AgentsDBError:
            if keys_off:
                yield from self._switch(self._keys_on)
            raise
        if keys_off:
            yield from self._switch(self._keys_on)
        return elapsed

    def run_alone(self, statements: Sequence[str]) -> MigrationProgram[None]:
        yield from self._switch(statements)

    def rehearse(self, units: Sequence[Change]) -> MigrationProgram[Rehearsal]:
        # Later units may build on earlier ones, so all of them run in one transaction that is
        # rolled back at the end. Foreign keys can only be switched before BEGIN, so the
        # rehearsal stops at the first unit needing the other setting (with keys off, a later
        # unit's cascades would not fire and the rehearsal would fail where the real run works).
        switches = self._foreign_key_check is not None
        keys_off = switches and bool(units) and units[0].foreign_keys_off
        if keys_off:
            yield from self._switch(self._keys_off)
        elapsed: list[float] = []
        failure: AgentsDBError | None = None
        stopped = False
        try:
            yield from self._lock()
            for unit in units:
                if switches and unit.foreign_keys_off != keys_off:
                    stopped = True
                    break
                started = time.perf_counter()
                try:
                    for statement in unit.statements:
                        yield Execute(statement)
                    if keys_off:
                        yield from self._check_foreign_keys(unit.label)
                except AgentsDBError as error:
                    failure = error
                    break
                elapsed.append(elapsed_ms(started))
            yield Rollback()
        except AgentsDBError:
            if keys_off:
                yield from self._switch(self._keys_on)
            raise
        if keys_off:
            yield from self._switch(self._keys_on)
        return Rehearsal(tuple(elapsed), failure, stopped, keys_off)

    def _check_foreign_keys(self, label: str) -> Program[None]:
        if self._foreign_key_check is None:
            return
        violations: list[Row] = yield FetchAll(self._foreign_key_check)
        if violations:
            shown = ", ".join(
                f"{v.get('table')} row {v.get('rowid')} -> {v.get('parent')}"
                for v in violations[:5]
            )
            raise ForeignKeyViolationError(
                f"{label} leaves {len(violations)} foreign key violation(s): {shown}"
            )


__all__ = ["ProgramMigrationRunner", "elapsed_ms"]
