"""Applying and rehearsing pending migrations, as programs of the backend runner's fragments.

Safety rules, each proved by a test on every backend:

* A migration's statements and the tracking row that records it commit in one transaction; a
  failure rolls both back and stops the run.
* The applied set is re-read under the migration lock, so processes racing ``migrate()`` apply
  each migration exactly once; a dirty row met there raises DirtyMigrationError.
* Migrations that cannot run in a transaction are recorded as dirty before they start and marked
  finished after; a crash in between makes later runs refuse until ``repair``.
* The live schema's fingerprint is recorded once per run, on the newest row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from agentsdb.clock import utc_now
from agentsdb.db.base import Row
from agentsdb.db.migration_programs import elapsed_ms
from agentsdb.db.migration_runner import Change, MigrationProgram, Statement
from agentsdb.errors import (
    AgentsDBError,
    MigrationError,
    MigrationLockError,
    MigrationValidationError,
)
from agentsdb.migration import Migration
from agentsdb.migrator.results import MigrationOutcome, MigrationResult
from agentsdb.migrator.rows import FINISH_PARAMETERS, Context, writes
from agentsdb.migrator.run_notes import (
    NOT_TRANSACTIONAL,
    left_dirty,
    note_applied,
    note_lock_lost,
    other_foreign_keys,
    rehearsal_failed,
    rehearsal_skipped,
)

log = logging.getLogger("agentsdb.migrations")


def runs_in_transaction(migration: Migration, use_transaction: bool) -> bool:
    """``use_transaction=False`` does not apply to a ``foreign_keys=False`` rebuild: its foreign
    key check must run before COMMIT, and outside a transaction its keys would stay on, so a
    ``DROP TABLE`` of the old table would cascade into (delete) the rows that refer to it."""
    return migration.transactional and (use_transaction or not migration.foreign_keys)


def label(migration: Migration) -> str:
    return f"migration {migration.id}"


def change(migration: Migration, statements: Sequence[str] = ()) -> Change:
    """The runner's view of (one transaction of) ``migration``."""
    return Change(statements, not migration.foreign_keys, label(migration))


def apply(
    ctx: Context, pending: Sequence[Migration], use_transaction: bool, note: str | None
) -> MigrationProgram[list[MigrationResult]]:
    """Apply ``pending`` (validated) in order; ``note``: drift found before the run, kept on
    the fingerprint the run records."""
    results: list[MigrationResult] = []
    try:
        for migration in pending:
            if runs_in_transaction(migration, use_transaction):
                result = yield from _in_transaction(ctx, migration, results)
            else:
                result = yield from _outside_transaction(ctx, migration, results)
            if result is not None:
                results.append(result)
    except MigrationError:
        # The migrations before the failed one stay committed: record the schema they left.
        if results:
            yield from stamp_quietly(ctx, note)
        raise
    except AgentsDBError as error:
        # The lock lost, a closed connection, another process's dirty row: the migrations
        # before it stay committed, and the caller should know which.
        note_applied(error, results)
        raise
    try:
        if results:
            yield from ctx.runner.transact(Change(label="the schema fingerprint"), ctx.stamp(note))
    except AgentsDBError as error:
        note_applied(error, results)
        raise
    return results


def stamp_quietly(ctx: Context, note: str | None) -> MigrationProgram[None]:
    """Record the fingerprint after a failed migration; a failure to do so is only logged."""
    try:
        yield from ctx.runner.transact(Change(label="the schema fingerprint"), ctx.stamp(note))
    except AgentsDBError as error:
        log.warning("could not record the schema fingerprint after a failure: %s", error)


