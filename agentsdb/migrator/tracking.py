"""The tracking table and the live-schema fingerprint, as SQL for each dialect.

One row per applied (or, while dirty, started) migration, in apply order (``seq``). ``chain`` is
the head digest after that migration (see :func:`agentsdb.migrator.plan.chain_next`): comparing the
newest
row's chain and the row count with the digest and the number of the registered migrations
proves, in one small query, that every migration is applied with an unchanged checksum and that
no row was deleted from the middle (that leaves the newest digest as it was, one row short).
``down_checksum`` is the checksum of the migration's ``down`` when it was applied; rollbacks
compare it with the code's before running a down.

Drift detection has two parts. ``schema_cookie`` is SQLite's schema version counter, read after
each migration (O(1); PostgreSQL has none, so it stays NULL there). ``schema_fingerprint`` is a
digest of the whole live schema, recorded on the newest row at the end of each run, rollback or
repair: O(schema) once, not once per migration, which would make applying N migrations O(N²).
A run that found drift keeps a note of it after the fingerprint until it is accepted (see
:mod:`agentsdb.migrator.drift`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentsdb.errors import ConfigurationError, UnsupportedOperationError

if TYPE_CHECKING:
    from agentsdb.db.base import Row

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_WHITESPACE = re.compile(r"\s+")

_COLUMNS = (
    "id, description, checksum, chain, schema_cookie, schema_fingerprint, started_at, "
    "applied_at, execution_time_ms, success, applied_by, down_checksum"
)

#: The newest column. A table created by an older version lacks it and is upgraded in place
#: (:attr:`TrackingSQL.upgrade`) by the first run that writes to it; reads select ``*`` so a
#: read-only check (validate, status) works on either shape without changing anything.
DOWN_CHECKSUM_COLUMN = "down_checksum"


def check_table_name(table: str) -> str:
    """Reject anything but a plain identifier, since the name is spliced into SQL."""
    if not isinstance(table, str) or not _IDENTIFIER.match(table):
        raise ConfigurationError(
            f"tracking table name {table!r} must be a plain identifier (letters, digits, _)"
        )
    return table


@dataclass(frozen=True)
class TrackingSQL:
    """Every statement the migrator runs against the tracking table, for one dialect."""

    table: str
    create: tuple[str, ...]
    exists: str
    upgrade: tuple[str, ...]
    record_down: str
    accept_down: str
    set_chain: str
    head: str
    all_rows: str
    one_row: str
    latest_row: str
    claim_rows: str
    insert: str
    finish: str
    mark_dirty: str
    delete: str
    stamp_head: str
    stamp_if_unchanged: str
    restamp: str
    set_time: str
    schema_cookie: str
    schema_rows: str


def tracking_sql(dialect: str, table: str, *, ignore: Sequence[str] = ()) -> TrackingSQL:
    """The tracking-table statements for a dialect (``"sqlite"`` or ``"postgresql"``).

    ``ignore``: tables the backend keeps for itself (its migration runner's ``own_tables``),
    left out of the schema fingerprint like the tracking table."""
    table = check_table_name(table)
    skipped = ", ".join(f"'{check_table_name(name)}'" for name in (table, *ignore))
    if dialect == "sqlite":
        specific = _sqlite_specific(table, skipped)
    elif dialect == "postgresql":
        specific = _postgresql_specific(table, skipped)
    else:
        raise UnsupportedOperationError(f"the migrator does not support the {dialect} dialect")
    cookie = specific.pop("cookie_expression")
    return TrackingSQL(
        table=table,
        upgrade=(f"ALTER TABLE {table} ADD COLUMN {DOWN_CHECKSUM_COLUMN} TEXT",),
        # Rows recorded before the column existed take the down the code has at the upgrade.
        record_down=(
            f"UPDATE {table} SET down_checksum = :down_checksum "
            "WHERE id = :id AND down_checksum IS NULL"
        ),
        accept_down=(
            f"UPDATE {table} SET down_checksum = :down_checksum WHERE id = :id AND success = 1"
        ),
        set_chain=f"UPDATE {table} SET chain = :chain WHERE seq = :seq",
        # The newest row, the row count (a row deleted from the middle leaves the newest row's
        # digest equal to the code's but one row short) and whether any row is dirty.
        head=(
            f"SELECT chain, success, (SELECT count(*) FROM {table}) AS recorded, "
            f"EXISTS (SELECT 1 FROM {table} WHERE success = 0) AS dirty "
            f"FROM {table} ORDER BY seq DESC LIMIT 1"
        ),
        all_rows=f"SELECT * FROM {table} ORDER BY seq",
        one_row=f"SELECT * FROM {table} WHERE id = :id",
        latest_row=f"SELECT * FROM {table} ORDER BY seq DESC LIMIT 1",
        # The row of one migration (if recorded) and the newest row, newest first, in one query.
        claim_rows=(
            f"SELECT seq, id, success, chain, started_at, applied_by FROM {table} "
            f"WHERE id = :id OR seq = (SELECT MAX(seq) FROM {table}) ORDER BY seq DESC"
        ),
        # The schema cookie is read by the statement itself, saving a statement per migration.
        insert=(
            f"INSERT INTO {table} ({_COLUMNS}) VALUES (:id, :description, :checksum, :chain, "
            f"{cookie}, :schema_fingerprint, :started_at, :applied_at, :execution_time_ms, "
            ":success, :applied_by, :down_checksum)"
        ),
        finish=(
            f"UPDATE {table} SET success = 1, checksum = :checksum, chain = :chain, "
            "down_checksum = :down_checksum, "
            f"schema_cookie = {cookie}, "
            "schema_fingerprint = :schema_fingerprint, applied_at = :applied_at, "
            "execution_time_ms = :execution_time_ms WHERE id = :id"
        ),
        mark_dirty=(
            f"UPDATE {table} SET success = 0, started_at = :started_at, applied_by = :applied_by "
            "WHERE id = :id"
        ),
        delete=f"DELETE FROM {table} WHERE id = :id",
        stamp_head=(
            f"UPDATE {table} SET schema_cookie = :schema_cookie, "
            "schema_fingerprint = :schema_fingerprint "
            f"WHERE seq = (SELECT MAX(seq) FROM {table})"
        ),
        # After a rollback removed the newest row: the new newest row takes the live cookie and
        # loses its fingerprint until the run records one (its old one may no longer hold).
        restamp=(
            f"UPDATE {table} SET schema_cookie = {cookie}, schema_fingerprint = NULL "
            f"WHERE seq = (SELECT MAX(seq) FROM {table})"
        ),
        set_time=f"UPDATE {table} SET execution_time_ms = :execution_time_ms WHERE id = :id",
        **specific,
    )


def _sqlite_specific(table: str, skipped: str) -> dict[str, Any]:
    return {
        "create": (
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
        "exists": (
            "SELECT 1 AS present, EXISTS (SELECT 1 FROM pragma_table_info(:table) "
            f"WHERE name = '{DOWN_CHECKSUM_COLUMN}') AS current "
            "FROM sqlite_master WHERE type = 'table' AND name = :table"
        ),
        "cookie_expression": "(SELECT schema_version FROM pragma_schema_version)",
        "schema_cookie": "PRAGMA schema_version",
        "schema_rows": (
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            f"AND name NOT IN ('{table}_dirty', {skipped}) ORDER BY type, name"
        ),
        # Only while the schema is still what the newest row recorded (its cookie, read again by
        # the statement itself): a change made by someone else is not absorbed into the record.
        "stamp_if_unchanged": (
            f"UPDATE {table} SET schema_fingerprint = :schema_fingerprint "
            f"WHERE seq = (SELECT MAX(seq) FROM {table}) AND success = 1 "
            "AND schema_cookie = :schema_cookie "
            "AND (SELECT schema_version FROM pragma_schema_version) = :schema_cookie"
        ),
    }


def _postgresql_specific(table: str, skipped: str) -> dict[str, Any]:
    # PostgreSQL has no schema counter, so every run ends with a full fingerprint (the cookie is
    # NULL on both sides of the comparison).
    return {
        "create": (
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
        "exists": (
            "SELECT 1 AS present, EXISTS (SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :table "
            f"AND column_name = '{DOWN_CHECKSUM_COLUMN}') AS current "
            "FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = :table"
        ),
        "cookie_expression": "NULL",
        "schema_cookie": "SELECT NULL::bigint AS schema_version",
        "schema_rows": (
            "SELECT 'column' AS kind, table_name AS owner, column_name AS name, "
            "data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') AS definition "
            "FROM information_schema.columns "
            f"WHERE table_schema = current_schema() AND table_name NOT IN ({skipped}) "
            "UNION ALL "
            "SELECT 'constraint', cls.relname, con.conname, pg_get_constraintdef(con.oid) "
            "FROM pg_constraint con JOIN pg_class cls ON cls.oid = con.conrelid "
            "JOIN pg_namespace ns ON ns.oid = cls.relnamespace "
            f"WHERE ns.nspname = current_schema() AND cls.relname NOT IN ({skipped}) "
            "UNION ALL "
            "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes "
            f"WHERE schemaname = current_schema() AND tablename NOT IN ({skipped}) "
            "UNION ALL "
            "SELECT 'trigger', event_object_table, trigger_name, "
            "action_timing || ' ' || event_manipulation || ' ' || action_statement "
            "FROM information_schema.triggers WHERE trigger_schema = current_schema() "
            "UNION ALL "
            "SELECT 'view', table_name, table_name, view_definition FROM information_schema.views "
            "WHERE table_schema = current_schema() "
            "ORDER BY 1, 2, 3, 4"
        ),
        "stamp_if_unchanged": (
            f"UPDATE {table} SET schema_fingerprint = :schema_fingerprint "
            f"WHERE seq = (SELECT MAX(seq) FROM {table}) AND success = 1 "
            "AND schema_cookie IS NOT DISTINCT FROM CAST(:schema_cookie AS BIGINT)"
        ),
    }


def schema_fingerprint(rows: Sequence[Row]) -> str:
    """A digest of the schema catalog rows, insensitive to whitespace layout in the DDL."""
    digest = hashlib.sha256()
    for row in rows:
        parts = [
            "" if value is None else _WHITESPACE.sub(" ", str(value)).strip()
            for value in row.values()
        ]
        digest.update("\x1f".join(parts).encode("utf-8"))
        digest.update(b"\x1e")
    return f"schema-v1:{digest.hexdigest()}"
