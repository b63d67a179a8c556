"""The command line's no-op ``migrate``, proved by one read-only query without an event loop.

``agentsdb migrate`` at every deploy usually finds nothing to do. When the database is a local
SQLite file, :func:`nothing_to_migrate` reads the tracking table's head row synchronously
(:func:`agentsdb.db.peek.peek`) and compares it with the registered migrations exactly as
``Migrator.migrate()`` does first (:func:`agentsdb.migrator.plan.all_applied`), so the command ends
without importing asyncio, the drivers or the engine. Anything it cannot prove (another backend,
a missing file or table, pending or edited migrations, a dirty row, options that need more than
that one query) falls through to the full command, which decides.
"""

from __future__ import annotations

import argparse
from functools import cache
from typing import TYPE_CHECKING

from agentsdb.migration import Migration

if TYPE_CHECKING:
    from agentsdb.folder_digest import FolderDigest

DEFAULT_TABLE = "agentsdb_migrations"


@cache
def registered_migrations(folder: str | None) -> tuple[Migration, ...]:
    """The migrations the command runs with: those of ``folder``, or the built-in ones.

    Checked and ordered as the Migrator registers them (loaded once per process).
    """
    from agentsdb.migrator.plan import register

    if folder is None:
        from agentsdb.migrations import builtin_migrations

        return register((), builtin_migrations())
    from agentsdb.migrations import load_migrations

    return register((), load_migrations(folder))


def nothing_to_migrate(args: argparse.Namespace) -> bool:
    """For a plain ``migrate`` (no dry run, rehearsal, limit, target, drift check or JSON):
    True, having printed what the full command prints, when one query proves every registered
    migration applied unchanged; False when the full command must run."""
    if (
        args.command != "migrate"
        or args.dry_run
        or args.rehearse
        or args.limit is not None
        or args.target is not None
        or args.fail_on_drift
        or args.json
        or getattr(args, "sets", None)
    ):
        return False
    from agentsdb.db.peek import peek
    from agentsdb.migrator.plan import all_applied

    # A missing table, or one an older version created without the newest column (the full
    # command upgrades it), fails the first query, and peek then answers None: not a no-op.
    found = peek(args.db, lambda _dialect: proof_queries(DEFAULT_TABLE))
    if found is None:
        return False
    dialect, (_, head) = found
    if not head:
        return False
    code = _code_digest(args.dir, dialect)
    if not all_applied(head[0], code.chain, code.total):
        return False
    print(f"Nothing to migrate; the database is at version {code.newest or 'none'}.")
    return True


def _code_digest(folder: str | None, dialect: str) -> FolderDigest:
    """The registered migrations' digest: a folder's from its cache (see
    :mod:`agentsdb.folder_digest`), the built-in ones' by loading them (a dozen modules)."""
    from agentsdb.folder_digest import FolderDigest, folder_digest
    from agentsdb.migrator.plan import chain_of

    if folder is not None:
        return folder_digest(folder, dialect, registered_migrations)
    migrations = registered_migrations(None)
    newest = migrations[-1].id if migrations else None
    return FolderDigest(chain_of(migrations, dialect), len(migrations), newest)


def proof_queries(table: str) -> list[tuple[str, dict[str, object]]]:
    """The queries (with their parameters) the no-op runs, in one read-only transaction: one
    that fails unless the tracking table ``table`` exists with its newest column, then its
    head row (:func:`agentsdb.migrator.tracking.head_sql`)."""
    from agentsdb.db.migration_runner import DOWN_CHECKSUM_COLUMN
    from agentsdb.migrator.tracking import check_table_name, head_sql

    newest_column = f"SELECT {DOWN_CHECKSUM_COLUMN} FROM {check_table_name(table)} LIMIT 0"
    return [(newest_column, {}), (head_sql(table), {})]


__all__ = ["DEFAULT_TABLE", "nothing_to_migrate", "proof_queries", "registered_migrations"]
