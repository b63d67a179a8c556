"""The migration engine: validate, then apply, roll back, rehearse or repair.

Planning is pure (:mod:`agentsdb.plan`); this module does the I/O. Each unit of work is written as
a program (see :mod:`agentsdb.db.base`) so the SQLite backend runs a whole ``migrate()`` in one
hop to its worker thread, while every migration still commits on its own.

Safety rules, each proved by a test:

* A migration's statements and the tracking row that records it commit in one transaction; a
  failure rolls both back and stops the run.
* The applied set is re-read inside the write lock, so processes racing ``migrate()`` apply each
  migration exactly once.
* Migrations that cannot run in a transaction are recorded as dirty before they start and marked
  finished after; a crash in between makes later runs refuse until ``repair``.
* When nothing is pending, ``migrate()`` costs one small query: the newest row's chained digest
  and the row count are compared with the digest and the number of the registered migrations.
* Rollbacks refuse a ``down`` edited since its migration was applied (its checksum is recorded
  with the row), and every entry point refuses a history with rows deleted from the middle.
* A tracking table an older version created is upgraded in place by the first run that writes.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentsdb import drift as drift_rules
from agentsdb import repair as repair_rules
from agentsdb import tracking_upkeep as upkeep
from agentsdb.clock import format_timestamp, utc_now
from agentsdb.db.base import (
    Begin,
    Commit,
    Database,
    Execute,
    FetchAll,
    FetchOne,
    Program,
    Rollback,
    Row,
)
from agentsdb.errors import (
    AgentsDBError,
    ChecksumMismatchError,
    ConfigurationError,
    DatabaseBusyError,
    DirtyMigrationError,
    ForeignKeyViolationError,
    IrreversibleMigrationError,
    MigrationError,
    MigrationLockError,
    MigrationValidationError,
    RepairError,
    SchemaDriftError,
    UnknownMigrationError,
)
from agentsdb.migration import Migration
from agentsdb.migration_set import MigrationSet
from agentsdb.plan import (
    AppliedRecord,
    chain_next,
    chain_of,
    check_down,
    find_missing,
    find_problems,
    register,
    select_pending,
    select_rollbacks,
)
from agentsdb.plan_sets import owned_by
from agentsdb.results import (
    NOT_TRANSACTIONAL,
    MigrationResult,
    MigrationSummary,
    ValidationResult,
    left_dirty,
    note_applied,
    note_lock_lost,
    other_foreign_keys,
    rehearsal_failed,
    rehearsal_skipped,
)
from agentsdb.tracking import TrackingSQL, schema_fingerprint, tracking_sql

if TYPE_CHECKING:
    from agentsdb.migrator.libsql import LibsqlMigrations, Record

log = logging.getLogger("agentsdb.migrations")

_UNSET: Any = object()


_identity: tuple[int, str] | None = None


def _who() -> str:
    """``host:pid`` of this process, for the tracking rows (recomputed after a fork)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{socket.gethostname()}:{pid}")
    return _identity[1]


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


_FINISH_PARAMETERS = (
    "id",
    "checksum",
    "down_checksum",
    "chain",
    "schema_fingerprint",
    "applied_at",
    "execution_time_ms",
)


def _libsql_strategy(
    db: Database, sql: TrackingSQL, *, lock_timeout: float, record: Record
) -> LibsqlMigrations | None:
    """The libSQL strategy when ``db`` is a remote libSQL database, else None.

    A libSQL database exists only once its module has been imported, so the libSQL modules
    (about a third of the command line's start-up) are not loaded for the other backends.
    """
    if "agentsdb.db.libsql" not in sys.modules:
        return None
    from agentsdb.migrator import libsql as migrator_libsql

    return migrator_libsql.for_database(db, sql, lock_timeout=lock_timeout, record=record)


@dataclass
class _RunMemory:
    """What one migrate() run on one SQLite connection knows between its transactions."""

    head: Row | None = None
    data_version: int | None = None


def _runs_in_transaction(migration: Migration, use_transaction: bool) -> bool:
    """``use_transaction=False`` does not apply to a ``foreign_keys=False`` rebuild: its foreign
    key check must run before COMMIT, and outside a transaction its keys would stay on, so a
    ``DROP TABLE`` of the old table would cascade into (delete) the rows that refer to it."""
    return migration.transactional and (use_transaction or not migration.foreign_keys)


