"""agentsdb: the persistence layer for AI-agent platforms.

>>> import agentsdb
>>> async def main() -> None:
...     async with agentsdb.connect("agents.db") as db:
...         await agentsdb.Migrator(db).migrate()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from agentsdb.db import connect
from agentsdb.db.base import Database, ExecuteResult, Transaction
from agentsdb.errors import (
    AgentsDBError,
    ChecksumMismatchError,
    CheckViolationError,
    ConfigurationError,
    ConnectionClosedError,
    DatabaseBusyError,
    DatabaseError,
    DirtyMigrationError,
    ForeignKeyViolationError,
    IntegrityError,
    IrreversibleMigrationError,
    MigrationDefinitionError,
    MigrationError,
    MigrationLockError,
    MigrationOrderError,
    MigrationValidationError,
    NotFoundError,
    RepairError,
    SchemaDriftError,
    UniqueViolationError,
    UnknownMigrationError,
    UnsupportedBackendError,
    UnsupportedOperationError,
)
from agentsdb.migration import Migration
from agentsdb.migrator import Migrator
from agentsdb.results import MigrationResult, MigrationSummary, ValidationResult

try:
    __version__ = version("agentsdb")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "AgentsDBError",
    "CheckViolationError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "ConnectionClosedError",
    "Database",
    "DatabaseBusyError",
    "DatabaseError",
    "DirtyMigrationError",
    "ExecuteResult",
    "ForeignKeyViolationError",
    "IntegrityError",
    "IrreversibleMigrationError",
    "Migration",
    "MigrationDefinitionError",
    "MigrationError",
    "MigrationLockError",
    "MigrationOrderError",
    "MigrationResult",
    "MigrationSummary",
    "MigrationValidationError",
    "Migrator",
    "NotFoundError",
    "RepairError",
    "SchemaDriftError",
    "Transaction",
    "UniqueViolationError",
    "UnknownMigrationError",
    "UnsupportedBackendError",
    "UnsupportedOperationError",
    "ValidationResult",
    "__version__",
    "connect",
]
