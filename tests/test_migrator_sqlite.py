"""The Migrator on SQLite only: what it does on the connection itself (statements traced,
virtual-machine steps counted) and against another sqlite3 connection to the same file."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from migrator_support import (
    EVENTS,
    FAMILY,
    TOUCHES_TRACKING,
    TRACKING,
    applied_ids,
    chain,
    event_counts,
    rebuild_parent,
    result_ids,
    seed_family,
    table_migration,
    traced,
)

import agentsdb
from agentsdb import (
    Database,
    Migration,
    MigrationError,
    MigrationLockError,
    Migrator,
)
from agentsdb.migrator.plan import chain_of


async def test_migration_lock_held_too_long_raises_migration_lock_error(
    db: Database, db_path: Path
) -> None:
    await Migrator(db, chain("002")).migrate()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(MigrationLockError) as caught:
            await Migrator(db, chain("002", "003"), lock_timeout=0.3).migrate()
        assert caught.value.timeout == 0.3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await applied_ids(db) == ["001", "002"]
    assert result_ids(await Migrator(db, chain("002", "003")).migrate()) == ["003"]


async def test_noop_start_is_one_small_read_of_the_tracking_table_and_no_write_lock(
    db: Database,
) -> None:
    ids = [f"{n:03d}" for n in range(2, 202)]
    await Migrator(db, chain(*ids)).migrate()
    fresh = Migrator(db, chain(*ids))  # as at every application start
    results, statements = await traced(db, fresh.migrate)
    assert results == []
    tracking = [sql for sql in statements if TOUCHES_TRACKING.search(sql)]
    assert len(tracking) == 1, statements
    assert tracking[0].lstrip().upper().startswith("SELECT")
    assert len(await db.fetch_all(tracking[0])) <= 1  # it does not read the applied rows
    writes = [sql for sql in statements if re.match(r"\s*(BEGIN|INSERT|UPDATE|DELETE)", sql, re.I)]
    assert writes == []
    again, repeat_statements = await traced(db, fresh.migrate)
    assert again == []
    assert len([sql for sql in repeat_statements if TOUCHES_TRACKING.search(sql)]) == 1


def data_migration(migration_id: str) -> Migration:
    """A migration that adds no schema object, so only the tracking table grows with N."""
    return Migration(
        id=migration_id,
        description=f"event {migration_id}",
        up=[f"INSERT INTO events (migration) VALUES ('{migration_id}')"],
    )


async def vm_steps(db: Database, action: Callable[[], Any]) -> int:
    """How many SQLite virtual-machine instructions ``action`` executes."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    connection = db._connection  # type: ignore[attr-defined]  # the SQLite backend's aiosqlite connection
    await connection.set_progress_handler(count, 1)
    try:
        await action()
    finally:
        await connection.set_progress_handler(None, 1)
    return steps[0]


async def test_noop_start_does_the_same_work_with_5_or_500_applied_migrations(
    tmp_path: Path,
) -> None:
    steps = {}
    for size in (5, 500):
        migrations = [EVENTS, *(data_migration(f"{n:04d}") for n in range(2, 2 + size))]
        async with agentsdb.connect(str(tmp_path / f"{size}.db")) as db:
            await Migrator(db, migrations).migrate()
            steps[size] = await vm_steps(db, Migrator(db, migrations).migrate)
    # Reading 500 tracking rows would take thousands of instructions more.
    assert steps[500] <= steps[5] + 20, steps


async def test_out_of_order_database_still_gets_the_one_query_start(db: Database) -> None:
    await Migrator(db, chain("003")).migrate()
    late = chain("002", "003")
    await Migrator(db, late).migrate(allow_out_of_order=True)
    assert await applied_ids(db) == ["001", "003", "002"]
    results, statements = await traced(db, Migrator(db, late).migrate)
    assert results == []
    tracking = [sql for sql in statements if TOUCHES_TRACKING.search(sql)]
    assert len(tracking) == 1, statements


async def test_a_commit_by_another_connection_mid_run_makes_the_next_migration_re_read(
    db: Database, db_path: Path
) -> None:
    # Between this run's transactions (as its third BEGIN is about to run), another connection
    # applies 003 the way a racing process would. The run must notice (data_version moved),
    # skip 003, and chain 004 onto the other connection's row.
    migrations = chain("002", "003", "004")
    migrator = Migrator(db, migrations)
    await migrator.initialize()
    begins = [0]

    def apply_003_elsewhere(sql: str) -> None:
        if not sql.startswith("BEGIN IMMEDIATE"):
            return
        begins[0] += 1
        if begins[0] != 3:
            return
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            for statement in migrations[2].up_statements("sqlite"):
                other.execute(statement)
            other.execute(
                f"INSERT INTO {TRACKING} (id, description, checksum, chain, started_at, "
                "applied_at, success) VALUES ('003', 'create t003', ?, ?, 'x', 'x', 1)",
                (migrations[2].checksum("sqlite"), chain_of(migrations[:3], "sqlite")),
            )
            other.execute("COMMIT")
        finally:
            other.close()

    connection = db._connection  # type: ignore[attr-defined]  # the SQLite backend's aiosqlite connection
    await connection.set_trace_callback(apply_003_elsewhere)
    try:
        results = await migrator.migrate()
    finally:
        await connection.set_trace_callback(None)
    assert result_ids(results) == ["001", "002", "004"]
    assert await applied_ids(db) == ["001", "002", "003", "004"]
    assert await event_counts(db) == {"002": 1, "003": 1, "004": 1}
    assert await Migrator(db, migrations).migrate() == []


async def test_a_rebuild_leaving_violations_names_the_rows_that_violate(db: Database) -> None:
    # SQLite runs PRAGMA foreign_key_check on the migration's own connection, so the error can
    # name the rows (a libSQL batch can only say that some exist).
    await seed_family(db)
    with pytest.raises(MigrationError, match="foreign key violation") as caught:
        await Migrator(db, [FAMILY, rebuild_parent(keep="id <> 2")]).migrate()
    message = str(caught.value)
    assert "2 foreign key violation(s)" in message
    assert "child row" in message
    assert "-> parent" in message


async def test_no_warning_without_a_fingerprint_while_the_schema_cookie_is_unchanged(
    db: Database,
) -> None:
    # SQLite's schema counter proves nothing changed since the newest row, fingerprint or not.
    migrator = Migrator(db, chain("002"))
    await migrator.migrate()
    await db.execute(f"UPDATE {TRACKING} SET schema_fingerprint = NULL")
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])


async def test_a_mixed_run_leaves_the_one_query_start(db: Database) -> None:
    migrations = [
        *chain("002"),
        table_migration("003", transactional=False),
        table_migration("004"),
    ]
    await Migrator(db, migrations).migrate()
    results, statements = await traced(db, Migrator(db, migrations).migrate)
    assert results == []
    assert len([sql for sql in statements if TOUCHES_TRACKING.search(sql)]) == 1
