"""What the Migrator reports back."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from agentsdb.errors import AgentsDBError, MigrationError
from agentsdb.migration import Migration

Direction = Literal["up", "down"]


class MigrationOutcome(enum.Enum):
    """What became of one migration in one run."""

    #: Applied and committed.
    APPLIED = "applied"
    #: Its down ran and its row was removed, committed.
    ROLLED_BACK = "rolled back"
    #: ``dry_run``: it would be applied; nothing ran.
    PLANNED = "would apply"
    #: ``rehearse``: it ran and was rolled back.
    REHEARSED = "rehearsed"
    #: ``rehearse`` stopped at it without running it (``note`` says why).
    NOT_REHEARSED = "not rehearsed"
    #: It failed and nothing of it was kept.
    FAILED = "failed"
    #: It failed outside a transaction, part-way, and is recorded as dirty (see ``repair``).
    LEFT_DIRTY = "left dirty"


@dataclass(frozen=True)
class MigrationResult:
    """The outcome of running (or, with ``dry_run``, planning) one migration in one direction.

    ``outcome`` says what became of it (see :class:`MigrationOutcome`; when not given, it
    follows from ``success``, ``dry_run`` and ``direction``). ``dry_run`` is true for planned and
    rehearsed results: nothing they describe was kept. ``note`` explains a result that needs it (for
    instance a migration a rehearsal skipped).
    """

    migration: Migration
    success: bool
    direction: Direction
    executed_at: datetime
    execution_time_ms: float
    error: str | None = None
    dry_run: bool = False
    note: str | None = None
    outcome: MigrationOutcome | None = None

    def __post_init__(self) -> None:
        if self.outcome is None:
            if not self.success:
                derived = MigrationOutcome.FAILED
            elif self.dry_run:
                derived = MigrationOutcome.PLANNED
            else:
                derived = (
                    MigrationOutcome.APPLIED
                    if self.direction == "up"
                    else MigrationOutcome.ROLLED_BACK
                )
            object.__setattr__(self, "outcome", derived)

    @property
    def migration_id(self) -> str:
        """The id of the migration this result is about."""
        return self.migration.id


@dataclass(frozen=True)
class MigrationSummary:
    """Where a database stands against the registered migrations."""

    current_version: str | None
    total_migrations: int
    applied_migrations: int
    pending_migrations: int
    pending_migration_ids: list[str] = field(default_factory=list)
    #: Per registered set: the id of its newest applied migration (None when none is).
    current_by_set: dict[str, str | None] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ValidationResult:
    """Every problem found between the code, the tracking table and the live schema."""

    is_valid: bool
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