class Migrator:
    """Applies numbered migrations to one database and records them in a tracking table.

    ``sets`` are the migration sets to manage, for example
    ``[builtin_set(), MigrationSet("myapp", load_migrations("migrations/"))]``: one
    ``migrate()`` applies every set's pending migrations in an order that honours each set's
    numbering and every ``requires``. ``migrations`` is a single list instead (bare ids: it
    replaces agentsdb's own). With neither, agentsdb's built-in set is managed, plus the opt-in
    cutover set as optional. Rows of sets not registered here are left alone. ``lock_timeout``
    is how long a migration waits for another process's migration to finish before failing.
    """

    def __init__(
        self,
        db: Database,
        migrations: Iterable[Migration] | None = None,
        *,
        sets: Iterable[MigrationSet] | None = None,
        table: str = "agentsdb_migrations",
        lock_timeout: float = 60.0,
    ) -> None:
        if lock_timeout < 0:
            raise ConfigurationError(f"lock_timeout must be >= 0 seconds, got {lock_timeout!r}")
        if migrations is not None and sets is not None:
            raise ConfigurationError("pass migrations or sets, not both")
        self._db = db
        self._dialect = db.dialect
        self._sql: TrackingSQL = tracking_sql(db.dialect, table)
        self._lock_timeout = float(lock_timeout)
        self._migrations: tuple[Migration, ...] = ()
        self._optional: frozenset[str] = frozenset()
        self._code_head: str | None = _UNSET
        self._full_head: str | None = _UNSET
        self._initialized = False
        # libSQL: per-transaction lease checks over ws, whole migrations as batches over http.
        self._libsql = _libsql_strategy(
            db, self._sql, lock_timeout=self._lock_timeout, record=self._record
        )
        # A local SQLite database runs a whole migrate() on one connection (see _claim).
        self._one_connection = db.dialect == "sqlite" and self._libsql is None
        if migrations is not None:
            self.add_migrations(migrations)
            return
        if sets is None:
            from agentsdb.migrations import builtin_set, cutover_set

            sets = [builtin_set(), cutover_set().with_optional(True)]
        self.add_sets(sets)

    # --- registration ---------------------------------------------------------------------------

    @property
    def migrations(self) -> tuple[Migration, ...]:
        """The migrations ``migrate()`` applies, in order (every registered one but those of
        optional sets)."""
        return tuple(m for m in self._migrations if m.id not in self._optional)

    @property
    def registered_migrations(self) -> tuple[Migration, ...]:
        """Every registered migration, optional sets' included, in order."""
        return self._migrations

    @property
    def table(self) -> str:
        """The name of the tracking table."""
        return self._sql.table

    @property
    def optional_ids(self) -> frozenset[str]:
        """Ids of the registered migrations of optional sets: validated when applied, never
        applied by ``migrate()`` unless named as its ``target``."""
        return self._optional

    def add_set(self, migration_set: MigrationSet) -> None:
        """Register a set of migrations (see :class:`~agentsdb.migration_set.MigrationSet`)."""
        self.add_sets([migration_set])

    def add_sets(self, sets: Iterable[MigrationSet]) -> None:
        """Register several sets at once (their ``requires`` may name each other)."""
        incoming = list(sets)
        names = [m.set_name for m in self._migrations]
        for migration_set in incoming:
            if not isinstance(migration_set, MigrationSet):
                raise ConfigurationError(
                    f"expected a MigrationSet, got {type(migration_set).__name__}"
                )
            if migration_set.name in names:
                raise ConfigurationError(f"set {migration_set.name!r} is registered twice")
            names.append(migration_set.name)
        self.add_migrations([m for s in incoming for m in s.migrations])
        for migration_set in incoming:
            if migration_set.optional:
                self._optional |= {m.id for m in migration_set.migrations}
        self._code_head = self._full_head = _UNSET

    def add_migration(self, migration: Migration) -> None:
        """Register one migration; a duplicate id or a lint failure is rejected at once."""
        self.add_migrations([migration])

    def add_migrations(self, migrations: Iterable[Migration]) -> None:
        """Register several migrations: all of them, or none when any is rejected."""
        self._migrations = register(self._migrations, migrations)
        self._code_head = self._full_head = _UNSET

    def _head_of_code(self) -> str | None:
        """The head digest with every migration applied that ``migrate()`` applies."""
        if self._code_head is _UNSET:
            required = [m for m in self._migrations if m.id not in self._optional]
            self._code_head = chain_of(required, self._dialect)
        return self._code_head

    def _fully_applied(self, chain: object, recorded: int) -> bool:
        """Whether a head digest and row count are those of a fully migrated database: every
        required migration applied, or (when some sets are optional) every registered one. The
        second digest is computed only when the first does not match."""
        required = len(self._migrations) - len(self._optional)
        if chain == self._head_of_code() and recorded == required:
            return True
        if not self._optional or recorded != len(self._migrations):
            return False
        if self._full_head is _UNSET:
            self._full_head = chain_of(self._migrations, self._dialect)
        return bool(chain == self._full_head)

    def _by_id(self) -> dict[str, Migration]:
        return {migration.id: migration for migration in self._migrations}

    # --- reading state --------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Create the tracking table when it does not exist, or upgrade one an older version
        created (safe to call any number of times)."""
        self._initialized = False
        await self._db.run(self._read_program(self._sql.head, create=True))
        self._initialized = True

    def _lock(self) -> Program[None]:
        """Begin a write transaction: the migration lock, waited for up to ``lock_timeout``."""
        try:
            yield Begin(self._lock_timeout, lock_name=self._sql.table)
        except DatabaseBusyError as error:
            raise MigrationLockError(self._lock_timeout) from error

    def _initialize_program(self) -> Program[None]:
        if self._libsql is not None and self._libsql.batched:
            # No transactions over libSQL's HTTP; each CREATE ... IF NOT EXISTS commits alone.
            for statement in self._sql.create:
                yield Execute(statement)
            return
        yield from self._lock()
        for statement in self._sql.create:
            yield Execute(statement)
        yield Commit()

    def _read_program(self, sql: str, create: bool) -> Program[list[Row] | None]:
        """Rows of a tracking query; None when the table is absent and ``create`` is false.

        With ``create``, a table an older version created is upgraded first (see
        :func:`agentsdb.tracking_upkeep.upgrade`); without it, nothing changes (reads work on
        either shape).
        """
        if not self._initialized:
            present = yield FetchOne(self._sql.exists, {"table": self._sql.table})
            if present is None:
                if not create:
                    return None
                # Only a missing table takes the write lock: a start-up on an initialized database
                # never waits behind another process's writes.
                yield from self._initialize_program()
            elif create and not present["current"]:
                yield from upkeep.upgrade(self._sql, self._migrations, self._dialect)
        rows: list[Row] = yield FetchAll(sql)
        return rows

    async def _read_applied(self, *, create: bool) -> list[AppliedRecord]:
        rows = await self._db.run(self._read_program(self._sql.all_rows, create))
        if create:
            self._initialized = True
        return [AppliedRecord.from_row(row) for row in rows or []]

    async def _nothing_pending(self) -> bool:
        """The O(1) start: one query proves every registered migration is applied unchanged."""
        rows = await self._db.run(self._read_program(self._sql.head, create=True))
        self._initialized = True
        if not rows:
            return len(self._migrations) == len(self._optional)
        head = rows[0]
        return (
            bool(head["success"])
            and not head["dirty"]
            and self._fully_applied(head["chain"], int(head["recorded"]))
        )

    def _raise_first(self, applied: Sequence[AppliedRecord], **options: bool) -> None:
        problems = find_problems(
            self._migrations, applied, self._dialect, optional=self._optional, **options
        )
        for warning in problems.warnings:
            log.warning("%s", warning)
        if problems.errors:
            raise problems.errors[0]

    # --- migrate --------------------------------------------------------------------------------

    async def migrate(
        self,
        *,
        use_transaction: bool = True,
        validate_checksums: bool = True,
        limit: int | None = None,
        target: str | None = None,
        dry_run: bool = False,
        rehearse: bool = False,
        allow_out_of_order: bool = False,
        fail_on_drift: bool = False,
    ) -> list[MigrationResult]:
        """Apply pending migrations in order and return one result per migration handled.

        Validates first and changes nothing when an applied migration was edited
        (ChecksumMismatchError), is unknown to the code (UnknownMigrationError), is dirty
        (DirtyMigrationError), rows were deleted from the middle of the history
        (MissingMigrationRecordError), or a pending one sorts before the newest applied one
        (MigrationOrderError, unless ``allow_out_of_order``). When the live schema was changed
        outside migrations (now, or before an earlier run and not accepted since), it logs a
        warning and keeps the drift reported on the fingerprint it records, until
        ``accept_drift()``; with ``fail_on_drift`` it raises SchemaDriftError instead, even when
        nothing is pending (a check that reads the schema). ``limit`` applies at most N;
        ``target`` applies up to and including that id. ``dry_run`` changes nothing and returns
        what would run; ``rehearse`` runs the pending migrations in a transaction and rolls it
        back. A failure raises MigrationError carrying ``.results``.
        """
        if dry_run and rehearse:
            raise ConfigurationError("choose dry_run or rehearse, not both")
        # argument checks only
        select_pending(self._migrations, (), limit=limit, target=target, optional=self._optional)
        if not dry_run and not rehearse and await self._nothing_pending():
            if fail_on_drift:
                await self._check_drift(await self._read_applied(create=False), fail_on_drift)
            return []
        applied = await self._read_applied(create=not dry_run)
        self._raise_first(
            applied, validate_checksums=validate_checksums, allow_out_of_order=allow_out_of_order
        )
        pending = select_pending(
            self._migrations,
            [r.id for r in applied],
            limit=limit,
            target=target,
            optional=self._optional,
        )
        if not pending and not fail_on_drift:
            return []
        note = await self._check_drift(applied, fail_on_drift)
        if not pending:
            return []
        if dry_run:
            now = utc_now()
            return [
                MigrationResult(m, True, "up", now, 0.0, dry_run=True, note="would apply")
                for m in pending
            ]
        if self._libsql is not None and await self._libsql.runs_batches(pending, "up"):
            if rehearse:
                return await self._libsql.rehearse(pending)
            return await self._libsql.apply(pending, note)
        if rehearse:
            return await self._db.run(self._rehearse_program(pending, use_transaction))
        return await self._db.run(self._apply_program(pending, use_transaction, note))

    def _apply_program(
        self, pending: Sequence[Migration], use_transaction: bool, note: str | None
    ) -> Program[list[MigrationResult]]:
        results: list[MigrationResult] = []
        memory = _RunMemory() if self._one_connection else None
        try:
            for migration in pending:
                if _runs_in_transaction(migration, use_transaction):
                    result = yield from self._apply_in_transaction(migration, results, memory)
                else:
                    result = yield from self._apply_outside_transaction(migration, results)
                    if memory is not None:
                        memory.head = None  # it wrote its own rows: the next claim re-reads
                if result is not None:
                    results.append(result)
        except MigrationError:
            if results:
                yield from self._fingerprint_run(note)
            raise
        except AgentsDBError as error:
            # The lock lost to another process, a closed connection, another process's dirty
            # row: the migrations before it stay committed, and the caller should know which.
            note_applied(error, results)
            raise
        try:
            if results:
                yield from self._fingerprint_run(note)
        except AgentsDBError as error:
            note_applied(error, results)
            raise
        return results

    def _fingerprint_run(self, note: str | None) -> Program[None]:
        """Record the live schema's fingerprint on the newest row, once per run, with the
        ``note`` of drift found before the run (see :mod:`agentsdb.drift`) so it stays reported.

        Only when the schema is still exactly what the newest migration left (same cookie), so a
        change made by someone else in between is not absorbed into the record.
        """
        yield from self._lock()
        head: Row | None = yield FetchOne(self._sql.latest_row)
        cookie = yield from self._schema_cookie()
        if head is not None and head["success"] and head["schema_cookie"] == cookie:
            fingerprint = yield from self._fingerprint()
            yield Execute(
                self._sql.stamp_head,
                {
                    "schema_cookie": cookie,
                    "schema_fingerprint": drift_rules.recorded(fingerprint, note),
                },
            )
        yield Commit()

    def _stamp_head(self, *, with_fingerprint: bool, note: str | None) -> Program[None]:
        """In a transaction: record the live schema cookie (and fingerprint) on the newest row.

        With a drift ``note`` the fingerprint is always recorded, carrying the note."""
        cookie = yield from self._schema_cookie()
        fingerprint = None
        if with_fingerprint or note is not None:
            fingerprint = drift_rules.recorded((yield from self._fingerprint()), note)
        yield Execute(
            self._sql.stamp_head, {"schema_cookie": cookie, "schema_fingerprint": fingerprint}
        )

    def _schema_cookie(self) -> Program[int | None]:
        """SQLite's schema counter; None on a dialect that has none."""
        row: Row | None = yield FetchOne(self._sql.schema_cookie)
        value = None if row is None else next(iter(row.values()))
        return None if value is None else int(value)

    def _claim(self, migration: Migration, memory: _RunMemory | None = None) -> Program[Row | None]:
        """Inside the write lock: None when another process already applied this migration,
        else the newest tracking row (or an empty dict when there is none).

        With ``memory`` (one SQLite connection for the whole run), a later migration of the run
        skips the tracking query when ``PRAGMA data_version`` shows that no other connection has
        committed since this run's previous migration: the newest row is then the one this run
        wrote, and nobody can have applied this migration meanwhile.
        """
        if memory is not None:
            row: Row | None = yield FetchOne("PRAGMA data_version")
            version = None if row is None else row["data_version"]
            if memory.head is not None and version == memory.data_version:
                return memory.head
            memory.data_version = version
            memory.head = None
        rows: list[Row] = yield FetchAll(self._sql.claim_rows, {"id": migration.id})
        existing = next((row for row in rows if row["id"] == migration.id), None)
        if existing is not None:
            yield Rollback()
            if not existing["success"]:
                raise DirtyMigrationError(
                    migration.id,
                    existing["started_at"],
                    existing["applied_by"],
                    "down" if existing["chain"] else "up",
                )
            log.info("migration %s was applied by another process meanwhile; skipped", migration.id)
            return None
        return rows[0] if rows else {}

    def _record(
        self,
        migration: Migration,
        latest: Row,
        started_at: datetime,
        *,
        elapsed_ms: float | None,
        success: bool,
    ) -> dict[str, Any]:
        return {
            "id": migration.id,
            "description": migration.description,
            "checksum": migration.checksum(self._dialect),
            "down_checksum": migration.down_checksum(self._dialect),
            "chain": chain_next(
                latest.get("chain"), migration.id, migration.checksum(self._dialect)
            )
            if success
            else None,
            "schema_fingerprint": None,
            "started_at": format_timestamp(started_at),
            "applied_at": format_timestamp(utc_now()) if success else None,
            "execution_time_ms": elapsed_ms,
            "success": 1 if success else 0,
            "applied_by": _who(),
        }

    def _fingerprint(self) -> Program[str]:
        rows: list[Row] = yield FetchAll(self._sql.schema_rows)
        return schema_fingerprint(rows)

    def _check_foreign_keys(self, migration: Migration) -> Program[None]:
        if self._sql.foreign_key_check is None:
            return
        violations: list[Row] = yield FetchAll(self._sql.foreign_key_check)
        if violations:
            shown = ", ".join(
                f"{v.get('table')} row {v.get('rowid')} -> {v.get('parent')}"
                for v in violations[:5]
            )
            raise ForeignKeyViolationError(
                f"migration {migration.id} leaves {len(violations)} foreign key "
                f"violation(s): {shown}"
            )

    def _apply_in_transaction(
        self,
        migration: Migration,
        done: Sequence[MigrationResult],
        memory: _RunMemory | None = None,
    ) -> Program[MigrationResult | None]:
        statements = migration.up_statements(self._dialect)
        if not migration.foreign_keys:
            for statement in self._sql.foreign_keys_off:
                yield Execute(statement)
        yield from self._lock()
        latest = yield from self._claim(migration, memory)
        if latest is None:
            yield from self._foreign_keys_back_on(migration)
            return None
        started_at, started = utc_now(), time.perf_counter()
        try:
            for statement in statements:
                yield Execute(statement)
            if not migration.foreign_keys:
                yield from self._check_foreign_keys(migration)
            elapsed = _elapsed_ms(started)
            row = self._record(
                migration,
                latest,
                started_at,
                elapsed_ms=elapsed,
                success=True,
            )
            yield Execute(self._sql.insert, row)
            yield Commit()
            if memory is not None:
                memory.head = {"chain": row["chain"]}
        except AgentsDBError as error:
            yield Rollback()
            yield from self._foreign_keys_back_on(migration)
            if isinstance(error, MigrationLockError):
                note_lock_lost(error, migration, "up")
                raise error
            failed = MigrationResult(
                migration, False, "up", started_at, _elapsed_ms(started), error=str(error)
            )
            raise MigrationError(
                f"migration {migration.id} ({migration.description}) failed and was rolled "
                f"back, nothing of it was kept: {error}",
                [*done, failed],
            ) from error
        yield from self._foreign_keys_back_on(migration)
        log.info(
            "applied migration %s (%s) in %.1f ms", migration.id, migration.description, elapsed
        )
        return MigrationResult(migration, True, "up", started_at, elapsed)

    def _foreign_keys_back_on(self, migration: Migration) -> Program[None]:
        if not migration.foreign_keys:
            for statement in self._sql.foreign_keys_on:
                yield Execute(statement)

    def _apply_outside_transaction(
        self, migration: Migration, done: Sequence[MigrationResult]
    ) -> Program[MigrationResult | None]:
        statements = migration.up_statements(self._dialect)
        yield from self._lock()
        latest = yield from self._claim(migration)
        if latest is None:
            return None
        started_at, started = utc_now(), time.perf_counter()
        dirty = self._record(migration, latest, started_at, elapsed_ms=None, success=False)
        yield Execute(self._sql.insert, dirty)
        yield Commit()
        try:
            for statement in statements:
                yield Execute(statement)
        except AgentsDBError as error:
            raise left_dirty(migration, started_at, _elapsed_ms(started), error, done) from error
        elapsed = _elapsed_ms(started)
        finished = self._record(migration, latest, started_at, elapsed_ms=elapsed, success=True)
        yield from self._lock()
        # Exactly the statement's parameters: a libSQL server rejects unused ones.
        yield Execute(
            self._sql.finish,
            {key: finished[key] for key in _FINISH_PARAMETERS},
        )
        yield Commit()
        log.info(
            "applied non-transactional migration %s (%s) in %.1f ms",
            migration.id,
            migration.description,
            elapsed,
        )
        return MigrationResult(migration, True, "up", started_at, elapsed)

    def _rehearse_program(
        self, pending: Sequence[Migration], use_transaction: bool
    ) -> Program[list[MigrationResult]]:
        # Later migrations may build on earlier ones, so all of them run in one transaction that
        # is rolled back at the end. Foreign keys can only be switched before BEGIN, so the
        # rehearsal runs the pending migrations that share the first one's setting and stops at
        # the first that needs the other (with foreign keys off, a later migration's cascades
        # would not fire and the rehearsal would fail where the real run succeeds).
        keys_off = not pending[0].foreign_keys if self._sql.foreign_key_check else False
        if keys_off:
            for statement in self._sql.foreign_keys_off:
                yield Execute(statement)
        yield from self._lock()
        results: list[MigrationResult] = []
        for migration in pending:
            started_at, started = utc_now(), time.perf_counter()
            if not _runs_in_transaction(migration, use_transaction):
                results.append(rehearsal_skipped(migration, started_at, NOT_TRANSACTIONAL))
                break
            if self._sql.foreign_key_check and (not migration.foreign_keys) != keys_off:
                reason = other_foreign_keys(keys_off)
                results.append(rehearsal_skipped(migration, started_at, reason))
                break
            try:
                for statement in migration.up_statements(self._dialect):
                    yield Execute(statement)
                if keys_off:
                    yield from self._check_foreign_keys(migration)
            except AgentsDBError as error:
                yield Rollback()
                raise rehearsal_failed(
                    migration, started_at, _elapsed_ms(started), error, results
                ) from error
            results.append(
                MigrationResult(
                    migration,
                    True,
                    "up",
                    started_at,
                    _elapsed_ms(started),
                    dry_run=True,
                    note="rehearsed and rolled back",
                )
            )
        yield Rollback()
        if keys_off:
            for statement in self._sql.foreign_keys_on:
                yield Execute(statement)
        return results

    # --- rollback -------------------------------------------------------------------------------

    async def plan_rollback(self, to: str | None = None) -> list[Migration]:
        """The migrations ``rollback_to(to)`` (``to=None``: ``rollback_last()``) would undo,
        newest first, checked as the rollback checks them; changes nothing."""
        return self._rollback_plan(await self._read_applied(create=False), to)

    def _rollback_plan(self, applied: Sequence[AppliedRecord], to: str | None) -> list[Migration]:
        if to is not None:
            plan = select_rollbacks(self._migrations, applied, to)
            self._check_rollback_source(applied, {m.id for m in plan})
            return plan
        if not applied:
            return []
        if not owned_by(self._migrations, applied[-1].id):
            raise ConfigurationError(
                f"the newest applied migration {applied[-1].id} belongs to a set not registered "
                "here; register its set to roll it back"
            )
        self._check_rollback_source(applied, {applied[-1].id})
        migration = self._by_id()[applied[-1].id]
        if not migration.reversible:
            raise IrreversibleMigrationError(migration.id)
        return [migration]

    async def rollback_last(self) -> MigrationResult | None:
        """Undo the newest applied migration (its ``down`` and its row, in one transaction).

        Returns None when nothing is applied; IrreversibleMigrationError when it has no down.
        """
        applied = await self._read_applied(create=False)
        plan = self._rollback_plan(applied, None)
        if not plan:
            return None
        migration = plan[0]
        note = await self._check_drift(applied, fail_on_drift=False)
        if self._libsql is not None and await self._libsql.runs_batches([migration], "down"):
            return (await self._libsql.rollback([migration], note))[0]
        return await self._db.run(self._rollback_program(migration, [], True, note))

    async def rollback_to(self, migration_id: str) -> list[MigrationResult]:
        """Undo, newest first, every applied migration after ``migration_id`` ("0" undoes all).

        Every one of them is checked reversible before anything changes.
        """
        applied = await self._read_applied(create=False)
        plan = self._rollback_plan(applied, migration_id)
        if not plan:
            return []
        note = await self._check_drift(applied, fail_on_drift=False)
        if self._libsql is not None and await self._libsql.runs_batches(plan, "down"):
            return await self._libsql.rollback(plan, note)
        results: list[MigrationResult] = []
        for position, migration in enumerate(plan, start=1):
            step = self._rollback_program(migration, results, position == len(plan), note)
            results.append(await self._db.run(step))
        return results

    def _check_rollback_source(self, applied: Sequence[AppliedRecord], undo: set[str]) -> None:
        """Refuse, before anything changes, to undo what the code does not match: an unknown,
        dirty or edited migration, a ``down`` edited since the migration was applied, or a
        history with rows missing from the middle."""
        known = self._by_id()
        records = [record for record in applied if record.id in undo]
        unknown = [record.id for record in records if record.id not in known]
        if unknown:
            raise UnknownMigrationError(unknown)
        missing = find_missing(self._migrations, applied, self._dialect)
        if missing is not None:
            raise missing
        for record in records:
            if not record.success:
                raise DirtyMigrationError(
                    record.id, record.started_at, record.applied_by, record.dirty_direction
                )
            actual = known[record.id].checksum(self._dialect)
            if actual != record.checksum:
                raise ChecksumMismatchError(record.id, record.checksum, actual)
            down_changed, unverified = check_down(record, known[record.id], self._dialect)
            if down_changed is not None:
                raise down_changed
            if unverified is not None:
                log.warning("rolling back with an unverified down: %s", unverified)

    def _rollback_program(
        self,
        migration: Migration,
        done: Sequence[MigrationResult],
        final: bool,
        note: str | None,
    ) -> Program[MigrationResult]:
        """Undo one migration. ``final`` (the last of a run) records the schema fingerprint on the
        new newest row; earlier steps clear it, since the row's old one may no longer hold. With
        a drift ``note`` every step records the fingerprint and the note, so a run stopped part
        way still reports the drift."""
        statements = migration.down_statements(self._dialect)
        if statements is None:
            raise IrreversibleMigrationError(migration.id)
        in_transaction = migration.transactional
        if in_transaction and not migration.foreign_keys:
            for statement in self._sql.foreign_keys_off:
                yield Execute(statement)
        yield from self._lock()
        latest: Row | None = yield FetchOne(self._sql.latest_row)
        if latest is None or latest["id"] != migration.id:
            yield Rollback()
            found = "nothing" if latest is None else latest["id"]
            raise MigrationValidationError(
                f"expected migration {migration.id} to be the newest applied, found {found}: "
                "another process changed the migrations meanwhile; check `agentsdb status`"
            )
        started_at, started = utc_now(), time.perf_counter()
        if not in_transaction:
            yield Execute(
                self._sql.mark_dirty,
                {
                    "id": migration.id,
                    "started_at": format_timestamp(started_at),
                    "applied_by": _who(),
                },
            )
            yield Commit()
        try:
            for statement in statements:
                yield Execute(statement)
            if in_transaction and not migration.foreign_keys:
                yield from self._check_foreign_keys(migration)
            if not in_transaction:
                yield from self._lock()
            yield Execute(self._sql.delete, {"id": migration.id})
            yield from self._stamp_head(with_fingerprint=final, note=note)
            yield Commit()
        except AgentsDBError as error:
            yield Rollback()
            yield from self._foreign_keys_back_on(migration)
            if isinstance(error, MigrationLockError):
                note_lock_lost(error, migration, "down")
                raise error
            state = "was rolled back" if in_transaction else "is recorded as dirty"
            failed = MigrationResult(
                migration, False, "down", started_at, _elapsed_ms(started), error=str(error)
            )
            raise MigrationError(
                f"rolling back migration {migration.id} ({migration.description}) failed and "
                f"{state}: {error}",
                [*done, failed],
            ) from error
        if in_transaction:
            yield from self._foreign_keys_back_on(migration)
        elapsed = _elapsed_ms(started)
        log.info(
            "rolled back migration %s (%s) in %.1f ms", migration.id, migration.description, elapsed
        )
        return MigrationResult(migration, True, "down", started_at, elapsed)

    # --- repair ---------------------------------------------------------------------------------

    async def repair(self, migration_id: str, *, mark_applied: bool) -> None:
        """Resolve a dirty migration after inspecting the schema by hand.

        ``mark_applied=True`` records it as applied (it did complete); ``False`` removes its row
        (it did not, and its partial effects were undone by hand) so ``migrate()`` runs it again.
        ``mark_applied=True`` also records again the row of a migration whose row was deleted
        from the middle of the history (MissingMigrationRecordError names them).
        """
        migration = self._by_id().get(migration_id)
        # The repaired row fills every column: an old tracking table is upgraded first.
        await self._db.run(upkeep.upgrade_if_old(self._sql, self._migrations, self._dialect))
        restore = upkeep.restore_missing(
            self._sql, self._migrations, self._dialect, migration_id, self._record
        )
        if mark_applied and await self._db.run(restore):
            log.warning("repaired migration %s: its missing row is recorded again", migration_id)
            return
        if self._libsql is not None and self._libsql.batched:
            await self._libsql.repair(migration_id, migration, mark_applied=mark_applied)
        else:
            await self._db.run(self._repair_program(migration_id, migration, mark_applied))
        log.warning(
            "repaired migration %s: %s",
            migration_id,
            "marked applied" if mark_applied else "record removed",
        )

    async def accept_down(self, migration_id: str) -> None:
        """Record the code's current ``down`` of an applied migration as the one to run.

        For a down that was edited on purpose after the migration was applied (rollbacks refuse
        it with DownChecksumMismatchError), or one recorded before down checksums were tracked.
        Check that the new down undoes what this database has first.
        """
        migration = self._by_id().get(migration_id)
        if migration is None:
            raise RepairError(
                f"migration {migration_id} is not defined in this code, so its down cannot be "
                "accepted"
            )
        await self._db.run(
            upkeep.accept_down(self._sql, self._migrations, self._dialect, migration)
        )
        log.warning("accepted the current down of migration %s", migration_id)

    def _repair_program(
        self, migration_id: str, migration: Migration | None, mark_applied: bool
    ) -> Program[None]:
        present = yield FetchOne(self._sql.exists, {"table": self._sql.table})
        if present is None:
            raise repair_rules.no_tracking_table(self._sql.table)
        yield from self._lock()
        found: Row | None = yield FetchOne(self._sql.one_row, {"id": migration_id})
        row = repair_rules.dirty_row(migration_id, found)
        if not mark_applied:
            yield Execute(self._sql.delete, {"id": migration_id})
            yield Commit()
            return
        vouched = repair_rules.defined(migration_id, migration)
        previous: Row | None = yield FetchOne(
            repair_rules.previous_chain_sql(self._sql.table), {"seq": row["seq"]}
        )
        stamped: Row | None = yield FetchOne(drift_rules.newest_fingerprint_sql(self._sql.table))
        fingerprint = drift_rules.recorded(
            (yield from self._fingerprint()), drift_rules.kept_note(stamped)
        )
        applied = repair_rules.applied_row(vouched, self._dialect, previous, fingerprint)
        yield Execute(self._sql.finish, applied)
        yield Commit()

    # --- reports --------------------------------------------------------------------------------

    async def get_applied(self) -> list[AppliedRecord]:
        """The tracking rows, in apply order (empty when the table does not exist yet)."""
        return await self._read_applied(create=False)

    async def get_migration_summary(self) -> MigrationSummary:
        """Current version (of the set registered first, and per set), counts, and the ids still
        pending; an optional set's migrations count only once applied."""
        applied = await self._read_applied(create=False)
        done = {record.id for record in applied if record.success}
        current_by_set: dict[str, str | None] = {}
        for migration in self._migrations:
            current = current_by_set.get(migration.set_name)
            top = self._by_id().get(current) if current else None
            if migration.id in done and (top is None or migration.version > top.version):
                current_by_set[migration.set_name] = migration.id
            else:
                current_by_set.setdefault(migration.set_name, current)
        counted = [m for m in self._migrations if m.id in done or m.id not in self._optional]
        pending = [migration.id for migration in counted if migration.id not in done]
        first = self._migrations[0].set_name if self._migrations else None
        return MigrationSummary(
            current_version=current_by_set.get(first) if first else None,
            total_migrations=len(counted),
            applied_migrations=len([m for m in counted if m.id in done]),
            pending_migrations=len(pending),
            pending_migration_ids=pending,
            current_by_set=current_by_set,
        )

    async def validate_migrations(self) -> ValidationResult:
        """Check the code against the tracking table and the live schema, changing nothing.

        Errors: edited, unknown, dirty or out-of-order migrations, tracking rows deleted from the
        middle, a live schema that no longer matches the fingerprint recorded by the newest
        migration ("changed outside migrations"), and a ``down`` edited since its migration was
        applied (which blocks the rollbacks, not ``migrate()``). Warnings: lint findings, rows
        whose down cannot be checked, and anything else that does not block ``migrate()``.
        """
        rows, live = await self._db.run(self._validation_program())
        applied = [AppliedRecord.from_row(row) for row in rows or []]
        problems = find_problems(
            self._migrations, applied, self._dialect, check_downs=True, optional=self._optional
        )
        errors = [str(error) for error in problems.errors]
        warnings = list(problems.warnings)
        if live is not None:
            drift = drift_rules.assess(applied, *live)
            errors.extend([drift.error] if drift.error else [])
            warnings.extend([drift.warning] if drift.warning else [])
        return ValidationResult(is_valid=not errors, errors=errors, warnings=warnings)

    async def accept_drift(self) -> str | None:
        """Accept the live schema as the baseline: drift stops being reported.

        A schema changed outside migrations stays reported by ``validate_migrations()`` (and
        refused by ``migrate(fail_on_drift=True)``), even after later migrations or rollbacks,
        until this records the live schema's fingerprint on the newest tracking row. Returns the
        drift accepted, or None when there was none (nothing changes then). RepairError when
        nothing is recorded or the newest migration is dirty.
        """
        accepted = await self._db.run(drift_rules.accept(self._sql))
        if accepted is not None:
            log.warning("accepted the live schema as the baseline: %s", accepted)
        return accepted

    async def _check_drift(
        self, applied: Sequence[AppliedRecord], fail_on_drift: bool
    ) -> str | None:
        """Compare the live schema with the recorded one before a run that changes it.

        Returns the drift note the run must keep on the fingerprint it records (None: no drift).
        """
        if not applied or not applied[-1].success:
            return None
        drift = drift_rules.assess(applied, *await self._db.run(drift_rules.live_schema(self._sql)))
        if drift.warning:
            log.warning("%s", drift.warning)
        if drift.error is None:
            return drift.note
        if fail_on_drift:
            raise SchemaDriftError(drift.error)
        # Not an error by default: an index a DBA added must not stop an application's start-up.
        # The run keeps it reported (see agentsdb.drift) until it is accepted.
        log.warning("running over a schema changed outside migrations: %s", drift.error)
        return drift.note

    def _validation_program(
        self,
    ) -> Program[tuple[list[Row] | None, tuple[str, int | None] | None]]:
        rows = yield from self._read_program(self._sql.all_rows, create=False)
        if rows is None:
            return None, None
        live = yield from drift_rules.live_schema(self._sql)
        return rows, live
