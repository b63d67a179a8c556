"""The Migrator on real temp-file databases: applying, failing, validating, rolling back,
repairing, rehearsing, foreign-key rebuilds, the O(1) start, drift and logging."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

import agentsdb
from agentsdb import (
    AgentsDBError,
    ChecksumMismatchError,
    ConfigurationError,
    Database,
    DatabaseError,
    DirtyMigrationError,
    ForeignKeyViolationError,
    IrreversibleMigrationError,
    Migration,
    MigrationDefinitionError,
    MigrationError,
    MigrationLockError,
    MigrationOrderError,
    Migrator,
    RepairError,
    SchemaDriftError,
    UniqueViolationError,
    UnknownMigrationError,
)
from agentsdb.plan import chain_next, chain_of

TRACKING = "agentsdb_migrations"


# --- helpers -------------------------------------------------------------------------------------


def table_migration(migration_id: str, *, reversible: bool = True, **options: Any) -> Migration:
    """Creates table t<id> with an index, and logs itself in ``events``."""
    table = f"t{migration_id}"
    return Migration(
        id=migration_id,
        description=f"create {table}",
        up=[
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)",
            f"CREATE INDEX {table}_v ON {table} (v)",
            f"INSERT INTO events (migration) VALUES ('{migration_id}')",
        ],
        down=[f"DROP TABLE {table}", f"DELETE FROM events WHERE migration = '{migration_id}'"]
        if reversible
        else None,
        **options,
    )


EVENTS = Migration(
    id="001",
    description="events",
    up=["CREATE TABLE events (seq INTEGER PRIMARY KEY, migration TEXT NOT NULL)"],
    down=["DROP TABLE events"],
)


def chain(*ids: str, **options: Any) -> list[Migration]:
    """EVENTS followed by a table migration per id."""
    return [EVENTS, *(table_migration(i, **options) for i in ids)]


async def names(db: Database, kind: str = "table") -> set[str]:
    rows = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = :kind AND name NOT LIKE 'sqlite_%'",
        {"kind": kind},
    )
    return {row["name"] for row in rows}


async def schema(db: Database) -> list[tuple[str, str, str | None]]:
    rows = await db.fetch_all("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
    return [(row["type"], row["name"], row["sql"]) for row in rows]


async def tracking_rows(db: Database) -> list[dict[str, Any]]:
    if TRACKING not in await names(db):
        return []
    return await db.fetch_all(f"SELECT * FROM {TRACKING} ORDER BY seq")


async def applied_ids(db: Database) -> list[str]:
    return [row["id"] for row in await tracking_rows(db)]


async def event_counts(db: Database) -> dict[str, int]:
    rows = await db.fetch_all("SELECT migration, count(*) AS n FROM events GROUP BY migration")
    return {row["migration"]: row["n"] for row in rows}


def result_ids(results: Iterable[Any]) -> list[str]:
    return [result.migration.id for result in results]


async def foreign_keys_on(db: Database) -> bool:
    row = await db.fetch_one("PRAGMA foreign_keys")
    assert row is not None
    return bool(row["foreign_keys"])


async def traced(db: Database, action: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Run ``action`` and return its value with every SQL statement the connection executed."""
    statements: list[str] = []
    connection = db._connection  # type: ignore[attr-defined]  # the SQLite backend's aiosqlite connection
    await connection.set_trace_callback(statements.append)
    try:
        value = await action()
    finally:
        await connection.set_trace_callback(None)
    return value, statements


_TOUCHES_TRACKING = re.compile(
    rf"\b(?:FROM|INTO|UPDATE|TABLE|EXISTS)\s+(?:IF\s+NOT\s+EXISTS\s+)?{TRACKING}\b", re.IGNORECASE
)


# --- applying ------------------------------------------------------------------------------------


async def test_builtin_migrations_apply_in_order_and_are_recorded(db: Database) -> None:
    migrator = Migrator(db)
    results = await migrator.migrate()
    assert result_ids(results) == [m.id for m in migrator.migrations]
    assert result_ids(results)[:2] == ["001", "002"]
    assert all(r.success and r.direction == "up" and not r.dry_run for r in results)
    assert all(r.execution_time_ms >= 0 and r.error is None for r in results)
    assert {"agents", "sessions", "session_logs", TRACKING} <= await names(db)
    rows = await tracking_rows(db)
    assert [row["id"] for row in rows] == result_ids(results)
    for position, (row, migration) in enumerate(zip(rows, migrator.migrations, strict=True)):
        assert row["checksum"] == migration.checksum("sqlite")
        assert re.fullmatch(r"sha256-v1:[0-9a-f]{64}", row["checksum"])
        assert row["chain"] == chain_of(migrator.migrations[: position + 1], "sqlite")
        assert row["success"] == 1
        assert row["applied_at"]
        assert row["started_at"]
        assert row["execution_time_ms"] is not None
        assert row["description"] == migration.description
    assert rows[-1]["schema_fingerprint"]


async def test_second_migrate_applies_nothing(db: Database) -> None:
    assert len(await Migrator(db, chain("002", "003")).migrate()) == 3
    assert await Migrator(db, chain("002", "003")).migrate() == []
    assert await event_counts(db) == {"002": 1, "003": 1}


async def test_initialize_is_idempotent_and_creates_the_tracking_columns(db: Database) -> None:
    migrator = Migrator(db, [])
    await migrator.initialize()
    await migrator.initialize()
    columns = {row["name"] for row in await db.fetch_all(f"PRAGMA table_info({TRACKING})")}
    assert {
        "id",
        "description",
        "checksum",
        "applied_at",
        "execution_time_ms",
        "success",
    } <= columns
    assert await tracking_rows(db) == []


