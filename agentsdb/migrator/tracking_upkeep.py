"""Keeping the tracking table whole, as programs the Migrator runs on any backend.

* :func:`upgrade` adds the ``down_checksum`` column to a table an older version created;
* :func:`restore_missing` records again a row deleted from the middle of the history;
* :func:`accept_down` records the code's current ``down`` of an applied migration.

Each writes with one ``Atomic`` (one batch over libSQL's HTTP), so it needs no interactive
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from agentsdb.clock import utc_now
from agentsdb.db.base import Atomic, Execute, FetchAll, FetchOne, Program, Row
from agentsdb.errors import AgentsDBError, RepairError
from agentsdb.migration import Migration
from agentsdb.migrator import repair as repair_rules
from agentsdb.migrator.plan import AppliedRecord, chain_without, find_missing
from agentsdb.migrator.tracking import TrackingSQL

log = logging.getLogger("agentsdb.migrations")

#: ``Migrator._record``: the tracking row of a migration.
Record = Callable[..., dict[str, Any]]


def upgrade(sql: TrackingSQL, migrations: Sequence[Migration], dialect: str) -> Program[None]:
    """Add the down checksum column to a tracking table an older version created.

    One atomic unit: the column, plus the down checksums of the registered migrations on the rows
    that lack one, taken from the code at hand just as an apply records the code at hand. A
    concurrent upgrade makes the ``ALTER`` fail; the column is then there, which is all this
    needs.
    """
    steps: list[Execute] = [Execute(statement) for statement in sql.upgrade]
    steps.extend(
        Execute(sql.record_down, {"id": m.id, "down_checksum": m.down_checksum(dialect)})
        for m in migrations
        if m.reversible
    )
    try:
        yield Atomic(tuple(steps))
    except AgentsDBError as error:
        present: Row | None = yield FetchOne(sql.exists, {"table": sql.table})
        if present is None or not present["current"]:
            raise
        log.debug("another process upgraded the tracking table first: %s", error)
        return
    log.info("upgraded the tracking table %s: it now records down checksums", sql.table)


def upgrade_if_old(
    sql: TrackingSQL, migrations: Sequence[Migration], dialect: str
) -> Program[None]:
    """:func:`upgrade` when an older version created the table; nothing when it is absent."""
    present: Row | None = yield FetchOne(sql.exists, {"table": sql.table})
    if present is not None and not present["current"]:
        yield from upgrade(sql, migrations, dialect)


def restore_missing(
    sql: TrackingSQL,
    migrations: Sequence[Migration],
    dialect: str,
    migration_id: str,
    record: Record,
) -> Program[bool]:
    """Record again the row of a migration whose row was deleted from the middle of the history
    (see :func:`agentsdb.migrator.plan.find_missing`); False when that is not the case.

    The row goes at the end, holding the newest digest (which already counts it), and the rows
    from the gap on lose its term, so the history is whole again as far as this row goes (other
    rows missing from the gap stay detectable). No lock is needed because nothing else writes
    meanwhile: ``migrate()`` and the rollbacks refuse while rows are missing, and a second repair
    of the same id fails on the unique id.
    """
    present: Row | None = yield FetchOne(sql.exists, {"table": sql.table})
    if present is None:
        return False
    rows: list[Row] = yield FetchAll(sql.all_rows)
    applied = [AppliedRecord.from_row(row) for row in rows]
    missing = find_missing(migrations, applied, dialect)
    if missing is None or migration_id not in missing.migration_ids:
        return False
    migration = next(m for m in migrations if m.id == migration_id)
    started: datetime = utc_now()
    row = record(migration, {}, started, elapsed_ms=None, success=True)
    gap = next(i for i, applied_row in enumerate(applied) if applied_row.id == missing.before)
    steps: list[Execute] = [
        Execute(
            sql.set_chain,
            {
                "chain": chain_without(str(old["chain"]), migration.id, row["checksum"]),
                "seq": old["seq"],
            },
        )
        for old in rows[gap:]
        if old["chain"] is not None
    ]
    row["chain"] = rows[-1]["chain"]
    # Nothing ran: the schema is the one the newest row recorded, so drift stays detectable.
    row["schema_fingerprint"] = rows[-1]["schema_fingerprint"]
    steps.append(Execute(sql.insert, row))
    yield Atomic(tuple(steps))
    return True


def accept_down(
    sql: TrackingSQL, migrations: Sequence[Migration], dialect: str, migration: Migration
) -> Program[None]:
    """Record ``migration``'s current down checksum on its (applied) row."""
    present: Row | None = yield FetchOne(sql.exists, {"table": sql.table})
    if present is None:
        raise repair_rules.no_tracking_table(sql.table)
    yield from upgrade_if_old(sql, migrations, dialect)
    found: Row | None = yield FetchOne(sql.one_row, {"id": migration.id})
    if found is None or not found["success"]:
        raise RepairError(
            f"migration {migration.id} is not recorded as applied, so there is no down to accept"
        )
    params = {"id": migration.id, "down_checksum": migration.down_checksum(dialect)}
    yield Atomic((Execute(sql.accept_down, params),))


__all__ = ["accept_down", "restore_missing", "upgrade", "upgrade_if_old"]
