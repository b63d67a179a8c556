"""The rules of ``Migrator.repair``, without I/O: when a migration can be repaired, and what
its repaired tracking row holds. Every backend's repair reads the same rows and applies these."""

from __future__ import annotations

from typing import Any

from agentsdb.clock import format_timestamp, utc_now
from agentsdb.db.base import Row
from agentsdb.errors import RepairError
from agentsdb.migration import Migration
from agentsdb.migrator.plan import chain_next


def previous_chain_sql(table: str) -> str:
    """The head digest of the row before ``:seq``."""
    return f"SELECT chain FROM {table} WHERE seq < :seq ORDER BY seq DESC LIMIT 1"


def no_tracking_table(table: str) -> RepairError:
    """The error for a database that has never been migrated."""
    return RepairError(f"there is no migration tracking table {table!r} to repair")


def dirty_row(migration_id: str, row: Row | None) -> Row:
    """The migration's tracking row; RepairError unless it is there and dirty."""
    if row is None:
        raise RepairError(f"migration {migration_id} has no record, so there is nothing to repair")
    if row["success"]:
        raise RepairError(
            f"migration {migration_id} is recorded as applied, not dirty; nothing to repair"
        )
    return row


def defined(migration_id: str, migration: Migration | None) -> Migration:
    """The migration to mark applied; RepairError when this code does not define it."""
    if migration is None:
        raise RepairError(
            f"migration {migration_id} is not defined in this code, so it cannot be marked "
            "applied; remove its record instead"
        )
    return migration


def applied_row(
    migration: Migration, dialect: str, previous: Row | None, fingerprint: str
) -> dict[str, Any]:
    """The parameters of the tracking table's ``finish`` statement for a repaired migration.

    The operator vouches for the migration as the code has it now: the row records that
    checksum, so the digest, the no-op start and validation all agree.
    """
    checksum = migration.checksum(dialect)
    return {
        "id": migration.id,
        "checksum": checksum,
        "down_checksum": migration.down_checksum(dialect),
        "chain": chain_next(previous["chain"] if previous else None, migration.id, checksum),
        "schema_fingerprint": fingerprint,
        "applied_at": format_timestamp(utc_now()),
        "execution_time_ms": None,
    }


__all__ = ["applied_row", "defined", "dirty_row", "no_tracking_table", "previous_chain_sql"]
