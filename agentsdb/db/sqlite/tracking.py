"""The tracking table's SQL on SQLite (and libSQL, which speaks it).

``PRAGMA schema_version`` is SQLite's schema counter: read after each migration (O(1)), it tells
whether anything changed the schema since, without reading the whole catalog. The schema rows
are ``sqlite_master``'s (SQLite's own tables left out).
"""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.migration_runner import DOWN_CHECKSUM_COLUMN, TrackingCatalog


def tracking_catalog(table: str, skipped: Sequence[str]) -> TrackingCatalog:
    """The tracking catalog of ``table``; ``skipped``: more tables the schema rows leave out."""
    others = ", ".join(f"'{name}'" for name in (table, *skipped))
    return TrackingCatalog(
        create=(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " seq INTEGER PRIMARY KEY,"
            " id TEXT NOT NULL UNIQUE,"
            " description TEXT NOT NULL,"
            " checksum TEXT NOT NULL,"
            " chain TEXT,"
            " schema_cookie INTEGER,"
            " schema_fingerprint TEXT,"
            " started_at TEXT NOT NULL,"
            " applied_at TEXT,"
            " execution_time_ms REAL,"
            " success INTEGER NOT NULL CHECK (success IN (0, 1)),"
            " applied_by TEXT,"
            f" {DOWN_CHECKSUM_COLUMN} TEXT)",
            f"CREATE INDEX IF NOT EXISTS {table}_dirty ON {table} (success) WHERE success = 0",
        ),
        # ``current``: whether the table has the newest column (else it needs the upgrade).
        exists=(
            "SELECT 1 AS present, EXISTS (SELECT 1 FROM pragma_table_info(:table) "
            f"WHERE name = '{DOWN_CHECKSUM_COLUMN}') AS current "
            "FROM sqlite_master WHERE type = 'table' AND name = :table"
        ),
        cookie="(SELECT schema_version FROM pragma_schema_version)",
        schema_cookie="PRAGMA schema_version",
        schema_rows=(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            f"AND name NOT IN ('{table}_dirty', {others}) ORDER BY type, name"
        ),
        # Only while the schema is still what the newest row recorded (its cookie, read again by
        # the statement itself): a change made by someone else is not absorbed into the record.
        stamp_if_unchanged=(
            f"UPDATE {table} SET schema_fingerprint = :schema_fingerprint "
            f"WHERE seq = (SELECT MAX(seq) FROM {table}) AND success = 1 "
            "AND schema_cookie = :schema_cookie "
            "AND (SELECT schema_version FROM pragma_schema_version) = :schema_cookie"
        ),
    )


__all__ = ["tracking_catalog"]
