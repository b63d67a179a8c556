"""The agentsdb exception hierarchy.

Every error the library raises derives from :class:`AgentsDBError`. Driver errors are wrapped with
``raise ... from`` so the original stays available as ``__cause__``. Each class carries the data
that caused it as attributes, and its message says what to do next.

The classes live in one module per kind (:mod:`~agentsdb.errors.base`: configuration, database
and rows; :mod:`~agentsdb.errors.migration` and :mod:`~agentsdb.errors.migration_run`:
migrations; :mod:`~agentsdb.errors.events`: the event store; :mod:`~agentsdb.errors.validation`)
and are used from here: ``from agentsdb.errors import X``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentsdb.errors.base import (
    AgentsDBError,
    CheckViolationError,
    ConfigurationError,
    ConnectionClosedError,
    ConnectionLostError,
    DatabaseBusyError,
    DatabaseError,
    DatabaseFileError,
    DiskFullError,
    ForeignKeyViolationError,
    IdempotencyKeyConflictError,
    IntegrityError,
    NotFoundError,
    UniqueViolationError,
    UnsupportedBackendError,
    UnsupportedOperationError,
)
from agentsdb.errors.events import ConcurrencyError, EventIdConflictError, InvalidEventError
from agentsdb.errors.migration import (
    ChecksumMismatchError,
    DirtyMigrationError,
    DownChecksumMismatchError,
    IrreversibleMigrationError,
    LeaseLostError,
    MigrationDefinitionError,
    MigrationLockError,
    MigrationOrderError,
    MigrationValidationError,
    MissingMigrationRecordError,
    RepairError,
    SchemaDriftError,
    UnknownMigrationError,
)
from agentsdb.errors.migration_run import MigrationError

if TYPE_CHECKING:
    from agentsdb.errors.validation import ValidationError as ValidationError


def __getattr__(name: str) -> object:
    # ValidationError is also a pydantic ValidationError, and pydantic-core takes about as long
    # to import as Python takes to start: it is loaded when the class is first asked for, so the
    # command line's migrate does without it. It is the same class on every access.
    if name == "ValidationError":
        from agentsdb.errors.validation import ValidationError as ValidationError

        return ValidationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AgentsDBError",
    "CheckViolationError",
    "ChecksumMismatchError",
    "ConcurrencyError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ConnectionLostError",
    "DatabaseBusyError",
    "DatabaseError",
    "DatabaseFileError",
    "DirtyMigrationError",
    "DiskFullError",
    "DownChecksumMismatchError",
    "EventIdConflictError",
    "ForeignKeyViolationError",
    "IdempotencyKeyConflictError",
    "IntegrityError",
    "InvalidEventError",
    "IrreversibleMigrationError",
    "LeaseLostError",
    "MigrationDefinitionError",
    "MigrationError",
    "MigrationLockError",
    "MigrationOrderError",
    "MigrationValidationError",
    "MissingMigrationRecordError",
    "NotFoundError",
    "RepairError",
    "SchemaDriftError",
    "UniqueViolationError",
    "UnknownMigrationError",
    "UnsupportedBackendError",
    "UnsupportedOperationError",
    "ValidationError",
]

# Shown (in tracebacks, reprs) and pickled under the name users import them by.
for _name in __all__:
    if _name != "ValidationError":
        globals()[_name].__module__ = __name__
del _name