def _in_transaction(
    ctx: Context, migration: Migration, done: Sequence[MigrationResult]
) -> MigrationProgram[MigrationResult | None]:
    started_at, started = utc_now(), time.perf_counter()

    def insert(latest: Row, elapsed: float | None) -> Sequence[Statement]:
        row = ctx.row(migration, latest, started_at, elapsed_ms=elapsed, success=True)
        return [(ctx.sql.insert, row)]

    try:
        elapsed = yield from ctx.runner.transact(
            change(migration, migration.up_statements(ctx.dialect)),
            ctx.claim(migration, insert),
            timing=ctx.timing(migration),
        )
    except MigrationValidationError:
        raise
    except MigrationLockError as error:
        note_lock_lost(error, migration, "up")
        raise
    except AgentsDBError as error:
        failed = MigrationResult(
            migration, False, "up", started_at, elapsed_ms(started), error=str(error)
        )
        raise MigrationError(
            f"migration {migration.id} ({migration.description}) failed and was rolled "
            f"back, nothing of it was kept: {error}",
            [*done, failed],
        ) from error
    if elapsed is None:
        return None
    log.info("applied migration %s (%s) in %.1f ms", migration.id, migration.description, elapsed)
    return MigrationResult(migration, True, "up", started_at, elapsed)


def _outside_transaction(
    ctx: Context, migration: Migration, done: Sequence[MigrationResult]
) -> MigrationProgram[MigrationResult | None]:
    started_at = utc_now()
    claimed: dict[str, Row] = {}

    def insert_dirty(latest: Row, _elapsed: float | None) -> Sequence[Statement]:
        claimed["latest"] = latest
        row = ctx.row(migration, latest, started_at, elapsed_ms=None, success=False)
        return [(ctx.sql.insert, row)]

    recorded = yield from ctx.runner.transact(
        Change(label=label(migration)), ctx.claim(migration, insert_dirty)
    )
    if recorded is None:
        return None
    started = time.perf_counter()
    try:
        yield from ctx.runner.run_alone(migration.up_statements(ctx.dialect))
    except MigrationLockError as error:
        note_lock_lost(error, migration, "up")
        raise
    except AgentsDBError as error:
        raise left_dirty(migration, started_at, elapsed_ms(started), error, done) from error
    elapsed = elapsed_ms(started)
    row = ctx.row(migration, claimed["latest"], started_at, elapsed_ms=elapsed, success=True)
    finish: list[Statement] = [(ctx.sql.finish, {key: row[key] for key in FINISH_PARAMETERS})]
    yield from ctx.runner.transact(Change(label=label(migration)), writes(finish))
    log.info(
        "applied non-transactional migration %s (%s) in %.1f ms",
        migration.id,
        migration.description,
        elapsed,
    )
    return MigrationResult(migration, True, "up", started_at, elapsed)


def rehearse(
    ctx: Context, pending: Sequence[Migration], use_transaction: bool
) -> MigrationProgram[list[MigrationResult]]:
    """Run ``pending`` in one transaction that is rolled back (see ``Migrator.migrate``)."""
    started_at = utc_now()
    units: list[Change] = []
    skipped: MigrationResult | None = None
    for migration in pending:
        if not runs_in_transaction(migration, use_transaction):
            skipped = rehearsal_skipped(migration, started_at, NOT_TRANSACTIONAL)
            break
        units.append(change(migration, migration.up_statements(ctx.dialect)))
    rehearsal = yield from ctx.runner.rehearse(units)
    results = [
        MigrationResult(
            migration,
            True,
            "up",
            started_at,
            elapsed,
            dry_run=True,
            note="rehearsed and rolled back",
            outcome=MigrationOutcome.REHEARSED,
        )
        for migration, elapsed in zip(pending, rehearsal.elapsed_ms, strict=False)
    ]
    ran = len(rehearsal.elapsed_ms)
    if rehearsal.error is not None:
        error: Any = rehearsal.error
        raise rehearsal_failed(pending[ran], started_at, 0.0, error, results) from error
    if rehearsal.stopped_for_keys:
        reason = other_foreign_keys(rehearsal.keys_off)
        return [*results, rehearsal_skipped(pending[ran], started_at, reason)]
    return [*results, skipped] if skipped is not None else results


__all__ = ["apply", "change", "label", "rehearse", "runs_in_transaction", "stamp_quietly"]
