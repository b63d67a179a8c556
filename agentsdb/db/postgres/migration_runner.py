"""The Migrator's runner on PostgreSQL: programs awaited one operation at a time.

The migration lock is a transaction-scoped advisory lock, polled with ``pg_try_advisory_xact_lock``
up to the lock timeout (``Begin(lock_name=...)``). Table rebuilds need no foreign keys switched
off: ``ALTER TABLE`` changes a table in place, so nothing cascades.
"""

from __future__ import annotations

from agentsdb.db.base import Database
from agentsdb.db.migration_programs import ProgramMigrationRunner
from agentsdb.db.postgres.tracking import tracking_catalog


def migration_runner(db: Database, lock_name: str, lock_timeout: float) -> ProgramMigrationRunner:
    """The runner of ``db`` (see :mod:`agentsdb.db.migration_runner`)."""
    return ProgramMigrationRunner(db, lock_name, lock_timeout, tracking_catalog)


__all__ = ["migration_runner"]
