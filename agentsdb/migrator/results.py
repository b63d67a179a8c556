"""What the Migrator reports back."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

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
