"""Rolling migrations back: which ones, checked before anything changes, and the run itself.

Rollbacks refuse a ``down`` edited since its migration was applied (its checksum is recorded with
the row), an unknown, dirty or edited migration, and a history with rows deleted from the middle.
Each step runs the down and removes the row in one transaction (a ``transactional=False``
migration: recorded dirty first, as when applying it); the run then records the schema's
fingerprint on the new newest row, as an apply does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from agentsdb.clock import format_timestamp, utc_now
from agentsdb.db.base import FetchOne, Row
from agentsdb.db.migration_programs import elapsed_ms
from agentsdb.db.migration_runner import Change, Decide, MigrationProgram, Statement
from agentsdb.errors import (
    AgentsDBError,
    ChecksumMismatchError,
    ConfigurationError,
    DirtyMigrationError,
    IrreversibleMigrationError,
    MigrationError,
    MigrationLockError,
    MigrationValidationError,
    UnknownMigrationError,
)
from agentsdb.migration import Migration
from agentsdb.migrator.apply import change, label, stamp_quietly
from agentsdb.migrator.plan import AppliedRecord, check_down, find_missing, select_rollbacks
from agentsdb.migrator.plan_sets import owned_by
from agentsdb.migrator.results import MigrationResult
from agentsdb.migrator.rows import Context, fixed, who, writes
from agentsdb.migrator.run_notes import note_lock_lost

log = logging.getLogger("agentsdb.migrations")


def plan(
    migrations: Sequence[Migration], applied: Sequence[AppliedRecord], to: str | None, dialect: str
) -> list[Migration]:
    """What ``rollback_to(to)`` (``to=None``: ``rollback_last()``) undoes, newest first, checked."""
    if to is not None:
        chosen = select_rollbacks(migrations, applied, to)
        check_source(migrations, applied, {m.id for m in chosen}, dialect)
        return chosen
    if not applied:
        return []
    if not owned_by(migrations, applied[-1].id):
        raise ConfigurationError(
            f"the newest applied migration {applied[-1].id} belongs to a set not registered "
            "here; register its set to roll it back"
        )
    check_source(migrations, applied, {applied[-1].id}, dialect)
    migration = next(m for m in migrations if m.id == applied[-1].id)
    if not migration.reversible:
        raise IrreversibleMigrationError(migration.id)
    return [migration]


def check_source(
    migrations: Sequence[Migration],
    applied: Sequence[AppliedRecord],
    undo: set[str],
    dialect: str,
) -> None:
    """Refuse, before anything changes, to undo what the code does not match: an unknown,
    dirty or edited migration, a ``down`` edited since the migration was applied, or a
    history with rows missing from the middle."""
    known = {migration.id: migration for migration in migrations}
    records = [record for record in applied if record.id in undo]
    unknown = [record.id for record in records if record.id not in known]
    if unknown:
        raise UnknownMigrationError(unknown)
    missing = find_missing(migrations, applied, dialect)
    if missing is not None:
        raise missing
    for record in records:
        if not record.success:
            raise DirtyMigrationError(
                record.id, record.started_at, record.applied_by, record.dirty_direction
            )
        actual = known[record.id].checksum(dialect)
        if actual != record.checksum:
            raise ChecksumMismatchError(record.id, record.checksum, actual)
        down_changed, unverified = check_down(record, known[record.id], dialect)
        if down_changed is not None:
            raise down_changed
        if unverified is not None:
            log.warning("rolling back with an unverified down: %s", unverified)


def rollback(
    ctx: Context, chosen: Sequence[Migration], note: str | None
) -> MigrationProgram[list[MigrationResult]]:
    """Undo ``chosen`` (checked, newest first); ``note``: drift found before the run."""
    results: list[MigrationResult] = []
    try:
        for migration in chosen:
            results.append((yield from _one(ctx, migration, results)))
    except MigrationError:
        if results:
            yield from stamp_quietly(ctx, note)
        raise
    yield from ctx.runner.transact(Change(label="the schema fingerprint"), ctx.stamp(note))
    return results


def _newest_is(ctx: Context, migration: Migration, statements: Sequence[Statement]) -> Decide:
    """Under the lock: refuse unless ``migration`` is still the newest applied one."""
    latest: Row | None = yield FetchOne(ctx.sql.latest_row)
    if latest is None or latest["id"] != migration.id:
        found = "nothing" if latest is None else latest["id"]
        raise MigrationValidationError(
            f"expected migration {migration.id} to be the newest applied, found {found}: "
            "another process changed the migrations meanwhile; check `agentsdb status`"
        )
    return fixed(statements)


def _one(
    ctx: Context, migration: Migration, done: Sequence[MigrationResult]
) -> MigrationProgram[MigrationResult]:
    statements = migration.down_statements(ctx.dialect)
    if statements is None:
        raise IrreversibleMigrationError(migration.id)
    started_at, started = utc_now(), time.perf_counter()
    finish: list[Statement] = [(ctx.sql.delete, {"id": migration.id}), (ctx.sql.restamp, None)]
    try:
        if migration.transactional:
            elapsed = yield from ctx.runner.transact(
                change(migration, statements), _newest_is(ctx, migration, finish)
            )
        else:
            dirty: list[Statement] = [
                (
                    ctx.sql.mark_dirty,
                    {
                        "id": migration.id,
                        "started_at": format_timestamp(started_at),
                        "applied_by": who(),
                    },
                )
            ]
            yield from ctx.runner.transact(
                Change(label=label(migration)), _newest_is(ctx, migration, dirty)
            )
            yield from ctx.runner.run_alone(statements)
            elapsed = None
            yield from ctx.runner.transact(Change(label=label(migration)), writes(finish))
    except MigrationValidationError:
        raise
    except MigrationLockError as error:
        note_lock_lost(error, migration, "down")
        raise
    except AgentsDBError as error:
        failed = MigrationResult(
            migration, False, "down", started_at, elapsed_ms(started), error=str(error)
        )
        state = "was rolled back" if migration.transactional else "is recorded as dirty"
        raise MigrationError(
            f"rolling back migration {migration.id} ({migration.description}) failed and "
            f"{state}: {error}",
            [*done, failed],
        ) from error
    took = elapsed if elapsed is not None else elapsed_ms(started)
    log.info("rolled back migration %s (%s) in %.1f ms", migration.id, migration.description, took)
    return MigrationResult(migration, True, "down", started_at, took)


__all__ = ["check_source", "plan", "rollback"]
