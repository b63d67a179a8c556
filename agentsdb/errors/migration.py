"""The errors of defining, validating, locking and repairing migrations.

:class:`~agentsdb.errors.MigrationError`, which carries a run's results, is in
:mod:`agentsdb.errors.migration_run`.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.errors.base import AgentsDBError


class MigrationDefinitionError(AgentsDBError):
    """A migration is malformed: bad or duplicate id, empty body, or a statement lint forbids."""

    def __init__(self, migration_id: str, problem: str) -> None:
        self.migration_id = migration_id
        self.problem = problem
        super().__init__(f"migration {migration_id}: {problem}")


class MigrationValidationError(AgentsDBError):
    """The applied migrations recorded in the database disagree with the code.

    Raised by ``migrate()`` before it changes anything.
    """


class ChecksumMismatchError(MigrationValidationError):
    """An applied migration's statements were edited after it was applied."""

    def __init__(self, migration_id: str, expected: str, actual: str) -> None:
        self.migration_id = migration_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"migration {migration_id} was edited after it was applied: recorded checksum "
            f"{expected}, code now has {actual}. Restore the original statements and add a new "
            "migration for the change."
        )


class DownChecksumMismatchError(ChecksumMismatchError):
    """An applied migration's ``down`` statements were edited after it was applied.

    ``expected`` is the checksum of the down recorded when the migration was applied, ``actual``
    the checksum of the down the code has now (``None`` when the code no longer has one).
    Raised by ``rollback_last()``/``rollback_to()`` before anything changes, and reported by
    ``validate_migrations()``; ``migrate()`` does not run downs, so it is not blocked.
    """

    def __init__(self, migration_id: str, expected: str, actual: str | None) -> None:
        self.migration_id = migration_id
        self.expected = expected
        self.actual = actual if actual is not None else "(no down statements)"
        # Its own message: the parent's advice (add a new migration) does not fit a down.
        MigrationValidationError.__init__(
            self,
            f"the down statements of migration {migration_id} were edited after it was applied "
            f"(recorded {expected}, code now has {self.actual}), so a rollback would not run "
            "what was written for this schema. Restore the original down statements, or, if "
            f"the new ones are right for this database, record them with `agentsdb repair "
            f"{migration_id} --accept-down` (Migrator.accept_down) and roll back again.",
        )


class MissingMigrationRecordError(MigrationValidationError):
    """Tracking rows were deleted from the middle of the applied history.

    The digest recorded on the row after the gap still counts the deleted rows, so they were
    applied once; ``migration_ids`` names them (identified from the digests), ``after`` and
    ``before`` are the recorded rows around the gap (``after`` is None when the gap is at the
    start).
    """

    def __init__(self, migration_ids: Sequence[str], after: str | None, before: str) -> None:
        self.migration_ids = list(migration_ids)
        self.after = after
        self.before = before
        where = (
            f"between migrations {after} and {before}" if after else f"before migration {before}"
        )
        ids = ", ".join(self.migration_ids)
        first = self.migration_ids[0]
        super().__init__(
            f"the tracking rows of applied migration(s) {ids} are missing {where}: they were "
            "applied, then their rows were deleted, so migrate() will not apply them again over "
            "a schema that most likely still has their changes. Check the schema by hand, then "
            f"record them again with `agentsdb repair {first} --mark-applied` (one id at a time), "
            "or restore the tracking table from a backup."
        )


class UnknownMigrationError(MigrationValidationError):
    """The database records a migration the code does not define."""

    def __init__(self, migration_ids: Sequence[str]) -> None:
        self.migration_ids = list(migration_ids)
        ids = ", ".join(self.migration_ids)
        super().__init__(
            f"the database has applied migrations this code does not define: {ids}. "
            "Deploy code that includes them, or roll them back with the code that added them."
        )


class MigrationOrderError(MigrationValidationError):
    """A pending migration sorts before the newest applied one."""

    def __init__(self, pending_ids: Sequence[str], newest_applied: str) -> None:
        self.pending_ids = list(pending_ids)
        self.newest_applied = newest_applied
        ids = ", ".join(self.pending_ids)
        super().__init__(
            f"pending migrations {ids} sort before the newest applied migration "
            f"{newest_applied}. Renumber them after {newest_applied}, or pass "
            "allow_out_of_order=True to apply them anyway."
        )


class DirtyMigrationError(MigrationValidationError):
    """A non-transactional migration (or its rollback) started but never finished.

    ``direction`` is ``"up"`` for an interrupted apply and ``"down"`` for an interrupted rollback.
    """

    def __init__(
        self,
        migration_id: str,
        started_at: str | None,
        applied_by: str | None,
        direction: str = "up",
    ) -> None:
        self.migration_id = migration_id
        self.started_at = started_at
        self.applied_by = applied_by
        self.direction = direction
        repair = f"`agentsdb repair {migration_id}"
        if direction == "down":
            what = "rolling it back"
            advice = (
                f"{repair} --remove` if the rollback completed (the migration is no longer "
                f"applied) or {repair} --mark-applied` if it did not (it is still applied)"
            )
        else:
            what = "applying it"
            advice = f"{repair} --mark-applied` if it completed or {repair} --remove` if it did not"
        super().__init__(
            f"migration {migration_id} is dirty: {what} was started at {started_at} by "
            f"{applied_by} and never marked finished. If that process is gone, inspect the "
            f"schema, then run {advice}."
        )


class SchemaDriftError(MigrationValidationError):
    """The live schema no longer matches the fingerprint recorded by the last migration."""


class IrreversibleMigrationError(AgentsDBError):
    """A rollback was asked of a migration that has no ``down`` statements."""

    def __init__(self, migration_id: str) -> None:
        self.migration_id = migration_id
        super().__init__(
            f"migration {migration_id} has no down statements and cannot be rolled back; "
            "write a new migration that undoes it instead"
        )


class MigrationLockError(AgentsDBError):
    """The migration lock could not be taken within the lock timeout, or (as
    :class:`LeaseLostError`) was lost before the work under it could commit."""

    def __init__(self, timeout: float, message: str | None = None) -> None:
        self.timeout = timeout
        super().__init__(
            message
            or f"could not take the migration lock within {timeout:g} s: another process is "
            "migrating this database; retry when it has finished"
        )


class LeaseLostError(MigrationLockError):
    """A lease (the migration lock on a remote libSQL server) expired, or another process took
    it over, before the work under it could commit: that work was rolled back, not committed.

    ``name`` is the lease and ``seconds`` its length (also ``timeout``). Raised however late
    the loss is noticed: inside a migration, or while recording the run after its migrations
    committed (a note then names the migrations the run committed).
    """

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        super().__init__(
            seconds,
            f"the lease {name!r} expired before the work under it could commit (it ran or "
            f"stalled for longer than the lease's {seconds:g} s, or another process took the "
            "lease over), so that work was rolled back rather than committed; run it again",
        )


class RepairError(AgentsDBError):
    """``repair`` was asked to fix a migration that is not in a repairable state."""
