"""The Migrator: register migrations, read where a database stands, and run migrations.

Planning is pure (:mod:`agentsdb.migrator.plan`); the runs themselves are in
:mod:`agentsdb.migrator.apply`,
:mod:`agentsdb.migrator.rollback` and :mod:`agentsdb.migrator.repairing`, written once over the
primitives each backend supplies (:mod:`agentsdb.db.migration_runner`). This module never asks
which backend it has.

* When nothing is pending, ``migrate()`` costs one small query: the newest row's chained digest
  and the row count are compared with the digest and the number of the registered migrations.
* Every entry point refuses a history with rows deleted from the middle.
* A tracking table an older version created is upgraded in place by the first run that writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from agentsdb.clock import utc_now
from agentsdb.db.base import Database, FetchAll, FetchOne, Program, Row
from agentsdb.errors import (
    ConfigurationError,
    RepairError,
)
from agentsdb.migration import Migration
from agentsdb.migration_set import MigrationSet
from agentsdb.migrator import apply as applying
from agentsdb.migrator import drift as drift_rules
from agentsdb.migrator import reports
from agentsdb.migrator import rollback as rolling_back
from agentsdb.migrator import tracking_upkeep as upkeep
from agentsdb.migrator.plan import (
    AppliedRecord,
    find_problems,
    select_pending,
)
from agentsdb.migrator.registry import Registry
from agentsdb.migrator.repairing import repair as repair_program
from agentsdb.migrator.results import (
    MigrationOutcome,
    MigrationResult,
    MigrationSummary,
    ValidationResult,
)
from agentsdb.migrator.rows import Context
from agentsdb.migrator.tracking import TrackingSQL, check_table_name, tracking_sql

log = logging.getLogger("agentsdb.migrations")


class Migrator(Registry):
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
        self._lock_timeout = float(lock_timeout)
        Registry.__init__(self, db.dialect)
        self._initialized = False
        # The tracking table's name names the migration lock too.
        table = check_table_name(table)
        runner = db.migration_runner(table, self._lock_timeout)
        self._sql: TrackingSQL = tracking_sql(table, runner.tracking_catalog(table))
        self._run = Context(self._sql, db.dialect, runner)
        if migrations is not None:
            self.add_migrations(migrations)
            return
        if sets is None:
            from agentsdb.migrations import builtin_set, cutover_set

            sets = [builtin_set(), cutover_set().with_optional(True)]
        self.add_sets(sets)

    @property
    def table(self) -> str:
        """The name of the tracking table."""
        return self._sql.table

    # --- reading state --------------------------------------------------------------------------

    async def initialize(self) -> None:
        """Create the tracking table when it does not exist, or upgrade one an older version
        created (safe to call any number of times)."""
        self._initialized = False
        await self._read(self._sql.head, create=True)
        self._initialized = True

    async def _read(self, sql: str, *, create: bool) -> list[Row] | None:
        """Rows of a tracking query; None when the table is absent and ``create`` is false.

        With ``create``, a missing table is created under the migration lock (only then: a
        start-up on an initialized database never waits behind another process's writes), and a
        table an older version created is upgraded first
        (see
        :func:`agentsdb.migrator.tracking_upkeep.upgrade`); without it, nothing changes (reads work
        on
        either shape).
        """
        rows = await self._db.run(self._read_program(sql, create))
        if rows is None and create:
            await self._run.runner.run(self._run.runner.create(self._sql.create))
            rows = await self._db.run(self._read_program(sql, create))
        if create:
            self._initialized = True
        return rows

    def _read_program(self, sql: str, create: bool) -> Program[list[Row] | None]:
        if not self._initialized:
            present = yield FetchOne(self._sql.exists, {"table": self._sql.table})
            if present is None:
                return None
            if create and not present["current"]:
                yield from upkeep.upgrade(self._sql, self._migrations, self._dialect)
        rows: list[Row] = yield FetchAll(sql)
        return rows

    async def _read_applied(self, *, create: bool) -> list[AppliedRecord]:
        rows = await self._read(self._sql.all_rows, create=create)
        return [AppliedRecord.from_row(row) for row in rows or []]

    async def _nothing_pending(self) -> bool:
        """The O(1) start: one query proves every registered migration is applied unchanged."""
        rows = await self._read(self._sql.head, create=True)
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
                MigrationResult(
                    m,
                    True,
                    "up",
                    now,
                    0.0,
                    dry_run=True,
                    note="would apply",
                    outcome=MigrationOutcome.PLANNED,
                )
                for m in pending
            ]
        runner = self._run.runner
        if rehearse:
            return await runner.run(applying.rehearse(self._run, pending, use_transaction))
        return await runner.run(applying.apply(self._run, pending, use_transaction, note))

    # --- rollback -------------------------------------------------------------------------------

    async def plan_rollback(self, to: str | None = None) -> list[Migration]:
        """The migrations ``rollback_to(to)`` (``to=None``: ``rollback_last()``) would undo,
        newest first, checked as the rollback checks them; changes nothing."""
        return self._rollback_plan(await self._read_applied(create=False), to)

    def _rollback_plan(self, applied: Sequence[AppliedRecord], to: str | None) -> list[Migration]:
        return rolling_back.plan(self._migrations, applied, to, self._dialect)

    async def rollback_last(self) -> MigrationResult | None:
        """Undo the newest applied migration (its ``down`` and its row, in one transaction).

        Returns None when nothing is applied; IrreversibleMigrationError when it has no down.
        """
        applied = await self._read_applied(create=False)
        plan = self._rollback_plan(applied, None)
        if not plan:
            return None
        note = await self._check_drift(applied, fail_on_drift=False)
        results = await self._run.runner.run(rolling_back.rollback(self._run, plan, note))
        return results[0]

    async def rollback_to(self, migration_id: str) -> list[MigrationResult]:
        """Undo, newest first, every applied migration after ``migration_id`` ("0" undoes all).

        Every one of them is checked reversible before anything changes.
        """
        applied = await self._read_applied(create=False)
        plan = self._rollback_plan(applied, migration_id)
        if not plan:
            return []
        note = await self._check_drift(applied, fail_on_drift=False)
        return await self._run.runner.run(rolling_back.rollback(self._run, plan, note))

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
            self._sql, self._migrations, self._dialect, migration_id, self._run.row
        )
        if mark_applied and await self._db.run(restore):
            log.warning("repaired migration %s: its missing row is recorded again", migration_id)
            return
        program = repair_program(self._run, migration_id, migration, mark_applied)
        await self._run.runner.run(program)
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

    # --- reports --------------------------------------------------------------------------------

    async def get_applied(self) -> list[AppliedRecord]:
        """The tracking rows, in apply order (empty when the table does not exist yet)."""
        return await self._read_applied(create=False)

    async def get_migration_summary(self) -> MigrationSummary:
        """Current version (of the set registered first, and per set), counts, and the ids still
        pending; an optional set's migrations count only once applied."""
        applied = await self._read_applied(create=False)
        return reports.summary(self._migrations, self._optional, applied)

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
        return reports.validation(self._migrations, self._optional, applied, self._dialect, live)

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
        """Compare the live schema with the recorded one before a run that changes it; the
        drift note the run must keep on the fingerprint it records (None: no drift)."""
        if not applied or not applied[-1].success:
            return None
        live = await self._db.run(drift_rules.live_schema(self._sql))
        return reports.drift_before_run(applied, live, fail_on_drift)

    def _validation_program(
        self,
    ) -> Program[tuple[list[Row] | None, tuple[str, int | None] | None]]:
        rows = yield from self._read_program(self._sql.all_rows, create=False)
        if rows is None:
            return None, None
        live = yield from drift_rules.live_schema(self._sql)
        return rows, live
