"""agentsdb: the persistence layer for AI-agent platforms.

>>> import agentsdb
>>> async def main() -> None:
...     async with agentsdb.connect("agents.db") as db:
...         await agentsdb.Migrator(db).migrate()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_MODEL_NAMES = (
    "Embedding",
    "EmbeddingSource",
    "Agent",
    "AgentStatus",
    "AgentUpdate",
    "Conversation",
    "ConversationUpdate",
    "EffectiveSession",
    "LogRole",
    "LogType",
    "Memory",
    "MemoryAccess",
    "MemorySearchHit",
    "MemoryUpdate",
    "Message",
    "MessageRole",
    "MessageSearchHit",
    "PermissionMode",
    "Page",
    "PersonaBio",
    "PersonaBioSource",
    "PersonaSource",
    "ProfileMetadata",
    "ReadMode",
    "Session",
    "SessionLog",
    "SessionLogNode",
    "SessionLogUpdate",
    "SessionStatus",
    "SessionUpdate",
    "User",
    "UserUpdate",
)
_ERROR_NAMES = (
    "AgentsDBError",
    "ChecksumMismatchError",
    "CheckViolationError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ConnectionLostError",
    "DatabaseBusyError",
    "DatabaseError",
    "DatabaseFileError",
    "DirtyMigrationError",
    "DiskFullError",
    "DownChecksumMismatchError",
    "ForeignKeyViolationError",
    "IdempotencyKeyConflictError",
    "IntegrityError",
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
)
_REPOSITORY_NAMES = (
    "EmbeddingRepository",
    "AgentRepository",
    "ConversationRepository",
    "MemoryRepository",
    "MessageRepository",
    "PersonaBioRepository",
    "ProfileMetadataRepository",
    "SessionLogRepository",
    "SessionRepository",
    "UserRepository",
)

if TYPE_CHECKING:
    from agentsdb.db import connect
    from agentsdb.db.base import Database, ExecuteResult, Transaction
    from agentsdb.errors import (
        AgentsDBError,
        ChecksumMismatchError,
        CheckViolationError,
        ConfigurationError,
        ConnectionClosedError,
        ConnectionLostError,
        DatabaseBusyError,
        DatabaseError,
        DatabaseFileError,
        DirtyMigrationError,
        DiskFullError,
        DownChecksumMismatchError,
        ForeignKeyViolationError,
        IdempotencyKeyConflictError,
        IntegrityError,
        IrreversibleMigrationError,
        LeaseLostError,
        MigrationDefinitionError,
        MigrationError,
        MigrationLockError,
        MigrationOrderError,
        MigrationValidationError,
        MissingMigrationRecordError,
        NotFoundError,
        RepairError,
        SchemaDriftError,
        UniqueViolationError,
        UnknownMigrationError,
        UnsupportedBackendError,
        UnsupportedOperationError,
        ValidationError,
    )
    from agentsdb.migration import Migration
    from agentsdb.migration_set import MigrationSet
    from agentsdb.migrator import Migrator
    from agentsdb.migrator.results import (
        MigrationOutcome,
        MigrationResult,
        MigrationSummary,
        ValidationResult,
    )
    from agentsdb.models import (
        Agent,
        AgentStatus,
        AgentUpdate,
        Conversation,
        ConversationUpdate,
        EffectiveSession,
        Embedding,
        EmbeddingSource,
        LogRole,
        LogType,
        Memory,
        MemoryAccess,
        MemorySearchHit,
        MemoryUpdate,
        Message,
        MessageRole,
        MessageSearchHit,
        Page,
        PermissionMode,
        PersonaBio,
        PersonaBioSource,
        PersonaSource,
        ProfileMetadata,
        ReadMode,
        Session,
        SessionLog,
        SessionLogNode,
        SessionLogUpdate,
        SessionStatus,
        SessionUpdate,
        User,
        UserUpdate,
    )
    from agentsdb.repositories import (
        AgentRepository,
        ConversationRepository,
        EmbeddingRepository,
        MemoryRepository,
        MessageRepository,
        PersonaBioRepository,
        ProfileMetadataRepository,
        SessionLogRepository,
        SessionRepository,
        UserRepository,
    )

# Every public name is loaded on first use: the models and repositories build pydantic schemas
# on import (about 0.2 s), and the engine's modules pull in asyncio and pydantic-core, which the
# command line's no-op `migrate` does without (see benchmarks/bench_cli.py).
_LAZY_MODULES = {
    "connect": "agentsdb.db",
    **dict.fromkeys(("Database", "ExecuteResult", "Transaction"), "agentsdb.db.base"),
    **dict.fromkeys(_ERROR_NAMES, "agentsdb.errors"),
    "Migration": "agentsdb.migration",
    "MigrationSet": "agentsdb.migration_set",
    "Migrator": "agentsdb.migrator",
    **dict.fromkeys(
        ("MigrationOutcome", "MigrationResult", "MigrationSummary", "ValidationResult"),
        "agentsdb.migrator.results",
    ),
    **dict.fromkeys(_MODEL_NAMES, "agentsdb.models"),
    **dict.fromkeys(_REPOSITORY_NAMES, "agentsdb.repositories"),
}


def _version() -> str:
    # importlib.metadata costs about 30 ms to import: read only when __version__ is asked for.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agentsdb")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
        globals()[name] = value
        return value
    module = _LAZY_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'agentsdb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Agent",
    "AgentRepository",
    "AgentStatus",
    "AgentUpdate",
    "AgentsDBError",
    "CheckViolationError",
    "ChecksumMismatchError",
    "ConfigurationError",
    "ConnectionClosedError",
    "ConnectionLostError",
    "Conversation",
    "ConversationRepository",
    "ConversationUpdate",
    "Database",
    "DatabaseBusyError",
    "DatabaseError",
    "DatabaseFileError",
    "DirtyMigrationError",
    "DiskFullError",
    "DownChecksumMismatchError",
    "EffectiveSession",
    "Embedding",
    "EmbeddingRepository",
    "EmbeddingSource",
    "ExecuteResult",
    "ForeignKeyViolationError",
    "IdempotencyKeyConflictError",
    "IntegrityError",
    "IrreversibleMigrationError",
    "LeaseLostError",
    "LogRole",
    "LogType",
    "Memory",
    "MemoryAccess",
    "MemoryRepository",
    "MemorySearchHit",
    "MemoryUpdate",
    "Message",
    "MessageRepository",
    "MessageRole",
    "MessageSearchHit",
    "Migration",
    "MigrationDefinitionError",
    "MigrationError",
    "MigrationLockError",
    "MigrationOrderError",
    "MigrationOutcome",
    "MigrationResult",
    "MigrationSet",
    "MigrationSummary",
    "MigrationValidationError",
    "Migrator",
    "MissingMigrationRecordError",
    "NotFoundError",
    "Page",
    "PermissionMode",
    "PersonaBio",
    "PersonaBioRepository",
    "PersonaBioSource",
    "PersonaSource",
    "ProfileMetadata",
    "ProfileMetadataRepository",
    "ReadMode",
    "RepairError",
    "SchemaDriftError",
    "Session",
    "SessionLog",
    "SessionLogNode",
    "SessionLogRepository",
    "SessionLogUpdate",
    "SessionRepository",
    "SessionStatus",
    "SessionUpdate",
    "Transaction",
    "UniqueViolationError",
    "UnknownMigrationError",
    "UnsupportedBackendError",
    "UnsupportedOperationError",
    "User",
    "UserRepository",
    "UserUpdate",
    "ValidationError",
    "ValidationResult",
    "__version__",
    "connect",
]
