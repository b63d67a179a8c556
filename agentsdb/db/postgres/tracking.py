"""The tracking table's SQL on PostgreSQL.

PostgreSQL has no schema counter, so the cookie is NULL on both sides of every comparison and each
run ends with a full fingerprint. The schema rows are the columns, constraints, indexes, triggers
and views of the current schema, from ``information_schema`` and ``pg_catalog``.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentsdb.db.migration_runner import DOWN_CHECKSUM_COLUMN, TrackingCatalog


def tracking_catalog(table: str, skipped: Sequence[str]) -> TrackingCatalog:
    """The tracking catalog of ``table``; ``skipped``: more tables the schema rows leave out."""
    others = ", ".join(f"'{name}'" for name in (table, *skipped))
    # PostgreSQL has no schema counter, so every run ends with a full fingerprint (the cookie is
    # NULL on both sides of the comparison).
    return TrackingCatalog(
        create=(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " id TEXT NOT NULL UNIQUE,"
            " description TEXT NOT NULL,"
            " checksum TEXT NOT NULL,"
            " chain TEXT,"
            " schema_cookie BIGINT,"
            " schema_fingerprint TEXT,"
            " started_at TEXT NOT NULL,"
            " applied_at TEXT,"
            " execution_time_ms DOUBLE PRECISION,"
            " success SMALLINT NOT NULL CHECK (success IN (0, 1)),"
            " applied_by TEXT,"
            f" {DOWN_CHECKSUM_COLUMN} TEXT)",
            f"CREATE INDEX IF NOT EXISTS {table}_dirty ON {table} (success) WHERE success = 0",
        ),
        exists=(
            "SELECT 1 AS present, EXISTS (SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :table "
            f"AND column_name = '{DOWN_CHECKSUM_COLUMN}') AS current "
            "FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = :table"
        ),
        cookie="NULL",
        schema_cookie="SELECT NULL::bigint AS schema_version",
        schema_rows=(
            "SELECT 'column' AS kind, table_name AS owner, column_name AS name, "
            "data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') AS definition "
            "FROM information_schema.columns "
            f"WHERE table_schema = current_schema() AND table_name NOT IN ({others}) "
            "UNION ALL "
            "SELECT 'constraint', cls.relname, con.conname, pg_get_constraintdef(con.oid) "
            "FROM pg_constraint con JOIN pg_class cls ON cls.oid = con.conrelid "
            "JOIN pg_namespace ns ON ns.oid = cls.relnamespace "
            f"WHERE ns.nspname = current_schema() AND cls.relname NOT IN ({others}) "
            "UNION ALL "
            "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
            f"WHERE schemaname = current_schema() AND tablename NOT IN ({others}) "
            "UNION ALL "
            "SELECT 'trigger', event_object_table, trigger_name, "
            "action_timing || ' ' || event_manipulation || ' ' || action_statement "
            "FROM information_schema.triggers WHERE trigger_schema = current_schema() "
            "UNION ALL "
            "SELECT 'view', table_name, table_name, view_definition FROM information_schema.views "
            "WHERE table_schema = current_schema() "
            "ORDER BY 1, 2, 3, 4"
        ),
        stamp_if_unchanged=(
            f"UPDATE {table} SET schema_fingerprint = :schema_fingerprint "
            f"WHERE seq = (SELECT MAX(seq) FROM {table}) AND success = 1 "
            "AND schema_cookie IS NOT DISTINCT FROM CAST(:schema_cookie AS BIGINT)"
        ),
    )


__all__ = ["tracking_catalog"]
