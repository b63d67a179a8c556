"""How the Migrator works on a remote libSQL server (sqld, Turso).

Over a WebSocket the Migrator's own programs run unchanged: ``Begin(lock_name=...)`` takes the
lease row of :mod:`agentsdb.db.libsql.lease` for each transaction and checks it inside the
transaction. Over HTTP there are no interactive transactions, so this module applies and rolls
back migrations itself: it validates, takes the lease for the whole run, re-reads the applied set
under it, then runs each migration as ONE atomic batch::

    renew lease, check lease, the migration's statements, [foreign key check], check lease,
    tracking row

so a failing statement leaves nothing of its migration (not even tables created before it in the
same migration), and a holder whose lease expired commits nothing. A ``transactional=False``
migration runs as the Migrator runs it elsewhere: a batch records it as dirty, each statement then
runs on its own (the lease renewed and checked just before each), and a last batch records it as
applied; a failure leaves it dirty for ``repair``, which also runs here: its reads under the
lease, its one write as a guarded batch. Otherwise over HTTP:

* A rehearsal runs every pending migration in one batch that ends in a step that always fails,
  so the server rolls all of it back.
* ``migrate(use_transaction=False)`` changes nothing: a batch is always atomic.
* The tracking row's ``execution_time_ms`` is NULL: the row commits in the request that runs the
  statements, before their time is known (the returned results carry it).

Foreign keys: ``PRAGMA foreign_keys`` does nothing inside a transaction, and a client's
separate request may run on another server connection, so a ``foreign_keys=False`` migration
whose statements can fire foreign key actions (DROP TABLE, INSERT, UPDATE, DELETE, REPLACE or
WITH; with keys on, the ``DROP TABLE`` of a rebuild would cascade into the rows that refer to the
table) runs, when the server has keys on, as a batch that switches them off on its own connection
before its ``BEGIN`` and back on after (:mod:`agentsdb.db.libsql.keys_off`), with
``PRAGMA foreign_key_check`` inside it. Such a run goes as batches over a WebSocket too. A
rehearsal runs with the first migration's setting and stops at one needing the other.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from agentsdb import repair as repair_rules
from agentsdb.clock import utc_now
from agentsdb.db.base import Params, Row
from agentsdb.db.libsql import LibsqlDatabase
from agentsdb.db.libsql import lease as libsql_lease
from agentsdb.drift import kept_note, newest_fingerprint_sql, recorded
from agentsdb.errors import (
    AgentsDBError,
    DatabaseBusyError,
    DatabaseError,
    DirtyMigrationError,
    ForeignKeyViolationError,
    LeaseLostError,
    MigrationError,
    MigrationLockError,
    MigrationValidationError,
)
from agentsdb.migration import Migration
from agentsdb.results import (
    NOT_TRANSACTIONAL,
    MigrationResult,
    left_dirty,
    note_applied,
    note_lock_lost,
    other_foreign_keys,
    rehearsal_failed,
    rehearsal_skipped,
)
from agentsdb.tracking import TrackingSQL, schema_fingerprint

log = logging.getLogger("agentsdb.migrations")

Direction = Literal["up", "down"]
Record = Callable[..., dict[str, Any]]
Statement = tuple[str, Params | None]

_COOKIE = "(SELECT schema_version FROM pragma_schema_version)"
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
# Statements that can fire foreign key actions (a DROP TABLE deletes every row first).
_FIRES_ACTIONS = re.compile(r"(?:DROP\s+TABLE|DELETE|UPDATE|INSERT|REPLACE|WITH)\b", re.IGNORECASE)


def _fires_foreign_key_actions(statement: str) -> bool:
    body = _LEADING_COMMENTS.sub("", statement, count=1)
    return _FIRES_ACTIONS.match(body) is not None


def _statements(migration: Migration, direction: Direction, dialect: str) -> Sequence[str]:
    if direction == "up":
        return migration.up_statements(dialect)
    return migration.down_statements(dialect) or ()


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def for_database(
    db: object, sql: TrackingSQL, *, lock_timeout: float, record: Record
) -> LibsqlMigrations | None:
    """The libSQL strategy when ``db`` is a remote libSQL database, else None."""
    if not isinstance(db, LibsqlDatabase):
        return None
    return LibsqlMigrations(db, sql, lock_timeout=lock_timeout, record=record)


class LibsqlMigrations:
    """Migrator support for a :class:`~agentsdb.db.libsql.LibsqlDatabase` (see the module)."""

    def __init__(
        self, db: LibsqlDatabase, sql: TrackingSQL, *, lock_timeout: float, record: Record
    ) -> None:
        self._db = db
        self._sql = sql
        self._dialect = db.dialect
        self._lock_timeout = lock_timeout
        self._record = record
        self._server_keys_on: bool | None = None
        t = sql.table
        self._restamp = (
            f"UPDATE {t} SET schema_cookie = {_COOKIE}, schema_fingerprint = NULL "
            f"WHERE seq = (SELECT MAX(seq) FROM {t})"
        )
        # Only while the schema is what the newest row recorded (as Migrator._fingerprint_run).
        self._stamp_if_unchanged = (
            f"UPDATE {t} SET schema_fingerprint = :schema_fingerprint "
            f"WHERE seq = (SELECT MAX(seq) FROM {t}) AND success = 1 "
            f"AND schema_cookie = :schema_cookie AND {_COOKIE} = :schema_cookie"
        )

    @property
    def batched(self) -> bool:
        """True over HTTP: migrations run as batches here instead of as the Migrator's programs."""
        return not self._db.interactive_transactions

    async def runs_batches(self, migrations: Sequence[Migration], direction: Direction) -> bool:
        """Whether this run goes as batches (this module) rather than as the Migrator's programs.

        Always over HTTP. Over a WebSocket when a ``foreign_keys=False`` migration could fire
        foreign-key actions while the server has foreign keys on: only a batch can switch them
        off around its transaction (see :mod:`agentsdb.db.libsql.keys_off`).
        """
        if self.batched:
            await self._read_server_keys(migrations)
            return True
        risky = any(
            not migration.foreign_keys
            and any(
                _fires_foreign_key_actions(s)
                for s in _statements(migration, direction, self._dialect)
            )
            for migration in migrations
        )
        return risky and await self._read_server_keys(migrations)

    async def _read_server_keys(self, migrations: Sequence[Migration]) -> bool:
        """Whether the server's connections have foreign keys on (read once, when it matters)."""
        if self._server_keys_on is None and any(not m.foreign_keys for m in migrations):
            row = await self._db.fetch_one("PRAGMA foreign_keys")
            self._server_keys_on = row is not None and bool(int(next(iter(row.values()))))
        return bool(self._server_keys_on)

    def _keys_off(self, migration: Migration) -> bool:
        """Whether ``migration``'s batch must switch the server's foreign keys off."""
        return not migration.foreign_keys and bool(self._server_keys_on)

    # --- the lease -------------------------------------------------------------------------------

    async def _acquire(self) -> libsql_lease.Lease:
        await self._db.execute_batch([(sql, None) for sql in libsql_lease.CREATE])
        try:
            return await libsql_lease.acquire(
                self._db.fetch_all,
                self._sql.table,
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

    def _explain(self, error: AgentsDBError, migration: Migration) -> AgentsDBError:
        if libsql_lease.failed_constraint(error, libsql_lease.FOREIGN_KEY_VIOLATIONS):
            return ForeignKeyViolationError(
                f"migration {migration.id} leaves foreign key violations (see PRAGMA "
                "foreign_key_check)"
            )
        return error

    def _body(self, migration: Migration, direction: Direction) -> list[Statement]:
        statements = _statements(migration, direction, self._dialect)
        body: list[Statement] = [(statement, None) for statement in statements]
        if not migration.foreign_keys:
            body.append((libsql_lease.FOREIGN_KEY_GUARD, None))
        return body

    # --- apply ------------------------------------------------------------------------------------

    async def apply(
        self, pending: Sequence[Migration], note: str | None = None
    ) -> list[MigrationResult]:
        """Apply ``pending`` (already validated), one batch each, under the migration lease.

        ``note``: drift found before the run, kept on the fingerprint it records."""
        lease = await self._acquire()
        results: list[MigrationResult] = []
        try:
            rows = await self._db.fetch_all(self._sql.all_rows)
            recorded = {row["id"]: row for row in rows}
            latest: Row = rows[-1] if rows else {}
            for migration in pending:
                existing = recorded.get(migration.id)
                if existing is not None:
                    if not existing["success"]:
                        raise DirtyMigrationError(
                            migration.id,
                            existing["started_at"],
                            existing["applied_by"],
                            "down" if existing.get("chain") else "up",
                        )
                    log.info("migration %s was applied by another process meanwhile", migration.id)
                    continue
                if migration.transactional:
                    latest = await self._apply_one(migration, latest, lease, results)
                else:
                    latest = await self._apply_outside(migration, latest, lease, results)
            await self._stamp_fingerprint(lease, results, note)
        except BaseException as error:
            if not isinstance(error, MigrationError):
                note_applied(error, results)
            await self._stamp_fingerprint(lease, results, note, quietly=True)
            raise
        finally:
            await self._release(lease)
        return results

    async def _apply_one(
        self,
        migration: Migration,
        latest: Row,
        lease: libsql_lease.Lease,
        results: list[MigrationResult],
    ) -> Row:
        started_at, started = utc_now(), time.perf_counter()
        row = self._record(migration, latest, started_at, elapsed_ms=None, success=True)
        try:
            await self._guarded(
                lease,
                [*self._body(migration, "up"), (self._sql.insert, row)],
                keys_off=self._keys_off(migration),
            )
        except LeaseLostError as error:
            note_lock_lost(error, migration, "up")
            raise
        except AgentsDBError as error:
            failure = self._explain(error, migration)
            failed = MigrationResult(
                migration, False, "up", started_at, _elapsed_ms(started), error=str(failure)
            )
            raise MigrationError(
                f"migration {migration.id} ({migration.description}) failed and was rolled "
                f"back, nothing of it was kept: {failure}",
                [*results, failed],
            ) from error
        elapsed = _elapsed_ms(started)
        log.info(
            "applied migration %s (%s) in %.1f ms", migration.id, migration.description, elapsed
        )
        results.append(MigrationResult(migration, True, "up", started_at, elapsed))
        return row

    async def _run_alone(self, lease: libsql_lease.Lease, statements: Sequence[str]) -> None:
        """Each statement on its own (autocommitted), the lease renewed and checked before it."""
        for statement in statements:
            await self._guarded(lease, [])
            await self._db.execute(statement)

    async def _apply_outside(
        self,
        migration: Migration,
        latest: Row,
        lease: libsql_lease.Lease,
        results: list[MigrationResult],
    ) -> Row:
        """A ``transactional=False`` migration: recorded dirty, run, then recorded applied."""
        started_at, started = utc_now(), time.perf_counter()
        dirty = self._record(migration, latest, started_at, elapsed_ms=None, success=False)
        await self._guarded(lease, [(self._sql.insert, dirty)])
        try:
            await self._run_alone(lease, _statements(migration, "up", self._dialect))
        except LeaseLostError as error:
            note_lock_lost(error, migration, "up")
            raise
        except AgentsDBError as error:
            failure = self._explain(error, migration)
            raise left_dirty(
                migration, started_at, _elapsed_ms(started), failure, results
            ) from error
        elapsed = _elapsed_ms(started)
        row = self._record(migration, latest, started_at, elapsed_ms=elapsed, success=True)
        await self._guarded(lease, [(self._sql.finish, row)])
        log.info(
            "applied non-transactional migration %s (%s) in %.1f ms",
            migration.id,
            migration.description,
            elapsed,
        )
        results.append(MigrationResult(migration, True, "up", started_at, elapsed))
        return row

    async def _stamp_fingerprint(
        self,
        lease: libsql_lease.Lease,
        results: Sequence[object],
        note: str | None,
        *,
        quietly: bool = False,
    ) -> None:
        """Record the live schema's fingerprint (with the drift ``note``, see
        :mod:`agentsdb.drift`) on the newest row, once per run, if the schema is still exactly
        what that row recorded (its cookie)."""
        if not results:
            return
        try:
            cookie_row = await self._db.fetch_one(self._sql.schema_cookie)
            cookie = None if cookie_row is None else next(iter(cookie_row.values()))
            fingerprint = schema_fingerprint(await self._db.fetch_all(self._sql.schema_rows))
            params = {"schema_fingerprint": recorded(fingerprint, note), "schema_cookie": cookie}
            await self._guarded(lease, [(self._stamp_if_unchanged, params)])
        except AgentsDBError as error:
            if not quietly:
                raise
            log.warning("could not record the schema fingerprint after a failure: %s", error)

    # --- rehearse ---------------------------------------------------------------------------------

    async def rehearse(self, pending: Sequence[Migration]) -> list[MigrationResult]:
        """Run the pending migrations in one batch whose last step fails, so nothing is kept."""
        started_at, started = utc_now(), time.perf_counter()
        included: list[tuple[Migration, int]] = []  # each migration and where its steps end
        steps: list[Statement] = []
        skipped: MigrationResult | None = None
        # One batch, so one foreign-key setting: the first migration's (as on SQLite).
        keys_off = bool(pending) and self._keys_off(pending[0])
        for migration in pending:
            if not migration.transactional:
                skipped = rehearsal_skipped(migration, started_at, NOT_TRANSACTIONAL)
                break
            if self._keys_off(migration) != keys_off:
                skipped = rehearsal_skipped(migration, started_at, other_foreign_keys(keys_off))
                break
            steps.extend(self._body(migration, "up"))
            included.append((migration, len(steps)))
        error = await self._rolled_back_batch(steps, keys_off)
        if error is not None:
            # The batch reports the first failing step, not which one: find the migration.
            done: list[MigrationResult] = []
            for migration, end in included:
                failure = await self._rolled_back_batch(steps[:end], keys_off)
                if failure is not None:
                    failure = self._explain(failure, migration)
                    raise rehearsal_failed(
                        migration, started_at, _elapsed_ms(started), failure, done
                    ) from failure
                done.append(self._rehearsed(migration, started_at, 0.0))
            raise error
        elapsed = _elapsed_ms(started)
        results = [self._rehearsed(migration, started_at, elapsed) for migration, _ in included]
        return [*results, skipped] if skipped is not None else results

    @staticmethod
    def _rehearsed(migration: Migration, started_at: datetime, elapsed: float) -> MigrationResult:
        return MigrationResult(
            migration,
            True,
            "up",
            started_at,
            elapsed,
            dry_run=True,
            note="rehearsed and rolled back (one batch for the whole rehearsal)",
        )

    async def _rolled_back_batch(
        self, steps: Sequence[Statement], keys_off: bool
    ) -> AgentsDBError | None:
        """Run ``steps`` in a batch that always rolls back; the error of a failing step, if any."""
        # The guard table is created inside the batch, so the rehearsal leaves nothing at all.
        create = [(sql, None) for sql in libsql_lease.CREATE]
        try:
            await self._db.execute_batch(
                [*create, *steps, (libsql_lease.REHEARSAL_END, None)], foreign_keys_off=keys_off
            )
        except AgentsDBError as error:
            if libsql_lease.failed_constraint(error, libsql_lease.REHEARSAL_DONE):
                return None
            return error
        raise DatabaseError("the rehearsal batch committed although its last step must fail")

    # --- rollback ---------------------------------------------------------------------------------

    async def rollback(
        self, plan: Sequence[Migration], note: str | None = None
    ) -> list[MigrationResult]:
        """Undo ``plan`` (newest first, already validated), one batch each, under the lease.

        ``note``: drift found before the run, kept on the fingerprint it records."""
        lease = await self._acquire()
        results: list[MigrationResult] = []
        try:
            for migration in plan:
                await self._rollback_one(migration, lease, results)
            await self._stamp_fingerprint(lease, results, note)
        except BaseException:
            await self._stamp_fingerprint(lease, results, note, quietly=True)
            raise
        finally:
            await self._release(lease)
        return results

    async def _rollback_one(
        self, migration: Migration, lease: libsql_lease.Lease, results: list[MigrationResult]
    ) -> None:
        latest = await self._db.fetch_one(self._sql.latest_row)
        if latest is None or latest["id"] != migration.id:
            found = "nothing" if latest is None else latest["id"]
            raise MigrationValidationError(
                f"expected migration {migration.id} to be the newest applied, found {found}: "
                "another process changed the migrations meanwhile; check `agentsdb status`"
            )
        started_at, started = utc_now(), time.perf_counter()
        finish = [(self._sql.delete, {"id": migration.id}), (self._restamp, None)]
        try:
            if migration.transactional:
                await self._guarded(
                    lease,
                    [*self._body(migration, "down"), *finish],
                    keys_off=self._keys_off(migration),
                )
            else:
                dirty = self._record(migration, latest, started_at, elapsed_ms=None, success=False)
                await self._guarded(lease, [(self._sql.mark_dirty, dirty)])
                await self._run_alone(lease, _statements(migration, "down", self._dialect))
                await self._guarded(lease, finish)
        except LeaseLostError as error:
            note_lock_lost(error, migration, "down")
            raise
        except AgentsDBError as error:
            failure = self._explain(error, migration)
            failed = MigrationResult(
                migration, False, "down", started_at, _elapsed_ms(started), error=str(failure)
            )
            state = "was rolled back" if migration.transactional else "is recorded as dirty"
            raise MigrationError(
                f"rolling back migration {migration.id} ({migration.description}) failed and "
                f"{state}: {failure}",
                [*results, failed],
            ) from error
        elapsed = _elapsed_ms(started)
        log.info(
            "rolled back migration %s (%s) in %.1f ms", migration.id, migration.description, elapsed
        )
        results.append(MigrationResult(migration, True, "down", started_at, elapsed))

    # --- repair -----------------------------------------------------------------------------------

    async def repair(
        self, migration_id: str, migration: Migration | None, *, mark_applied: bool
    ) -> None:
        """``Migrator.repair`` over HTTP: the same reads under the lease, one guarded write."""
        present = await self._db.fetch_one(self._sql.exists, {"table": self._sql.table})
        if present is None:
            raise repair_rules.no_tracking_table(self._sql.table)
        lease = await self._acquire()
        try:
            found = await self._db.fetch_one(self._sql.one_row, {"id": migration_id})
            row = repair_rules.dirty_row(migration_id, found)
            if not mark_applied:
                await self._guarded(lease, [(self._sql.delete, {"id": migration_id})])
                return
            vouched = repair_rules.defined(migration_id, migration)
            previous = await self._db.fetch_one(
                repair_rules.previous_chain_sql(self._sql.table), {"seq": row["seq"]}
            )
            stamped = await self._db.fetch_one(newest_fingerprint_sql(self._sql.table))
            fingerprint = recorded(
                schema_fingerprint(await self._db.fetch_all(self._sql.schema_rows)),
                kept_note(stamped),
            )
            applied = repair_rules.applied_row(vouched, self._dialect, previous, fingerprint)
            await self._guarded(lease, [(self._sql.finish, applied)])
        finally:
            await self._release(lease)


__all__ = ["LibsqlMigrations", "for_database"]
