"""The statements on the tracking table, and the live-schema fingerprint.

One row per applied (or, while dirty, started) migration, in apply order (``seq``). ``chain`` is
the head digest after that migration (see :func:`agentsdb.migrator.plan.chain_next`): comparing
the newest row's chain and the row count with the digest and the number of the registered migrations
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

The statements are portable SQL, except the few that differ per backend (the table's DDL, the
query telling whether it exists, the schema counter, the catalog query): those come from the
backend's migration runner as a :class:`~agentsdb.db.migration_runner.TrackingCatalog`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentsdb.db.migration_runner import DOWN_CHECKSUM_COLUMN, TRACKING_COLUMNS
from agentsdb.errors import ConfigurationError

if TYPE_CHECKING:
    from agentsdb.db.base import Row
    from agentsdb.db.migration_runner import TrackingCatalog

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_WHITESPACE = re.compile(r"\s+")

_COLUMNS = ", ".join(TRACKING_COLUMNS)


def check_table_name(table: str) -> str:
    """Reject anything but a plain identifier, since the name is spliced into SQL."""
    if not isinstance(table, str) or not _IDENTIFIER.match(table):
        raise ConfigurationError(
            f"tracking table name {table!r} must be a plain identifier (letters, digits, _)"
        )
    return table


@dataclass(frozen=True)
class TrackingSQL:
    """Every statement the migrator runs against the tracking table on one backend."""

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


def head_sql(table: str) -> str:
    """The newest row's digest and state, the row count (a row deleted from the middle leaves
    the newest row's digest equal to the code's but one row short) and whether any row is
    dirty: the one query proving that nothing is pending (portable SQL)."""
    table = check_table_name(table)
    return (
        f"SELECT chain, success, (SELECT count(*) FROM {table}) AS recorded, "
        f"EXISTS (SELECT 1 FROM {table} WHERE success = 0) AS dirty "
        f"FROM {table} ORDER BY seq DESC LIMIT 1"
    )


def tracking_sql(table: str, catalog: TrackingCatalog) -> TrackingSQL:
    """The statements on the tracking table ``table``; ``catalog``: what differs per backend
    (``runner.tracking_catalog(table)`` of the database's migration runner)."""
    table = check_table_name(table)
    cookie = catalog.cookie
    return TrackingSQL(
        table=table,
        # DOWN_CHECKSUM_COLUMN, the newest column, is added in place by the first run that
        # writes to a table an older version created; reads select ``*`` so a read-only check
        # (validate, status) works on either shape without changing anything.
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
        head=head_sql(table),
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
        create=catalog.create,
        exists=catalog.exists,
        schema_cookie=catalog.schema_cookie,
        schema_rows=catalog.schema_rows,
        stamp_if_unchanged=catalog.stamp_if_unchanged,
    )


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
