"""What a migration run says when it stops early: the notes it adds to an error that ends it,
and the :class:`~agentsdb.errors.MigrationError` (carrying its results) it raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agentsdb.errors import AgentsDBError, MigrationError
from agentsdb.migration import Migration
from agentsdb.migrator.results import MigrationOutcome, MigrationResult

NOT_TRANSACTIONAL = "it runs outside a transaction, so it cannot be rolled back"


def other_foreign_keys(keys_off: bool) -> str:
    """Why a rehearsal running with foreign keys off (or on) stops at one needing the other."""
    switch = "on" if keys_off else "off"
    return (
        f"it needs foreign keys switched {switch}, which cannot change inside the rehearsal's "
        "transaction"
    )


def rehearsal_skipped(migration: Migration, started_at: datetime, reason: str) -> MigrationResult:
    """The result of the migration a rehearsal stopped at, and why (later ones were not run)."""
    return MigrationResult(
        migration,
        True,
        "up",
        started_at,
        0.0,
        dry_run=True,
        note=f"not rehearsed: {reason}; later migrations were not rehearsed either",
        outcome=MigrationOutcome.NOT_REHEARSED,
    )


def note_applied(error: BaseException, results: Sequence[MigrationResult]) -> None:
    """Note on an error that ends a run (other than a MigrationError, which carries ``results``)
    which migrations the run had applied, and committed, before it."""
    applied = [result.migration.id for result in results if result.success]
    if applied:
        error.add_note(
            f"agentsdb: this run applied and committed {', '.join(applied)} before the error"
        )


def note_lock_lost(error: BaseException, migration: Migration, direction: str) -> None:
    """Note on a lost migration lock (raised as it is, not as a MigrationError: the lock, not
    the migration, failed) what became of the migration that was running."""
    doing = "applying" if direction == "up" else "rolling back"
    if not migration.transactional:
        outcome = "it may be recorded as dirty (check `agentsdb status`)"
    elif direction == "up":
        outcome = "nothing of it was kept"
    else:
        outcome = "it is still applied"
    error.add_note(f"agentsdb: {doing} migration {migration.id} stopped there: {outcome}")


def left_dirty(
    migration: Migration,
    started_at: datetime,
    elapsed_ms: float,
    error: AgentsDBError,
    done: Sequence[MigrationResult],
) -> MigrationError:
    """The error to raise (``from error``) when a non-transactional migration failed part-way."""
    failed = MigrationResult(
        migration,
        False,
        "up",
        started_at,
        elapsed_ms,
        error=str(error),
        outcome=MigrationOutcome.LEFT_DIRTY,
    )
    return MigrationError(
        f"non-transactional migration {migration.id} ({migration.description}) failed "
        f"part-way and is recorded as dirty: {error}. Inspect the schema, then run "
        f"`agentsdb repair {migration.id} --mark-applied` or `--remove`.",
        [*done, failed],
    )


def rehearsal_failed(
    migration: Migration,
    started_at: datetime,
    elapsed_ms: float,
    error: BaseException,
    done: list[MigrationResult],
) -> MigrationError:
    """The error to raise (``from error``) when rehearsing ``migration`` failed."""
    failed = MigrationResult(
        migration, False, "up", started_at, elapsed_ms, error=str(error), dry_run=True
    )
    return MigrationError(
        f"rehearsal of migration {migration.id} ({migration.description}) failed; "
        f"nothing was changed: {error}",
        [*done, failed],
    )
