"""The Migrator's runner on SQLite: programs on the worker thread, one hop per run.

The migration lock is the database's own write lock (``BEGIN IMMEDIATE``), and foreign keys are
switched per connection, so a table rebuild turns them off before its ``BEGIN``, runs
``PRAGMA foreign_key_check`` before its ``COMMIT`` and turns them back on after.
"""

from __future__ import annotations

from agentsdb.db.base import Database
from agentsdb.db.migration_programs import ProgramMigrationRunner
from agentsdb.db.sqlite.tracking import tracking_catalog


def migration_runner(db: Database, lock_name: str, lock_timeout: float) -> ProgramMigrationRunner:
    """The runner of ``db`` (see :mod:`agentsdb.db.migration_runner`)."""
    return ProgramMigrationRunner(
        db,
        lock_name,
        lock_timeout,
        tracking_catalog,
        keys_off=("PRAGMA foreign_keys = OFF",),
        keys_on=("PRAGMA foreign_keys = ON",),
        foreign_key_check="PRAGMA foreign_key_check",
    )


__all__ = ["migration_runner"]