async def test_custom_tracking_table_name_is_used(db: Database) -> None:
    await Migrator(db, chain("002"), table="schema_history").migrate()
    assert "schema_history" in await names(db)
    assert TRACKING not in await names(db)
    with pytest.raises(ConfigurationError, match="plain identifier"):
        Migrator(db, [], table="x; DROP TABLE events")


async def test_failing_migration_rolls_back_its_ddl_and_is_not_recorded(db: Database) -> None:
    broken = Migration(
        id="003",
        description="broken",
        up=[
            "CREATE TABLE half (id INTEGER PRIMARY KEY)",
            "CREATE INDEX half_id ON half (id)",
            "INSERT INTO events (migration) VALUES ('003')",
            "INSERT INTO no_such_table VALUES (1)",
        ],
    )
    migrations = [*chain("002"), broken, table_migration("004")]
    with pytest.raises(
        MigrationError, match=r"migration 003 .* failed and was rolled back"
    ) as caught:
        await Migrator(db, migrations).migrate()
    error = caught.value
    assert result_ids(error.results) == ["001", "002", "003"]
    assert [r.success for r in error.results] == [True, True, False]
    assert error.failed is error.results[-1]
    assert error.failed.error is not None
    assert "no_such_table" in error.failed.error
    assert isinstance(error.__cause__, DatabaseError)
    tables = await names(db)
    assert "half" not in tables
    assert "half_id" not in await names(db, "index")
    assert "t004" not in tables  # later migrations are not attempted
    assert await applied_ids(db) == ["001", "002"]
    assert await event_counts(db) == {"002": 1}


async def test_rerun_after_fixing_the_cause_applies_each_migration_once(db: Database) -> None:
    items = Migration(
        id="002",
        description="items",
        up=["CREATE TABLE items (name TEXT NOT NULL UNIQUE)"],
    )
    seed = Migration(
        id="003",
        description="seed items",
        up=[
            "INSERT INTO events (migration) VALUES ('003')",
            "INSERT INTO items (name) VALUES ('default')",
        ],
    )
    migrations = [EVENTS, items, seed, table_migration("004")]
    await Migrator(db, migrations).migrate(limit=2)
    await db.execute("INSERT INTO items (name) VALUES ('default')")  # the cause of the failure

    with pytest.raises(MigrationError) as caught:
        await Migrator(db, migrations).migrate()
    assert isinstance(caught.value.__cause__, UniqueViolationError)
    assert await applied_ids(db) == ["001", "002"]

    await db.execute("DELETE FROM items WHERE name = 'default'")
    results = await Migrator(db, migrations).migrate()
    assert result_ids(results) == ["003", "004"]
    assert await Migrator(db, migrations).migrate() == []
    assert await applied_ids(db) == ["001", "002", "003", "004"]
    assert await event_counts(db) == {"003": 1, "004": 1}


async def test_one_migrator_rerun_after_a_failure_applies_each_once(db: Database) -> None:
    await db.execute("CREATE TABLE blocker (x)")
    clash = Migration(id="003", description="clash", up=["CREATE TABLE blocker (y)"])
    migrator = Migrator(db, [*chain("002"), clash])
    with pytest.raises(MigrationError):
        await migrator.migrate()
    await db.execute("DROP TABLE blocker")
    assert result_ids(await migrator.migrate()) == ["003"]
    assert await migrator.migrate() == []
    assert await applied_ids(db) == ["001", "002", "003"]


# --- validation before any change ----------------------------------------------------------------


async def test_edited_applied_migration_is_refused_before_any_change(db: Database) -> None:
    await Migrator(db, chain("002")).migrate()
    before = await schema(db)
    original = table_migration("002")
    edited = Migration(
        id="002",
        description=original.description,
        up=[*original.up_statements("sqlite")[:2], "INSERT INTO events (migration) VALUES ('x')"],
    )
    with pytest.raises(ChecksumMismatchError) as caught:
        await Migrator(db, [EVENTS, edited, table_migration("003")]).migrate()
    error = caught.value
    assert error.migration_id == "002"
    assert error.expected == original.checksum()
    assert error.actual == edited.checksum()
    assert await schema(db) == before
    assert await applied_ids(db) == ["001", "002"]


async def test_tampered_checksum_in_the_database_is_refused(db: Database) -> None:
    await Migrator(db, chain("002")).migrate()
    forged = "sha256-v1:" + "0" * 64
    await db.execute(f"UPDATE {TRACKING} SET checksum = :c WHERE id = '001'", {"c": forged})
    with pytest.raises(ChecksumMismatchError) as caught:
        await Migrator(db, chain("002", "003")).migrate()
    assert (caught.value.migration_id, caught.value.expected) == ("001", forged)
    assert caught.value.actual == EVENTS.checksum()
    assert "t003" not in await names(db)
    assert await Migrator(db, chain("002", "003")).migrate(validate_checksums=False) != []
    assert "t003" in await names(db)


async def test_line_ending_and_trailing_whitespace_edit_is_accepted(db: Database) -> None:
    multi_line = Migration(
        id="002",
        description="multi-line",
        up=["CREATE TABLE notes (\n    id INTEGER PRIMARY KEY,\n    body TEXT\n)"],
    )
    await Migrator(db, [EVENTS, multi_line]).migrate()
    checked_out_on_windows = Migration(
        id="002",
        description="multi-line",
        up=["CREATE TABLE notes (  \r\n    id INTEGER PRIMARY KEY,\t\r\n    body TEXT\r\n)"],
    )
    results = await Migrator(db, [EVENTS, checked_out_on_windows, table_migration("003")]).migrate()
    assert result_ids(results) == ["003"]
    windows_set = [EVENTS, checked_out_on_windows, table_migration("003")]
    assert (await Migrator(db, windows_set).validate_migrations()).is_valid
    assert await Migrator(db, windows_set).migrate() == []


