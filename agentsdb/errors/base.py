"""The root of the hierarchy and the errors of configuration, the database and stored rows."""

from __future__ import annotations

from typing import Any

from agentsdb.rules.quoting import short_repr


class AgentsDBError(Exception):
    """Root of every error raised by agentsdb.

    Every one pickles (to another process, a task queue) and comes back equal: the arguments it
    was made with are kept, since most subclasses take other arguments than the message that
    ``Exception.args`` holds, and unpickling calls the class with them.
    """

    _made_with: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> AgentsDBError:
        error = super().__new__(cls, *args)
        error._made_with = (args, kwargs)
        return error

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self._made_with
        return (_remade, (type(self), args, kwargs), self.__dict__)


def _remade(cls: type[AgentsDBError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """An error of ``cls`` made again from its arguments (unpickling)."""
    return cls(*args, **kwargs)


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
