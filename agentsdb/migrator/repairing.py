"""``Migrator.repair``'s one write, decided by reads made under the migration lock."""

from __future__ import annotations

from agentsdb.db.base import FetchAll, FetchOne, Row
from agentsdb.db.migration_runner import Change, Decide, MigrationProgram
from agentsdb.migration import Migration
from agentsdb.migrator import drift as drift_rules
from agentsdb.migrator import repair as repair_rules
from agentsdb.migrator.rows import Context, fixed
from agentsdb.migrator.tracking import schema_fingerprint


def repair(
    ctx: Context, migration_id: str, migration: Migration | None, mark_applied: bool
) -> MigrationProgram[None]:
    """Record the dirty ``migration_id`` as applied, or remove its row (see ``Migrator.repair``)."""
    yield from ctx.runner.transact(
        Change(label=f"the repair of migration {migration_id}"),
        _decide(ctx, migration_id, migration, mark_applied),
    )


def _decide(
    ctx: Context, migration_id: str, migration: Migration | None, mark_applied: bool
) -> Decide:
    sql = ctx.sql
    present: Row | None = yield FetchOne(sql.exists, {"table": sql.table})
    if present is None:
        raise repair_rules.no_tracking_table(sql.table)
    found: Row | None = yield FetchOne(sql.one_row, {"id": migration_id})
    row = repair_rules.dirty_row(migration_id, found)
    if not mark_applied:
        return fixed([(sql.delete, {"id": migration_id})])
    vouched = repair_rules.defined(migration_id, migration)
    previous: Row | None = yield FetchOne(
        repair_rules.previous_chain_sql(sql.table), {"seq": row["seq"]}
    )
    stamped: Row | None = yield FetchOne(drift_rules.newest_fingerprint_sql(sql.table))
    live: list[Row] = yield FetchAll(sql.schema_rows)
    fingerprint = drift_rules.recorded(schema_fingerprint(live), drift_rules.kept_note(stamped))
    applied = repair_rules.applied_row(vouched, ctx.dialect, previous, fingerprint)
    return fixed([(sql.finish, applied)])


__all__ = ["repair"]