async def test_applied_migration_unknown_to_the_code_is_refused(db: Database) -> None:
    await Migrator(db, chain("002", "003")).migrate()
    with pytest.raises(UnknownMigrationError) as caught:
        await Migrator(db, [*chain("002"), table_migration("004")]).migrate()
    assert caught.value.migration_ids == ["003"]
    assert "t004" not in await names(db)
    assert await applied_ids(db) == ["001", "002", "003"]


async def test_pending_migration_older_than_the_newest_applied_is_refused(db: Database) -> None:
    await Migrator(db, [EVENTS, table_migration("003")]).migrate()
    late = chain("002", "003")
    with pytest.raises(MigrationOrderError) as caught:
        await Migrator(db, late).migrate()
    assert (caught.value.pending_ids, caught.value.newest_applied) == (["002"], "003")
    assert "t002" not in await names(db)


async def test_allow_out_of_order_applies_the_late_migration_with_a_warning(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await Migrator(db, [EVENTS, table_migration("003")]).migrate()
    late = chain("002", "003")
    with caplog.at_level(logging.WARNING, logger="agentsdb.migrations"):
        results = await Migrator(db, late).migrate(allow_out_of_order=True)
    assert result_ids(results) == ["002"]
    assert any("out of order" in record.getMessage() for record in caplog.records)
    assert await applied_ids(db) == ["001", "003", "002"]
    assert await Migrator(db, late).migrate() == []
    assert (await Migrator(db, late).validate_migrations()).is_valid


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


# --- dry run and rehearsal -----------------------------------------------------------------------


async def test_dry_run_changes_nothing_not_even_the_tracking_table(
    db: Database, db_path: Path
) -> None:
    results = await Migrator(db, chain("002", "003")).migrate(dry_run=True)
    assert result_ids(results) == ["001", "002", "003"]
    assert all(r.dry_run and r.success for r in results)
    assert await schema(db) == []


async def test_dry_run_reports_only_what_is_pending_within_limit_and_target(db: Database) -> None:
    migrations = chain("002", "003", "004", "005")
    await Migrator(db, migrations).migrate(limit=2)
    before = (await schema(db), await tracking_rows(db))
    assert result_ids(await Migrator(db, migrations).migrate(dry_run=True)) == [
        "003",
        "004",
        "005",
    ]
    assert result_ids(await Migrator(db, migrations).migrate(dry_run=True, limit=1)) == ["003"]
    assert result_ids(await Migrator(db, migrations).migrate(dry_run=True, target="004")) == [
        "003",
        "004",
    ]
    assert (await schema(db), await tracking_rows(db)) == before


async def test_rehearse_on_a_new_database_leaves_only_the_empty_tracking_table(
    db: Database,
) -> None:
    results = await Migrator(db, chain("002", "003")).migrate(rehearse=True)
    assert result_ids(results) == ["001", "002", "003"]
    assert all(r.dry_run and r.success for r in results)
    assert await names(db) <= {TRACKING}
    assert await names(db, "index") <= {f"{TRACKING}_dirty"}
    assert await tracking_rows(db) == []


async def test_rehearse_leaves_schema_and_tracking_rows_unchanged(db: Database) -> None:
    migrations = chain("002", "003", "004")
    await Migrator(db, migrations).migrate(limit=2)
    before = (await schema(db), await tracking_rows(db), await event_counts(db))
    results = await Migrator(db, migrations).migrate(rehearse=True)
    assert result_ids(results) == ["003", "004"]
    assert all(r.dry_run for r in results)
    assert (await schema(db), await tracking_rows(db), await event_counts(db)) == before
    assert result_ids(await Migrator(db, migrations).migrate()) == ["003", "004"]


async def test_rehearse_reports_a_failing_statement_and_changes_nothing(db: Database) -> None:
    bad = Migration(id="004", description="typo", up=["CREAT TABLE oops (x)"])
    migrations = [*chain("002", "003"), bad]
    await Migrator(db, migrations).migrate(limit=2)
    before = (await schema(db), await tracking_rows(db))
    with pytest.raises(MigrationError, match="rehearsal of migration 004") as caught:
        await Migrator(db, migrations).migrate(rehearse=True)
    assert result_ids(caught.value.results) == ["003", "004"]
    assert [r.success for r in caught.value.results] == [True, False]
    assert all(r.dry_run for r in caught.value.results)
    assert caught.value.failed is not None
    assert "CREAT" in (caught.value.failed.error or "")
    assert (await schema(db), await tracking_rows(db)) == before


async def test_dry_run_and_rehearse_together_is_a_configuration_error(db: Database) -> None:
    with pytest.raises(ConfigurationError):
        await Migrator(db, chain("002")).migrate(dry_run=True, rehearse=True)


# --- limit and target ----------------------------------------------------------------------------


async def test_limit_applies_at_most_n_and_target_up_to_and_including_it(db: Database) -> None:
    migrations = chain("002", "003", "004", "005")
    assert result_ids(await Migrator(db, migrations).migrate(limit=1)) == ["001"]
    assert result_ids(await Migrator(db, migrations).migrate(target="003")) == ["002", "003"]
    assert result_ids(await Migrator(db, migrations).migrate(target="003")) == []
    assert result_ids(await Migrator(db, migrations).migrate(limit=0)) == []
    assert result_ids(await Migrator(db, migrations).migrate(limit=5, target="004")) == ["004"]
    assert result_ids(await Migrator(db, migrations).migrate()) == ["005"]


@pytest.mark.parametrize(("option", "value"), [("limit", -1), ("limit", "2"), ("target", "009")])
async def test_bad_limit_or_unknown_target_fails_before_any_change(
    db: Database, option: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError):
        await Migrator(db, chain("002")).migrate(**{option: value})
    assert await schema(db) == []


# --- rollback ------------------------------------------------------------------------------------


async def test_rollback_last_runs_down_and_removes_the_row(db: Database) -> None:
    migrator = Migrator(db, chain("002", "003"))
    await migrator.migrate()
    result = await migrator.rollback_last()
    assert result is not None
    assert (result.migration.id, result.direction, result.success) == ("003", "down", True)
    assert "t003" not in await names(db)
    assert "t002" in await names(db)
    assert await applied_ids(db) == ["001", "002"]
    assert await event_counts(db) == {"002": 1}
    assert result_ids(await migrator.migrate()) == ["003"]


async def test_rollback_last_with_nothing_applied_returns_none(db: Database) -> None:
    migrator = Migrator(db, chain("002"))
    assert await migrator.rollback_last() is None
    assert await schema(db) == []
    await migrator.initialize()
    assert await migrator.rollback_last() is None


async def test_failing_down_keeps_the_migration_applied(db: Database) -> None:
    broken_down = Migration(
        id="002",
        description="bad down",
        up=["CREATE TABLE kept (id INTEGER PRIMARY KEY)"],
        down=["DROP TABLE kept", "DROP TABLE no_such_table"],
    )
    migrator = Migrator(db, [EVENTS, broken_down])
    await migrator.migrate()
    with pytest.raises(MigrationError, match="rolling back migration 002") as caught:
        await migrator.rollback_last()
    assert caught.value.failed is not None
    assert caught.value.failed.direction == "down"
    assert "kept" in await names(db)  # the DROP that succeeded was rolled back with the rest
    assert await applied_ids(db) == ["001", "002"]


async def test_rollback_to_undoes_newer_migrations_newest_first(db: Database) -> None:
    migrator = Migrator(db, chain("002", "003", "004"))
    await migrator.migrate()
    results = await migrator.rollback_to("002")
    assert result_ids(results) == ["004", "003"]
    assert all(r.direction == "down" and r.success for r in results)
    assert await applied_ids(db) == ["001", "002"]
    assert {"t003", "t004"}.isdisjoint(await names(db))


async def test_rollback_to_zero_undoes_everything(db: Database) -> None:
    migrator = Migrator(db, chain("002", "003"))
    await migrator.migrate()
    assert result_ids(await migrator.rollback_to("0")) == ["003", "002", "001"]
    assert await applied_ids(db) == []
    assert await names(db) == {TRACKING}
    assert (await migrator.validate_migrations()).is_valid
    assert result_ids(await migrator.migrate()) == ["001", "002", "003"]


async def test_rollback_to_a_migration_that_is_not_applied_is_refused(db: Database) -> None:
    migrator = Migrator(db, chain("002", "003"))
    await migrator.migrate(limit=2)
    with pytest.raises(ConfigurationError):
        await migrator.rollback_to("003")
    assert await applied_ids(db) == ["001", "002"]


async def test_irreversible_migration_is_detected_before_anything_is_rolled_back(
    db: Database,
) -> None:
    migrations = [EVENTS, table_migration("002", reversible=False), table_migration("003")]
    migrator = Migrator(db, migrations)
    await migrator.migrate()
    before = (await schema(db), await tracking_rows(db))
    with pytest.raises(IrreversibleMigrationError) as caught:
        await migrator.rollback_to("001")
    assert caught.value.migration_id == "002"
    assert (await schema(db), await tracking_rows(db)) == before  # 003 was not rolled back
    assert result_ids(await migrator.rollback_to("002")) == ["003"]
    with pytest.raises(IrreversibleMigrationError):
        await migrator.rollback_last()
    assert await applied_ids(db) == ["001", "002"]


async def test_rollback_of_an_edited_migration_is_refused(db: Database) -> None:
    await Migrator(db, chain("002")).migrate()
    original = table_migration("002")
    edited = Migration(
        id="002", description="x", up=[*original.up_statements("sqlite"), "SELECT 1"], down=[]
    )
    with pytest.raises(ChecksumMismatchError):
        await Migrator(db, [EVENTS, edited]).rollback_last()
    assert await applied_ids(db) == ["001", "002"]


# --- non-transactional migrations: dirty state and repair ----------------------------------------


ITEMS = Migration(
    id="002",
    description="items",
    up=["CREATE TABLE items (name TEXT NOT NULL UNIQUE)"],
    down=["DROP TABLE items"],
)
SIDE_AND_ITEM = Migration(
    id="003",
    description="side table and an item",
    up=["CREATE TABLE side (x INTEGER)", "INSERT INTO items (name) VALUES ('dup')"],
    down=["DROP TABLE side", "DELETE FROM items WHERE name = 'dup'"],
    transactional=False,
)
DIRTY_SET = [EVENTS, ITEMS, SIDE_AND_ITEM, table_migration("004")]


async def make_dirty(db: Database) -> None:
    """Apply DIRTY_SET until its non-transactional 003 fails half-way and stays dirty."""
    await Migrator(db, DIRTY_SET).migrate(limit=2)
    await db.execute("INSERT INTO items (name) VALUES ('dup')")
    with pytest.raises(MigrationError, match="recorded as dirty") as caught:
        await Migrator(db, DIRTY_SET).migrate()
    assert result_ids(caught.value.results) == ["003"]


async def test_failed_non_transactional_migration_is_left_dirty_and_blocks_migrate(
    db: Database,
) -> None:
    await make_dirty(db)
    assert "side" in await names(db)  # its first statement ran and stays
    rows = await tracking_rows(db)
    assert [(row["id"], row["success"]) for row in rows] == [("001", 1), ("002", 1), ("003", 0)]
    with pytest.raises(DirtyMigrationError, match="agentsdb repair 003") as caught:
        await Migrator(db, DIRTY_SET).migrate()
    assert caught.value.migration_id == "003"
    assert caught.value.applied_by is not None
    assert caught.value.applied_by.endswith(f":{os.getpid()}")
    assert "t004" not in await names(db)
    validation = await Migrator(db, DIRTY_SET).validate_migrations()
    assert not validation.is_valid
    assert any("dirty" in error for error in validation.errors)
    with pytest.raises(DirtyMigrationError):
        await Migrator(db, DIRTY_SET).rollback_last()


async def test_repair_mark_applied_lets_migrate_continue(db: Database) -> None:
    await make_dirty(db)
    await db.execute("INSERT OR IGNORE INTO items (name) VALUES ('dup')")  # finished by hand
    migrator = Migrator(db, DIRTY_SET)
    await migrator.repair("003", mark_applied=True)
    assert result_ids(await migrator.migrate()) == ["004"]
    rows = await tracking_rows(db)
    assert [(row["id"], row["success"]) for row in rows][-2:] == [("003", 1), ("004", 1)]
    assert rows[-1]["chain"] == chain_of(migrator.migrations, "sqlite")
    assert await Migrator(db, DIRTY_SET).migrate() == []
    assert (await migrator.validate_migrations()).is_valid


async def test_repair_remove_lets_migrate_run_the_migration_again(db: Database) -> None:
    await make_dirty(db)
    await db.execute("DROP TABLE side")  # undo its partial effect by hand
    await db.execute("DELETE FROM items WHERE name = 'dup'")  # and fix the cause
    migrator = Migrator(db, DIRTY_SET)
    await migrator.repair("003", mark_applied=False)
    assert await applied_ids(db) == ["001", "002"]
    assert result_ids(await migrator.migrate()) == ["003", "004"]
    assert await Migrator(db, DIRTY_SET).migrate() == []
    assert (await migrator.validate_migrations()).is_valid


async def test_repair_refuses_when_there_is_nothing_to_repair(db: Database) -> None:
    migrator = Migrator(db, DIRTY_SET)
    with pytest.raises(RepairError, match="no migration tracking table"):
        await migrator.repair("003", mark_applied=True)
    await migrator.migrate(limit=2)
    with pytest.raises(RepairError, match="has no record"):
        await migrator.repair("003", mark_applied=True)
    with pytest.raises(RepairError, match="not dirty"):
        await migrator.repair("002", mark_applied=False)
    assert await applied_ids(db) == ["001", "002"]


async def test_dirty_migration_unknown_to_the_code_can_only_be_removed(db: Database) -> None:
    await make_dirty(db)
    without_003 = Migrator(db, [EVENTS, ITEMS])
    with pytest.raises(RepairError, match="not defined in this code"):
        await without_003.repair("003", mark_applied=True)
    assert [row["success"] for row in await tracking_rows(db)] == [1, 1, 0]
    await without_003.repair("003", mark_applied=False)
    assert await applied_ids(db) == ["001", "002"]


async def test_successful_non_transactional_migration_is_recorded_once(db: Database) -> None:
    migrations = [EVENTS, table_migration("002", transactional=False)]
    results = await Migrator(db, migrations).migrate()
    assert result_ids(results) == ["001", "002"]
    assert [(row["id"], row["success"]) for row in await tracking_rows(db)] == [
        ("001", 1),
        ("002", 1),
    ]
    assert await Migrator(db, migrations).migrate() == []


async def test_use_transaction_false_runs_outside_a_transaction_and_can_leave_dirty(
    db: Database,
) -> None:
    failing = Migration(
        id="002",
        description="half",
        up=["CREATE TABLE first_half (x)", "INSERT INTO missing VALUES (1)"],
    )
    with pytest.raises(MigrationError):
        await Migrator(db, [EVENTS, failing]).migrate(use_transaction=False)
    assert "first_half" in await names(db)
    with pytest.raises(DirtyMigrationError):
        await Migrator(db, [EVENTS, failing]).migrate()


# --- foreign keys off for table rebuilds ---------------------------------------------------------


FAMILY = Migration(
    id="001",
    description="parent and child",
    up=[
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE child ("
        " id INTEGER PRIMARY KEY,"
        " parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE)",
        "CREATE INDEX child_parent_id ON child (parent_id)",
    ],
    down=["DROP TABLE child", "DROP TABLE parent"],
)


def rebuild_parent(keep: str = "1 = 1") -> Migration:
    """The 12-step rebuild of ``parent`` adding a column; ``keep`` filters the copied rows."""
    return Migration(
        id="002",
        description="add parent.rank",
        up=[
            "CREATE TABLE parent_new ("
            " id INTEGER PRIMARY KEY, name TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0)",
            f"INSERT INTO parent_new (id, name) SELECT id, name FROM parent WHERE {keep}",
            "DROP TABLE parent",
            "ALTER TABLE parent_new RENAME TO parent",
        ],
        foreign_keys=False,
    )


async def seed_family(db: Database) -> None:
    await Migrator(db, [FAMILY]).migrate()
    await db.execute("INSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b')")
    await db.execute("INSERT INTO child (parent_id) VALUES (1), (2), (2)")


async def test_foreign_keys_off_rebuild_keeps_dependent_rows_and_turns_keys_back_on(
    db: Database,
) -> None:
    await seed_family(db)
    await Migrator(db, [FAMILY, rebuild_parent()]).migrate()
    columns = [row["name"] for row in await db.fetch_all("PRAGMA table_info(parent)")]
    assert columns == ["id", "name", "rank"]
    # With foreign keys on, DROP TABLE parent would have cascaded into child.
    assert [row["parent_id"] for row in await db.fetch_all("SELECT parent_id FROM child")] == [
        1,
        2,
        2,
    ]
    assert await foreign_keys_on(db)
    with pytest.raises(ForeignKeyViolationError):
        await db.execute("INSERT INTO child (parent_id) VALUES (99)")
    await db.execute("DELETE FROM parent WHERE id = 2")
    assert await db.fetch_all("SELECT parent_id FROM child") == [{"parent_id": 1}]


async def test_use_transaction_false_still_rebuilds_with_foreign_keys_off(db: Database) -> None:
    await seed_family(db)
    await Migrator(db, [FAMILY, rebuild_parent()]).migrate(use_transaction=False)
    assert len(await db.fetch_all("SELECT parent_id FROM child")) == 3
    assert await foreign_keys_on(db)
    assert [(row["id"], row["success"]) for row in await tracking_rows(db)] == [
        ("001", 1),
        ("002", 1),
    ]


async def test_rebuild_leaving_a_foreign_key_violation_fails_and_is_rolled_back(
    db: Database,
) -> None:
    await seed_family(db)
    before = await schema(db)
    with pytest.raises(MigrationError, match="foreign key violation") as caught:
        await Migrator(db, [FAMILY, rebuild_parent(keep="id <> 2")]).migrate()
    assert isinstance(caught.value.__cause__, ForeignKeyViolationError)
    message = str(caught.value)
    assert "2 foreign key violation(s)" in message
    assert "child row" in message
    assert "-> parent" in message
    assert await schema(db) == before
    assert await db.fetch_one("SELECT count(*) AS n FROM parent") == {"n": 2}
    assert await applied_ids(db) == ["001"]
    assert await foreign_keys_on(db)
    with pytest.raises(ForeignKeyViolationError):
        await db.execute("INSERT INTO child (parent_id) VALUES (99)")


async def test_rehearsing_a_rebuild_checks_foreign_keys_and_changes_nothing(db: Database) -> None:
    await seed_family(db)
    before = await schema(db)
    assert result_ids(await Migrator(db, [FAMILY, rebuild_parent()]).migrate(rehearse=True)) == [
        "002"
    ]
    with pytest.raises(MigrationError, match="foreign key violation"):
        await Migrator(db, [FAMILY, rebuild_parent(keep="id <> 2")]).migrate(rehearse=True)
    assert await schema(db) == before
    assert await foreign_keys_on(db)


# --- registration --------------------------------------------------------------------------------


async def test_duplicate_id_is_rejected_at_registration(db: Database) -> None:
    migrator = Migrator(db, chain("002"))
    with pytest.raises(MigrationDefinitionError, match="duplicate id"):
        migrator.add_migration(table_migration("002"))
    with pytest.raises(MigrationDefinitionError, match="duplicate id"):
        migrator.add_migration(table_migration("2"))
    with pytest.raises(MigrationDefinitionError, match="duplicate id"):
        migrator.add_migrations([table_migration("003"), table_migration("003")])
    assert [m.id for m in migrator.migrations] == ["001", "002"]  # all or nothing
    migrator.add_migrations([table_migration("004"), table_migration("003")])
    assert [m.id for m in migrator.migrations] == ["001", "002", "003", "004"]


async def test_lint_failure_is_rejected_at_registration(db: Database) -> None:
    bad = Migration(
        id="002",
        description="rebuild the wrong way",
        up=["PRAGMA foreign_keys = OFF", "CREATE TABLE x (id INTEGER)", "COMMIT"],
    )
    with pytest.raises(MigrationDefinitionError) as caught:
        Migrator(db, [EVENTS, bad])
    assert caught.value.migration_id == "002"
    assert "declare foreign_keys=False" in caught.value.problem
    assert "COMMIT controls the transaction" in caught.value.problem
    migrator = Migrator(db, [EVENTS])
    with pytest.raises(MigrationDefinitionError, match="VACUUM"):
        migrator.add_migration(Migration(id="002", description="v", up=["VACUUM"]))
    assert [m.id for m in migrator.migrations] == ["001"]
    migrator.add_migration(Migration(id="002", description="v", up=["VACUUM"], transactional=False))


# --- the O(1) start ------------------------------------------------------------------------------


async def test_noop_start_is_one_small_read_of_the_tracking_table_and_no_write_lock(
    db: Database,
) -> None:
    ids = [f"{n:03d}" for n in range(2, 202)]
    await Migrator(db, chain(*ids)).migrate()
    fresh = Migrator(db, chain(*ids))  # as at every application start
    results, statements = await traced(db, fresh.migrate)
    assert results == []
    tracking = [sql for sql in statements if _TOUCHES_TRACKING.search(sql)]
    assert len(tracking) == 1, statements
    assert tracking[0].lstrip().upper().startswith("SELECT")
    assert len(await db.fetch_all(tracking[0])) <= 1  # it does not read the applied rows
    writes = [sql for sql in statements if re.match(r"\s*(BEGIN|INSERT|UPDATE|DELETE)", sql, re.I)]
    assert writes == []
    again, repeat_statements = await traced(db, fresh.migrate)
    assert again == []
    assert len([sql for sql in repeat_statements if _TOUCHES_TRACKING.search(sql)]) == 1


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


async def test_noop_start_still_notices_an_edited_migration(db: Database) -> None:
    await Migrator(db, chain("002")).migrate()
    edited = Migration(id="002", description="x", up=["CREATE TABLE t002 (id INTEGER)"])
    with pytest.raises(ChecksumMismatchError):
        await Migrator(db, [EVENTS, edited]).migrate()


# --- drift, summary, validation ------------------------------------------------------------------


async def test_schema_change_outside_migrations_is_reported_as_drift(db: Database) -> None:
    migrator = Migrator(db, chain("002", "003"))
    await migrator.migrate()
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await db.execute("CREATE TABLE rogue (x)")
    validation = await migrator.validate_migrations()
    assert not validation.is_valid
    (error,) = validation.errors
    assert "changed outside migrations" in error
    assert "003" in error
    await db.execute("DROP TABLE rogue")
    assert (await migrator.validate_migrations()).is_valid
    await db.execute("CREATE INDEX rogue_index ON t002 (id, v)")
    assert not (await migrator.validate_migrations()).is_valid


async def test_whitespace_only_schema_difference_is_not_drift(db: Database) -> None:
    migrator = Migrator(db, chain("002"))
    await migrator.migrate()
    assert (await migrator.validate_migrations()).is_valid


async def test_legitimate_rollbacks_are_not_reported_as_drift(db: Database) -> None:
    migrator = Migrator(db, chain("002", "003", "004"))
    await migrator.migrate()
    await migrator.rollback_last()
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await migrator.rollback_to("001")
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await db.execute("CREATE TABLE rogue (x)")
    assert not (await migrator.validate_migrations()).is_valid


async def test_validate_warns_when_drift_cannot_be_checked(db: Database) -> None:
    migrator = Migrator(db, chain("002"))
    await migrator.migrate()
    # As after a run killed between its last migration and recording the fingerprint.
    await db.execute(f"UPDATE {TRACKING} SET schema_fingerprint = NULL")
    assert await migrator.validate_migrations() == agentsdb.ValidationResult(True, [], [])
    await db.execute("CREATE TABLE rogue (x)")
    validation = await migrator.validate_migrations()
    assert validation.is_valid
    assert validation.errors == []
    (warning,) = validation.warnings
    assert "drift cannot be checked" in warning


async def test_migrate_over_drift_warns_once_naming_the_migration_it_was_found_after(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await Migrator(db, chain("002")).migrate()
    await db.execute("CREATE TABLE rogue (x)")
    with caplog.at_level(logging.WARNING, logger="agentsdb.migrations"):
        assert result_ids(await Migrator(db, chain("002", "003")).migrate()) == ["003"]
    drift_lines = [r.getMessage() for r in caplog.records if "outside migrations" in r.getMessage()]
    assert len(drift_lines) == 1
    assert "002" in drift_lines[0]


async def test_fail_on_drift_refuses_before_any_change(db: Database) -> None:
    await Migrator(db, chain("002")).migrate()
    await db.execute("CREATE TABLE rogue (x)")
    before = await schema(db)
    with pytest.raises(SchemaDriftError, match="changed outside migrations"):
        await Migrator(db, chain("002", "003")).migrate(fail_on_drift=True)
    assert await schema(db) == before
    assert await applied_ids(db) == ["001", "002"]
    await db.execute("DROP TABLE rogue")
    assert result_ids(await Migrator(db, chain("002", "003")).migrate(fail_on_drift=True)) == [
        "003"
    ]


async def test_out_of_order_database_still_gets_the_one_query_start(db: Database) -> None:
    await Migrator(db, chain("003")).migrate()
    late = chain("002", "003")
    await Migrator(db, late).migrate(allow_out_of_order=True)
    assert await applied_ids(db) == ["001", "003", "002"]
    results, statements = await traced(db, Migrator(db, late).migrate)
    assert results == []
    tracking = [sql for sql in statements if _TOUCHES_TRACKING.search(sql)]
    assert len(tracking) == 1, statements


async def test_validate_reports_errors_without_changing_anything(db: Database) -> None:
    assert await Migrator(db, chain("002")).validate_migrations() == agentsdb.ValidationResult(
        True, [], []
    )
    assert await schema(db) == []  # validating a new database creates nothing
    await Migrator(db, chain("002")).migrate()
    edited = Migration(id="002", description="x", up=["CREATE TABLE t002 (id INTEGER)"])
    validation = await Migrator(db, [EVENTS, edited]).validate_migrations()
    assert not validation.is_valid
    assert any("edited after it was applied" in error for error in validation.errors)
    await Migrator(db, [*chain("002"), table_migration("004")]).migrate()
    late = await Migrator(db, [*chain("002", "003"), table_migration("004")]).validate_migrations()
    assert any("sort before the newest applied" in error for error in late.errors)


async def test_summary_reports_version_counts_and_pending_ids(db: Database) -> None:
    migrations = chain("002", "003")
    fresh = await Migrator(db, migrations).get_migration_summary()
    assert fresh == agentsdb.MigrationSummary(None, 3, 0, 3, ["001", "002", "003"])
    assert await schema(db) == []
    await Migrator(db, migrations).migrate(limit=2)
    partial = await Migrator(db, migrations).get_migration_summary()
    assert partial == agentsdb.MigrationSummary("002", 3, 2, 1, ["003"])
    await Migrator(db, migrations).migrate()
    done = await Migrator(db, migrations).get_migration_summary()
    assert (done.current_version, done.applied_migrations, done.pending_migration_ids) == (
        "003",
        3,
        [],
    )


# --- logging -------------------------------------------------------------------------------------


async def test_each_applied_migration_logs_one_info_line_with_its_time(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentsdb.migrations")
    await Migrator(db, chain("002", "003")).migrate()
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "agentsdb.migrations" and record.levelno == logging.INFO
    ]
    assert len(lines) == 3
    for migration_id, line in zip(["001", "002", "003"], lines, strict=True):
        assert re.search(rf"\b{migration_id}\b.* \d+(\.\d+)? ms", line), line
    caplog.clear()
    await Migrator(db, chain("002", "003")).migrate()
    assert [r for r in caplog.records if r.name == "agentsdb.migrations"] == []


# --- two connections in one process --------------------------------------------------------------


async def test_two_connections_racing_apply_each_migration_once(db_path: Path) -> None:
    ids = [f"{n:03d}" for n in range(2, 12)]
    async with (
        agentsdb.connect(str(db_path)) as first,
        agentsdb.connect(str(db_path)) as second,
    ):
        results = await asyncio.gather(
            Migrator(first, chain(*ids)).migrate(), Migrator(second, chain(*ids)).migrate()
        )
        applied = sorted(result_ids(results[0]) + result_ids(results[1]))
        assert applied == ["001", *ids]
        assert await event_counts(first) == dict.fromkeys(ids, 1)
        assert await applied_ids(first) == ["001", *ids]


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


async def test_chains_stay_right_when_a_run_mixes_transactional_and_bare_migrations(
    db: Database,
) -> None:
    migrations = [
        *chain("002"),
        table_migration("003", transactional=False),
        table_migration("004"),
    ]
    migrator = Migrator(db, migrations)
    assert result_ids(await migrator.migrate()) == ["001", "002", "003", "004"]
    rows = await tracking_rows(db)
    assert [row["chain"] for row in rows] == [
        chain_of(migrations[: n + 1], "sqlite") for n in range(4)
    ]
    _, statements = await traced(db, Migrator(db, migrations).migrate)
    assert len([sql for sql in statements if _TOUCHES_TRACKING.search(sql)]) == 1


# --- found wanting in review: repair, rollback order, dirty rollbacks, rehearsal with cascades --


async def test_repairing_an_edited_dirty_migration_keeps_chain_and_checksum_in_agreement(
    db: Database,
) -> None:
    # 003 failed half-way; the operator fixes its SQL (an edit), finishes it by hand and marks it
    # applied. The row's digest and its recorded checksum must describe the same migration, so
    # the one-query start and full validation agree about it.
    await make_dirty(db)
    fixed_003 = Migration(
        id="003",
        description=SIDE_AND_ITEM.description,
        up=["CREATE TABLE side (x INTEGER)", "INSERT OR IGNORE INTO items (name) VALUES ('dup')"],
        down=SIDE_AND_ITEM.down,
        transactional=False,
    )
    fixed = [EVENTS, ITEMS, fixed_003, DIRTY_SET[3]]
    migrator = Migrator(db, fixed)
    await migrator.repair("003", mark_applied=True)
    rows = await tracking_rows(db)
    previous, repaired = rows[-2], rows[-1]
    assert repaired["chain"] == chain_next(previous["chain"], "003", repaired["checksum"])


async def test_no_op_start_and_validation_agree_after_repairing_an_edited_migration(
    db: Database,
) -> None:
    await make_dirty(db)
    fixed_003 = Migration(
        id="003",
        description=SIDE_AND_ITEM.description,
        up=["CREATE TABLE side (x INTEGER)", "INSERT OR IGNORE INTO items (name) VALUES ('dup')"],
        down=SIDE_AND_ITEM.down,
        transactional=False,
    )
    fixed = [EVENTS, ITEMS, fixed_003]
    await Migrator(db, fixed).repair("003", mark_applied=True)
    valid = (await Migrator(db, fixed).validate_migrations()).is_valid
    try:
        await Migrator(db, fixed).migrate()
        started = True
    except ChecksumMismatchError:
        started = False
    assert valid == started, f"validate_migrations valid={valid}, migrate() accepted={started}"


async def test_rollback_to_after_an_out_of_order_apply_does_not_blame_another_process(
    db: Database,
) -> None:
    await Migrator(db, [EVENTS, table_migration("003")]).migrate()
    late = chain("002", "003")
    await Migrator(db, late).migrate(allow_out_of_order=True)
    assert await applied_ids(db) == ["001", "003", "002"]
    refused: AgentsDBError | None = None
    try:
        await Migrator(db, late).rollback_to("002")
    except AgentsDBError as error:
        refused = error
    assert refused is None or "another process" not in str(refused), str(refused)


async def test_dirty_rollback_error_does_not_say_mark_applied_means_it_completed(
    db: Database,
) -> None:
    # A non-transactional migration whose down fails part-way is left dirty. "--mark-applied (it
    # completed)" is the wrong advice for a rollback: if the down did complete, the migration is
    # no longer applied.
    bare = Migration(
        id="002",
        description="bare table",
        up=["CREATE TABLE bare (id INTEGER PRIMARY KEY)"],
        down=["DROP TABLE bare", "DELETE FROM no_such_table"],
        transactional=False,
    )
    migrations = [EVENTS, bare]
    await Migrator(db, migrations).migrate()
    with pytest.raises(MigrationError, match="recorded as dirty"):
        await Migrator(db, migrations).rollback_last()
    assert "bare" not in await names(db)  # the down's first statement ran
    with pytest.raises(DirtyMigrationError) as caught:
        await Migrator(db, migrations).migrate()
    message = str(caught.value)
    assert "roll" in message or "down" in message, message


PARENTS = Migration(
    id="001",
    description="parents and children",
    up=[
        "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE child (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE)",
        "CREATE TABLE other (id INTEGER PRIMARY KEY, v TEXT)",
        "INSERT INTO parent (id) VALUES (1), (2)",
        "INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2)",
    ],
)
REBUILD_OTHER = Migration(
    id="002",
    description="rebuild other",
    up=[
        "CREATE TABLE other_new (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT '')",
        "INSERT INTO other_new (id, v) SELECT id, COALESCE(v, '') FROM other",
        "DROP TABLE other",
        "ALTER TABLE other_new RENAME TO other",
    ],
    foreign_keys=False,
)
DELETE_PARENT = Migration(
    id="003",
    description="drop parent 1 and, by cascade, its children",
    up=["DELETE FROM parent WHERE id = 1"],
)


async def test_rehearsal_agrees_with_migrate_when_a_later_migration_relies_on_cascades(
    db: Database,
) -> None:
    migrations = [PARENTS, REBUILD_OTHER, DELETE_PARENT]
    await Migrator(db, migrations).migrate(limit=1)
    # The real run succeeds: 003's DELETE cascades to child 10 with foreign keys on.
    rehearsal = await Migrator(db, migrations).migrate(rehearse=True)
    assert [result.success for result in rehearsal] == [True, True]


async def test_the_cascade_scenario_really_migrates(db: Database) -> None:
    # Control for the rehearsal test above: the same migrations apply cleanly for real.
    migrations = [PARENTS, REBUILD_OTHER, DELETE_PARENT]
    await Migrator(db, migrations).migrate(limit=1)
    assert [r.migration.id for r in await Migrator(db, migrations).migrate()] == ["002", "003"]
    assert await db.fetch_all("SELECT id FROM child") == [{"id": 20}]
