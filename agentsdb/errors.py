"""The agentsdb exception hierarchy.

Every error the library raises derives from :class:`AgentsDBError`. Driver errors are wrapped with
``raise ... from`` so the original stays available as ``__cause__``. Each class carries the data
that caused it as attributes, and its message says what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentsdb.rules.quoting import short_repr

if TYPE_CHECKING:
    from agentsdb.errors_validation import ValidationError as ValidationError
    from agentsdb.migrator.results import MigrationResult


def __getattr__(name: str) -> object:
    # ValidationError is also a pydantic ValidationError, and pydantic-core takes about as long
    # to import as Python takes to start: it is loaded when the class is first asked for, so the
    # command line's migrate does without it. It is the same class on every access.
    if name == "ValidationError":
        from agentsdb.errors_validation import ValidationError as ValidationError

        return ValidationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AgentsDBError(Exception):
    """Root of every error raised by agentsdb."""


# --- configuration -------------------------------------------------------------------------------


class ConfigurationError(AgentsDBError):
    """A URL, option or argument given to agentsdb is not usable."""


class UnsupportedBackendError(ConfigurationError):
    """The URL names a backend this installation cannot use (unknown scheme or missing extra)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot open {url!r}: {reason}")


class UnsupportedOperationError(AgentsDBError):
    """The backend in use cannot perform the requested operation."""


# --- database ------------------------------------------------------------------------------------


class DatabaseError(AgentsDBError):
    """A statement failed in the database driver. The driver's exception is ``__cause__``."""

    def __init__(self, message: str, *, sql: str | None = None) -> None:
        self.sql = sql
        super().__init__(message)


class IntegrityError(DatabaseError):
    """A constraint (unique, foreign key, check, not null) rejected the change."""

    def __init__(
        self, message: str, *, sql: str | None = None, constraint: str | None = None
    ) -> None:
        self.constraint = constraint
        super().__init__(message, sql=sql)


class UniqueViolationError(IntegrityError):
    """A row with the same unique key already exists."""


class ForeignKeyViolationError(IntegrityError):
    """A reference points at a row that does not exist (or still has dependants)."""


class CheckViolationError(IntegrityError):
    """A CHECK or NOT NULL constraint rejected a value."""


class DatabaseBusyError(DatabaseError):
    """Another connection held the lock for longer than the busy timeout."""


class ConnectionClosedError(DatabaseError):
    """The database connection was used after it was closed."""


class ConnectionLostError(ConnectionClosedError):
    """The server closed the connection, or the network dropped it, while it was in use.

    ``may_have_committed`` is True when the write that was in flight (a statement outside a
    transaction, or a COMMIT) may have taken effect before the connection went: check before
    running it again. An open transaction that loses its connection is rolled back by the server.
    """

    def __init__(
        self, message: str, *, sql: str | None = None, may_have_committed: bool = False
    ) -> None:
        self.may_have_committed = may_have_committed
        super().__init__(message, sql=sql)


class DatabaseFileError(DatabaseError):
    """The SQLite database file cannot be opened, read or written; ``path`` names it.

    Raised for a missing folder, a directory or an unreadable file given as the database, a
    read-only file, a file that is not a SQLite database (or is corrupt), and I/O errors.
    """

    def __init__(self, message: str, *, path: str, sql: str | None = None) -> None:
        self.path = path
        super().__init__(message, sql=sql)


class DiskFullError(DatabaseFileError):
    """The database file (or its ``-wal``/``-shm`` companion) could not grow: the disk holding
    it is full, or the database reached its ``max_page_count``."""


class NotFoundError(AgentsDBError):
    """The row an update or delete addressed does not exist."""

    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {short_repr(key)} does not exist")


class IdempotencyKeyConflictError(AgentsDBError):
    """A message was appended with a ``client_message_id`` its conversation already has, and the
    stored message says something else. Nothing was stored.

    A retry must resend the same message; a new message needs a new key. ``existing_id`` is the
    id of the message stored under the key.
    """

    def __init__(self, conversation_id: str, client_message_id: str, existing_id: int) -> None:
        self.conversation_id = conversation_id
        self.client_message_id = client_message_id
        self.existing_id = existing_id
        super().__init__(
            f"conversation {short_repr(conversation_id)} already has message {existing_id} with "
            f"client_message_id {short_repr(client_message_id)}, and it differs from this one "
            "(role, sender, content or tool calls); resend the same message to retry, or give a "
            "new message a new key"
        )


# --- migrations ----------------------------------------------------------------------------------


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


class MigrationError(AgentsDBError):
    """A migration failed while applying, rehearsing or rolling back.

    ``results`` holds the results of the migrations handled before it plus the failed one (its
    ``error`` says why). The failed migration was rolled back and not recorded.
    """

    def __init__(self, message: str, results: Sequence[MigrationResult]) -> None:
        self.results = list(results)
        super().__init__(message)

    @property
    def failed(self) -> MigrationResult | None:
        """The result of the migration that failed, when there is one."""
        for result in self.results:
            if not result.success:
                return result
        return None


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


# --- event store ---------------------------------------------------------------------------------


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: messages never repeat a whole large input."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class InvalidEventError(AgentsDBError, ValueError):
    """An argument given to the event store was refused before any SQL ran.

    ``argument`` names it (``"stream_id"``, ``"events[2].data"``...) and ``problem`` says what is
    wrong; the message quotes at most a short prefix of the value.
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


class ConcurrencyError(AgentsDBError):
    """An append's expected version did not hold: another writer appended (or deleted) first.

    ``expected`` is what the caller passed (a number or a ``StreamState``), ``actual`` the
    stream's version read after the failure (0 when it holds no event). Reload the stream,
    decide again, and append with the new version.
    """

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        name = getattr(expected, "name", None)
        wanted = name if isinstance(name, str) else f"version {expected}"
        super().__init__(
            f"stream {_short(stream_id)}: expected {wanted}, but the stream is at version "
            f"{actual}; reload it and retry"
        )


class EventIdConflictError(AgentsDBError):
    """An append reused an event id already stored with other content (or in another place).

    A retry of an append must send the same events (type, data, metadata, schema version) to
    the same stream; anything else with the same id is a different event and needs a new id.
    """

    def __init__(self, event_id: str, reason: str) -> None:
        self.event_id = event_id
        self.reason = reason
        super().__init__(f"event id {_short(event_id)} is already stored: {reason}")
